// `portico store migrate --from sqlite:DIR --to etcd:URL` copies a running SQLite
// installation into etcd: objects, VIP claims, refs and the admin password arrive; a target
// that holds a store is refused without --replace; bad flags are 2 with a message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, Client, PASSWORD, type TestController } from '../support.js';
import { startEtcdCluster, startReplica, etcdMissing, type EtcdCluster, type Replica } from '../../support/etcd.js';
import { runPortico } from '../../support/cli.js';

let etcd: EtcdCluster;
let source: TestController;
let replica: Replica | undefined;

before(async () => {
  if (etcdMissing) return;
  etcd = await startEtcdCluster();
});
after(async () => {
  await replica?.stop();
  await source?.stop();
  await etcd?.stop();
});

const migrate = async (args: string[]) => {
  const p = runPortico(['store', 'migrate', ...args]);
  const code = await p.exited;
  return { code, out: p.lines.join('\n') };
};

test('bad flags: exit 2 naming the flag', async () => {
  let r = await migrate(['--from', '/tmp/x', '--to', 'etcd:http://127.90.0.1:2379']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--from: .*sqlite:DIR/);
  r = await migrate(['--from', 'sqlite:/nonexistent-portico', '--to', 'etcd:http://127.90.0.1:2379']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--from: no SQLite store/);
  r = await migrate(['--from', 'sqlite:/tmp', '--to', 'etcd:']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--to: give at least one etcd URL/);
});

test('a running SQLite installation moves to etcd whole', { skip: etcdMissing, timeout: 120_000 }, async () => {
  // The source's default VIP range (127.77.0.0/24) would clash with nothing here: it is only data.
  source = await startTestController();
  const api = source.api;
  const pool = await api.create('pool', { name: 'moved-pool', servers: [{ ip: { type: 'V4', addr: '10.5.0.1' }, port: 80 }] });
  const vip = await api.create('vsvip', { name: 'moved-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vs = await api.create('virtualservice', { name: 'moved-vs', vsvip_ref: `/api/vsvip/${vip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });
  const counts = Object.fromEntries(await Promise.all(['pool', 'vsvip', 'virtualservice', 'user', 'cloud', 'sslkeyandcertificate'].map(async (t) => [t, (await api.get(`/api/${t}`)).body.count])));

  const to = `etcd:${etcd.endpoints.join(',')}`;
  const r = await migrate(['--from', `sqlite:${source.dir}`, '--to', to]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Migrated \d+ objects/);
  assert.doesNotMatch(r.out, /PRIVATE KEY|\$scrypt|password/i);

  const again = await migrate(['--from', `sqlite:${source.dir}`, '--to', to]);
  assert.equal(again.code, 1);
  assert.match(again.out, /already holds a Portico store.*--replace/);

  replica = await startReplica({ endpoints: etcd.endpoints, name: 'migrated', host: `127.90.${247 + (process.pid % 3)}.1` });
  const target = new Client(replica.url, 'admin', PASSWORD); // the source's admin password came along
  for (const [t, n] of Object.entries(counts)) assert.equal((await target.get(`/api/${t}`)).body.count, n, `${t} count`);
  const vipThere = (await target.get(`/api/vsvip/${vip.uuid}`)).body;
  assert.deepEqual(vipThere.vip[0].ip_address, vip.vip[0].ip_address);
  assert.equal((await target.get(`/api/virtualservice/${vs.uuid}`)).status, 200);
  // Claims came along: the same address is not handed out again; refs too: a referenced pool stays.
  const next = await target.create('vsvip', { name: 'after-move', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  assert.notEqual(next.vip[0].ip_address.addr, vip.vip[0].ip_address.addr);
  const del = await target.del(`/api/pool/${pool.uuid}`);
  assert.equal(del.status, 409);
});
