// Request-log samples survive failed heartbeats: the engine keeps what a failed heartbeat
// carried and sends it with the next one. A real engine serves while its controller is down;
// the controller, started again on its data dir and port, lists every sample of the outage once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { startEngine, withUnsent, type Engine } from '../../src/engine/agent/agent.js';
import { Client, PASSWORD } from './support.js';
import { httpBackend, silentLog, until, type Backend } from '../engine/support.js';

const NET = `127.105.${110 + (process.pid % 100)}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-reqlogs-'));
let ctl: Controller | undefined;
let engine: Engine | undefined;
let backend: Backend | undefined;

after(async () => {
  await engine?.stop();
  await ctl?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = (port = 0) => startController({ listen: `${NET}.1:${port}`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: `${NET}.128/25`, lifecycle: { seDownTimeoutMs: 2000 } });

test('request-log samples of heartbeats that failed are sent with the next one', { timeout: 60_000 }, async () => {
  ctl = await start();
  let api = new Client(ctl.url);
  const g = await api.create('serviceenginegroup', { name: 'rl-group', se_name_prefix: 'rl', min_se: 0, buffer_se: 0 });
  const { token } = await api.ok('POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});
  engine = await startEngine({ controller: ctl.url, joinToken: token, name: 'rl-se', dataDir: join(dir, 'se'), metricsListen: `${NET}.1:0`, log: silentLog, longPollSeconds: 5 });
  // Every error response is sampled: a backend answering 503 makes each request a sample.
  backend = await httpBackend(`${NET}.2`, 'b1', 503);
  const pool = await api.create('pool', { name: 'rl-pool', servers: [{ ip: { addr: backend.ip, type: 'V4' }, port: backend.port }] });
  const vsvip = await api.create('vsvip', { name: 'rl-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await api.create('virtualservice', { name: 'rl-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  const get = async (path: string) => { const r = await fetch(`http://${vip}:8080${path}`, { signal: AbortSignal.timeout(2000) }); await r.text(); return r.status; };
  await until('VS serves', async () => (await get('/before').catch(() => 0)) === 503, 20_000);
  const uris = async () => (await api.ok('GET', `/api/analytics/logs?virtualservice=${vs.uuid}&page_size=1000`)).results.map((l: any) => l.uri_path as string);
  await until('a sample arrives', async () => (await uris()).includes('/before'), 10_000);

  // Controller down: the engine goes on serving; the heartbeat with these samples fails.
  const port = ctl.port;
  await ctl.close();
  ctl = undefined;
  for (const p of ['/outage-1', '/outage-2', '/outage-3']) assert.equal(await get(p), 503);
  await until('a heartbeat carrying the samples failed', () => engine!.unsentRequestLogs() >= 3, 15_000);

  ctl = await start(port);
  api = new Client(ctl.url);
  await until('the outage samples arrive', async () => { const u = await uris(); return ['/outage-1', '/outage-2', '/outage-3'].every((p) => u.includes(p)); }, 30_000);
  const u = await uris();
  for (const p of ['/outage-1', '/outage-2', '/outage-3']) assert.equal(u.filter((x: string) => x === p).length, 1, `${p} listed once: ${u.join(' ')}`);
  assert.equal(engine.unsentRequestLogs(), 0);
});

test('unsent samples are bounded: the newest 1,000 are kept', () => {
  const n = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
  assert.deepEqual(withUnsent([1, 2], []), [1, 2]);
  assert.deepEqual(withUnsent([], [3]), [3]);
  const kept = withUnsent(n(0, 900), n(900, 300));
  assert.equal(kept.length, 1000);
  assert.equal(kept[0], 200, 'the oldest go first');
  assert.equal(kept[999], 1199);
  assert.equal(withUnsent([], n(0, 1500)).length, 1000);
});
