// Kill the leader controller while a service engine and the operator run against two
// replicas (`--controller A,B`, the leader first): traffic keeps flowing, the SE reports to the
// other replica, and the operator's next change (a new Service in its manifest folder) is
// served through the surviving replica.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, startReplica, etcdMissing, until, ADMIN_PASSWORD, type EtcdCluster, type Replica } from '../../support/etcd.js';
import { runPortico, type CliProcess } from '../../support/cli.js';
import { Client } from '../support.js';

const block = `127.90.${240 + (process.pid % 5)}`;
const VIP_CIDR = `127.90.${230 + (process.pid % 5)}.0/24`;
let etcd: EtcdCluster;
const replicas: Replica[] = [];
const procs: CliProcess[] = [];
let backend: Server;
let root: string;

function service(name: string, port: number, backendPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ name: tcp, port: ${port}, targetPort: ${backendPort}, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: tcp, port: ${backendPort}, protocol: TCP }]
endpoints: [{ addresses: ["${block}.10"], conditions: { ready: true } }]
`;
}

/** One TCP exchange: what the backend answers. */
function exchange(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip, port }, () => s.end('ping'));
    let got = '';
    s.setTimeout(3000, () => { s.destroy(); reject(new Error('timeout')); });
    s.on('data', (d) => { got += d; });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

before(async () => {
  if (etcdMissing) return;
  root = mkdtempSync(join(tmpdir(), 'portico-failover-'));
  backend = createServer((s) => { s.on('error', () => undefined); s.end('pong'); }).listen(0, `${block}.10`);
  await new Promise((r) => backend.once('listening', r));
  etcd = await startEtcdCluster();
  for (const name of ['fo-a', 'fo-b']) {
    replicas.push(await startReplica({ endpoints: etcd.endpoints, name, host: `${block}.${replicas.length + 1}`, extra: ['--vip-cidr', VIP_CIDR] }));
  }
});
after(async () => {
  for (const p of procs) await p.stop(5000);
  for (const r of replicas) await r.stop().catch(() => undefined);
  await etcd?.stop();
  backend?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the leader dies: the SE and the operator go on with the other replica', { skip: etcdMissing, timeout: 180_000 }, async () => {
  const backendPort = (backend.address() as { port: number }).port;
  const api = (r: Replica) => new Client(r.url, 'admin', ADMIN_PASSWORD);
  const leaderName = await until('a leader', async () => (await api(replicas[0]!).get('/api/cluster/runtime')).body.node_states.find((n: any) => n.role === 'CLUSTER_LEADER')?.name);
  const leader = replicas.find((r) => r.name === leaderName)!;
  const other = replicas.find((r) => r !== leader)!;
  const list = `${leader.url},${other.url}`;

  const group = await api(leader).byName('serviceenginegroup', 'Default-Group');
  const token = (await api(leader).post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body.token;
  const se = runPortico(['engine', '--controller', list, '--join-token', token, '--name', 'se-failover', '--data', join(root, 'se')]);
  procs.push(se);
  const manifests = join(root, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'one.yaml'), service('fo-one', 9411, backendPort));
  const op = runPortico(['operator', '--controller', list, '--manifests', manifests, '--listen', `${block}.20:0`], { env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: ADMIN_PASSWORD } });
  procs.push(op);

  const vipOf = async (r: Replica, svc: string) => {
    const vs = (await api(r).get(`/api/virtualservice?name.contains=${svc}`)).body.results[0];
    if (!vs) return undefined;
    const vsvip = (await api(r).get(new URL(vs.vsvip_ref).pathname)).body;
    return vsvip.vip?.[0]?.ip_address?.addr as string | undefined;
  };
  const vip1 = await until('fo-one has a VIP', () => vipOf(leader, 'fo-one'), 60_000);
  await until('traffic through fo-one', async () => ((await exchange(vip1, 9411)) === 'pong' ? true : undefined), 60_000);

  // The SE reports to the leader; the follower knows it is alive all the same (shared heartbeats).
  const vs1 = (await api(other).get('/api/virtualservice?name.contains=fo-one')).body.results[0];
  await until('the follower sees the SE connected', async () => {
    const rt = (await api(other).get(`/api/virtualservice/${vs1.uuid}/runtime`)).body;
    return rt.se_list?.[0]?.connected === true ? true : undefined;
  }, 15_000);

  await leader.kill();
  replicas.splice(replicas.indexOf(leader), 1);
  await leader.stop();
  assert.equal(await exchange(vip1, 9411), 'pong', 'the data plane does not need the controller');

  // The operator's next change goes through the surviving replica and reaches the SE from there.
  writeFileSync(join(manifests, 'two.yaml'), service('fo-two', 9412, backendPort));
  const vip2 = await until('fo-two has a VIP (via the other replica)', () => vipOf(other, 'fo-two'), 60_000)
    .catch((e: Error) => assert.fail(`${e.message}\noperator:\n${op.lines.slice(-15).join('\n')}`));
  await until('traffic through fo-two', async () => ((await exchange(vip2, 9412).catch(() => '')) === 'pong' ? true : undefined), 60_000);
  // The SE reports to the survivor.
  const vs2 = (await api(other).get('/api/virtualservice?name.contains=fo-two')).body.results[0];
  await until('the SE is connected to the survivor', async () => {
    const rt = (await api(other).get(`/api/virtualservice/${vs2.uuid}/runtime`)).body;
    return rt.se_list?.[0]?.connected === true ? true : undefined;
  }, 30_000);
  const view = (await api(other).get('/api/cluster/runtime')).body;
  assert.equal(view.node_states.find((n: any) => n.role === 'CLUSTER_LEADER')?.name, other.name);
});
