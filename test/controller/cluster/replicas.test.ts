// Replicated controllers: three `portico controller --store etcd` processes on a real
// three-member etcd cluster. Roles and cluster state, VIP allocations across replicas that
// never collide, one name created once, leader failover within the lease time, and etcd faults
// (one member down: all works; two down: writes 503, reads work; members back: writes again).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcdCluster, startReplica, etcdMissing, until, ADMIN_PASSWORD, type EtcdCluster, type Replica } from '../../support/etcd.js';
import { Client } from '../support.js';

const LEASE_S = 2;
let etcd: EtcdCluster;
const replicas: Replica[] = [];
const hostBase = `127.90.${251 + (process.pid % 4)}`;
const api = (r: Replica) => new Client(r.url, 'admin', ADMIN_PASSWORD);
const runtime = async (r: Replica) => (await api(r).get('/api/cluster/runtime')).body;

before(async () => {
  if (etcdMissing) return;
  etcd = await startEtcdCluster();
  // One after the other: the first seeds the empty store, the others find it seeded.
  for (const name of ['ctl-a', 'ctl-b', 'ctl-c']) {
    replicas.push(await startReplica({ endpoints: etcd.endpoints, name, host: `${hostBase}.${replicas.length + 1}`, leaseTtlS: LEASE_S }));
  }
});
after(async () => {
  for (const r of replicas) await r.stop().catch(() => undefined);
  await etcd?.stop();
});

test('every replica shows the three nodes, one leader, CLUSTER_UP_HA_ACTIVE', { skip: etcdMissing }, async () => {
  const views = await until('a leader is elected', async () => {
    const vs = await Promise.all(replicas.map(runtime));
    return vs.every((v) => v.node_states.filter((n: any) => n.role === 'CLUSTER_LEADER').length === 1) ? vs : undefined;
  });
  for (const v of views) {
    assert.equal(v.cluster_state.state, 'CLUSTER_UP_HA_ACTIVE');
    assert.deepEqual(v.node_states.map((n: any) => [n.name, n.state]), [['ctl-a', 'CLUSTER_ACTIVE'], ['ctl-b', 'CLUSTER_ACTIVE'], ['ctl-c', 'CLUSTER_ACTIVE']]);
    assert.equal(v.node_states.find((n: any) => n.role === 'CLUSTER_LEADER').name, views[0].node_states.find((n: any) => n.role === 'CLUSTER_LEADER').name);
  }
  // One seeding for all: one Default-Cloud, one admin user.
  assert.equal((await api(replicas[2]!).get('/api/cloud?name=Default-Cloud')).body.count, 1);
  assert.equal((await api(replicas[1]!).get('/api/user?name=admin')).body.count, 1);
});

test('concurrent VIP allocations across replicas never collide; exhaustion is a 400', { skip: etcdMissing }, async () => {
  const net = await api(replicas[0]!).create('network', {
    name: 'race-net', configured_subnets: [{ prefix: { ip_addr: { type: 'V4', addr: '10.77.0.0' }, mask: 24 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: { type: 'V4', addr: '10.77.0.1' }, end: { type: 'V4', addr: '10.77.0.30' } } }] }],
  });
  await until('the network reached every replica', async () => ((await Promise.all(replicas.map((r) => api(r).byName('network', 'race-net')))).every(Boolean) ? true : undefined));
  const body = (i: number) => ({ name: `race-vip-${i}`, vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: `/api/network/${net.uuid}` } }] });
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => api(replicas[i % 3]!).post('/api/vsvip', body(i))));
  for (const r of results) assert.equal(r.status, 201, JSON.stringify(r.body));
  const ips = results.map((r) => r.body.vip[0].ip_address.addr);
  assert.equal(new Set(ips).size, 30, `30 distinct VIPs: ${ips.join(' ')}`);
  const more = await api(replicas[1]!).post('/api/vsvip', body(30));
  assert.equal(more.status, 400);
  assert.match(more.body.error, /No available free IPs/);
});

test('one name created at once on every replica: exactly one 201, the others 409', { skip: etcdMissing }, async () => {
  const rs = await Promise.all(replicas.flatMap((r) => [0, 1].map(() => api(r).post('/api/pool', { name: 'same-name-pool' }))));
  assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  for (const r of rs.filter((x) => x.status === 409)) assert.match(r.body.error, /already exists/);
});

test('kill -9 of the leader in a write loop: acknowledged writes are kept whole, another replica leads within the lease time', { skip: etcdMissing }, async (t) => {
  const v = await runtime(replicas[0]!);
  const leaderName = v.node_states.find((n: any) => n.role === 'CLUSTER_LEADER').name;
  const leader = replicas.find((r) => r.name === leaderName)!;
  const others = replicas.filter((r) => r !== leader);
  const acked: string[] = [];
  let n = 0;
  let killedAt = 0;
  const writer = async () => {
    while (!killedAt) {
      const name = `loop-${n++}`;
      const r = await api(leader).post('/api/pool', { name, description: `body of ${name}`, servers: [1, 2, 3].map((i) => ({ ip: { type: 'V4', addr: `10.9.0.${i}` }, port: 8000 + i })) }).catch(() => undefined);
      if (r?.status === 201) acked.push(name);
      if (acked.length >= 30 && !killedAt) { killedAt = Date.now(); await leader.kill(); }
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  await until('a new leader', async () => {
    const x = await runtime(others[0]!);
    const l = x.node_states.find((n: any) => n.role === 'CLUSTER_LEADER');
    return l && l.name !== leaderName ? x : undefined;
  }, LEASE_S * 1000 * 5);
  const tookMs = Date.now() - killedAt;
  replicas.splice(replicas.indexOf(leader), 1);
  // The dead node's live key expires with its own lease, at about the same time.
  const after = await until('the dead node shown inactive', async () => {
    const x = await runtime(others[1]!);
    return x.cluster_state.state === 'CLUSTER_UP_HA_COMPROMISED' ? x : undefined;
  }, LEASE_S * 1000 * 5);
  assert.equal(after.node_states.find((n: any) => n.name === leaderName).state, 'CLUSTER_INACTIVE');
  const stored = new Map<string, any>();
  for (const p of (await api(others[0]!).get('/api/pool?name.contains=loop-&page_size=200')).body.results) stored.set(p.name, p);
  for (const name of acked) assert.ok(stored.has(name), `acknowledged ${name} is there`);
  for (const [name, p] of stored) assert.equal(p.description, `body of ${name}`, `${name} whole`);
  const created = await api(others[1]!).create('pool', { name: 'after-failover' });
  assert.ok(await until('seen on the other survivor', async () => api(others[0]!).byName('pool', 'after-failover')));
  assert.ok(created.uuid);
  t.diagnostic(`leader failover took ${tookMs} ms (lease ${LEASE_S} s)`);
  await leader.stop();
});

test('etcd faults: one member down works; two down: writes 503, reads work; members back: writes again', { skip: etcdMissing, timeout: 120_000 }, async () => {
  const [r1, r2] = replicas as [Replica, Replica];
  await etcd.kill(0);
  const one = await api(r1).create('pool', { name: 'one-member-down' });
  assert.ok(await until('replicated with one member down', async () => api(r2).byName('pool', 'one-member-down')));
  await etcd.kill(1);
  const w = await api(r2).post('/api/pool', { name: 'no-quorum' });
  assert.equal(w.status, 503, JSON.stringify(w.body));
  assert.match(w.body.error, /store unavailable: etcd .*majority of the etcd members/);
  const read = await api(r1).get(`/api/pool/${one.uuid}`);
  assert.equal(read.status, 200, 'reads of what the replica holds work');
  const rt = await runtime(r1);
  assert.equal(rt.store.available, false);
  assert.equal(rt.cluster_state.state, 'CLUSTER_UP_HA_COMPROMISED');
  assert.match(rt.cluster_state.reason, /etcd does not answer/);
  assert.equal((await api(r2).get('/api/pool?name=no-quorum')).body.count, 0, 'the failed write is not in the copy');
  await etcd.restart(0);
  await etcd.restart(1);
  const back = await until('writes work again', async () => {
    const r = await api(r2).post('/api/pool', { name: 'quorum-back' });
    return r.status === 201 ? r : r.status === 503 ? undefined : assert.fail(`${r.status} ${JSON.stringify(r.body)}`);
  }, 60_000);
  assert.ok(back.body.uuid);
  await until('both replicas agree', async () => {
    const [a, b] = await Promise.all([r1, r2].map(async (r) => (await api(r).get('/api/pool?page_size=200&fields=name')).body.results.map((p: any) => p.name).sort().join()));
    return a === b && a.includes('quorum-back') ? true : undefined;
  });
  // etcd may still apply a write whose deadline passed (the message says so): whole or not at all, the same everywhere.
  const [x, y] = await Promise.all([r1, r2].map(async (r) => (await api(r).get('/api/pool?name=no-quorum')).body.results));
  assert.deepEqual(x.map((p: any) => p.uuid), y.map((p: any) => p.uuid));
  assert.ok(x.length <= 1);
});
