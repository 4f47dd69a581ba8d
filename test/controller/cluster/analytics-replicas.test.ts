// Analytics with replicated controllers (etcd): an SE that reports to a follower is not lost.
// Two controller processes on one etcd member; the engine talks to the follower only; the
// metrics series, request logs and events of its traffic are listed by both replicas.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, etcdMissing, startEtcdCluster, startReplica, type EtcdCluster, type Replica } from '../../support/etcd.js';
import { startEngineProcess, type EngineProcess } from '../../engine/process.js';
import { httpBackend, until, type Backend } from '../../engine/support.js';
import { Client } from '../support.js';

const BLOCK = `127.105.${210 + (process.pid % 40)}`;
const cleanups: Array<() => Promise<unknown> | void> = [];

after(async () => { for (const c of cleanups.reverse()) await c(); });

test('metrics, request logs and events of an SE reporting to a follower are on every replica', { skip: etcdMissing, timeout: 120_000 }, async () => {
  const etcd: EtcdCluster = await startEtcdCluster(1, { block: BLOCK });
  cleanups.push(() => etcd.stop());
  const replica = async (name: string, host: string) => {
    const r = await startReplica({ endpoints: etcd.endpoints, name, host, extra: ['--vip-cidr', `${BLOCK}.128/25`] });
    cleanups.push(() => r.stop());
    return r;
  };
  const a: Replica = await replica('an-a', `${BLOCK}.10`);
  const apiA = new Client(a.url, 'admin', ADMIN_PASSWORD);
  await until('a leads', async () => (await apiA.ok('GET', '/api/cluster/runtime')).node_info.role === 'CLUSTER_LEADER', 30_000);
  const b: Replica = await replica('an-b', `${BLOCK}.11`);
  const apiB = new Client(b.url, 'admin', ADMIN_PASSWORD);
  assert.equal((await apiB.ok('GET', '/api/cluster/runtime')).node_info.role, 'CLUSTER_FOLLOWER');

  const g = await apiA.create('serviceenginegroup', { name: 'an-group', se_name_prefix: 'an', min_se: 0, buffer_se: 0 });
  const { token } = await apiB.ok('POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});
  const seDir = mkdtempSync(join(tmpdir(), 'portico-an-se-'));
  cleanups.push(() => rmSync(seDir, { recursive: true, force: true }));
  const se: EngineProcess = startEngineProcess(['--controller', b.url, '--join-token', token, '--data', seDir, '--name', 'an-se-1', '--metrics-listen', `${BLOCK}.11:0`]);
  cleanups.push(() => se.stop());
  const backend: Backend = await httpBackend(`${BLOCK}.2`, 'b1');
  cleanups.push(() => backend.close());
  const pool = await apiA.create('pool', { name: 'an-pool', servers: [{ ip: { addr: backend.ip, type: 'V4' }, port: backend.port }] });
  const vsvip = await apiA.create('vsvip', { name: 'an-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await apiA.create('virtualservice', { name: 'an-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  const get = async (path = '/x') => { try { const r = await fetch(`http://${vip}:8080${path}`, { signal: AbortSignal.timeout(1000) }); await r.text(); return r.status; } catch { return 0; } };
  await until('VS serves', async () => (await get('/warmup')) === 200, 30_000);
  for (let i = 0; i < 30; i++) assert.equal(await get(), 200);

  for (const [name, api] of [['leader', apiA], ['follower', apiB]] as const) {
    await until(`${name}: 30 responses in the 5 s series`, async () => {
      const m = await api.ok('GET', `/api/analytics/metrics/virtualservice/${vs.uuid}?metric_id=l7_client.sum_total_responses&step=5&limit=60`);
      return m.series[0].data.reduce((s: number, p: any) => s + p.value, 0) >= 31;
    }, 30_000);
    // Every 10th request is sampled: 3 of the 30 to /x, none twice.
    const samples = async () => (await api.ok('GET', `/api/analytics/logs?virtualservice=${vs.uuid}&page_size=100`)).results.filter((l: any) => l.uri_path === '/x');
    await until(`${name}: request-log samples`, async () => (await samples()).length >= 3, 15_000);
    const logs = await samples();
    assert.equal(logs.length, 3, `${name}: ${JSON.stringify(logs)}`);
    assert.ok(logs.every((l: any) => l.service_engine === 'an-se-1' && l.response_code === 200));
    await until(`${name}: placement event`, async () => (await api.ok('GET', '/api/analytics/events')).results.some((e: any) => e.event_id === 'VS_PLACEMENT_CHANGED' && e.obj_name === 'an-se-1'), 15_000);
  }
});
