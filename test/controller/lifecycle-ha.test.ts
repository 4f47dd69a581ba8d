// HA_MODE_LEGACY_ACTIVE_STANDBY with real engine processes (loopback VIP mode): one SE active,
// the other standby (configured, VIP not bound); kill -9 of the active → the standby serves at
// once (no re-placement); the old active, started again on its data dir, comes back as
// standby and the VS stays where it is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { Client, PASSWORD } from './support.js';
import { httpBackend, until, type Backend } from '../engine/support.js';
import { startEngineProcess, type EngineProcess } from '../engine/process.js';

const NET = `127.105.${10 + (process.pid % 100)}`;
let ctl: Controller;
let api: Client;
let dir: string;
const cleanups: Array<() => Promise<unknown> | void> = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-ha-'));
  ctl = await startController({ listen: `${NET}.1:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: `${NET}.128/25`, lifecycle: { seDownTimeoutMs: 2000 } });
  api = new Client(ctl.url);
});

after(async () => {
  for (const c of cleanups.reverse()) await c(); // engines (by PID) and backends
  await ctl?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('legacy active/standby: standby holds the config without the VIP, takes over at once, the returning SE is standby', { timeout: 90_000 }, async () => {
  const ok = (m: string, p: string, b?: unknown) => api.ok(m, p, b);
  const g = await api.create('serviceenginegroup', { name: 'ha-group', se_name_prefix: 'ha', ha_mode: 'HA_MODE_LEGACY_ACTIVE_STANDBY', max_se: 2, min_se: 0, buffer_se: 0, max_scaleout_per_vs: 2 });
  const tooWide = await api.post('/api/serviceenginegroup', { name: 'ha-bad', ha_mode: 'HA_MODE_LEGACY_ACTIVE_STANDBY', max_se: 4, max_scaleout_per_vs: 3 });
  assert.equal(tooWide.status, 400);
  assert.match(tooWide.body.error, /max_scaleout_per_vs/);
  const { token } = await ok('POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});
  const engines = new Map<string, EngineProcess>();
  const startSe = (name: string) => {
    const p = startEngineProcess(['--controller', ctl.url, '--join-token', token, '--data', join(dir, name), '--name', name, '--metrics-listen', `${NET}.1:0`]);
    engines.set(name, p);
    cleanups.push(() => p.stop());
    return p;
  };
  startSe('ha-se-1');
  startSe('ha-se-2');

  const backend: Backend = await httpBackend(`${NET}.2`, 'b1');
  cleanups.push(() => backend.close());
  const pool = await api.create('pool', { name: 'ha-pool', servers: [{ ip: { addr: backend.ip, type: 'V4' }, port: backend.port }] });
  const vsvip = await api.create('vsvip', { name: 'ha-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await api.create('virtualservice', { name: 'ha-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  const get = async () => { try { const r = await fetch(`http://${vip}:8080/`, { signal: AbortSignal.timeout(1000) }); await r.text(); return r.status; } catch { return 0; } };
  const runtime = () => ok('GET', `/api/virtualservice/${vs.uuid}/runtime`);
  const records = async () => new Map<string, any>((await ok('GET', '/api/serviceengine?name.contains=ha-se-')).results.map((s: any) => [s.name, s]));
  const roles = async () => {
    const rt = await runtime();
    return { state: rt.oper_status.state, active: rt.se_list.filter((s: any) => !s.standby).map((s: any) => s.se_name), standby: rt.se_list.filter((s: any) => s.standby).map((s: any) => s.se_name) };
  };

  // One active, one standby: the VS is up (not partitioned) and serves from the active.
  await until('VS up on an active and a standby SE', async () => { const r = await roles(); return r.state === 'OPER_UP' && r.active.length === 1 && r.standby.length === 1; }, 30_000);
  const first = await roles();
  const [active, standby] = [first.active[0], first.standby[0]];
  assert.equal(await get(), 200);
  const recs = await records();
  assert.deepEqual(recs.get(active).placed_vs_uuids, [vs.uuid]);
  assert.deepEqual(recs.get(standby).placed_vs_uuids, [vs.uuid]);
  assert.deepEqual(recs.get(standby).standby_vs_uuids, [vs.uuid]);
  assert.deepEqual(recs.get(active).standby_vs_uuids ?? [], []);
  const rt = await runtime();
  assert.equal(rt.percent_ses_up, 100);
  const seOf = (name: string) => rt.se_list.find((s: any) => s.se_name === name);
  assert.deepEqual([seOf(active).primary, seOf(active).standby, seOf(standby).primary, seOf(standby).standby], [true, false, false, true]);
  // The standby has the snapshot (it says so) but does not serve it.
  const standbyRt = await until('standby confirms', async () => { const r = await ok('GET', `/api/serviceengine/${recs.get(standby).uuid}/runtime`); return r.reported_standby_virtualservices?.length ? r : undefined; }, 10_000);
  assert.deepEqual(standbyRt.standby_virtualservices, [vs.uuid]);
  assert.equal(standbyRt.realtime_metrics, false);
  assert.deepEqual(standbyRt.reported_standby_virtualservices, [vs.uuid]);
  assert.ok(engines.get(standby)!.lines.some((l) => l.msg === 'snapshot applied' && l.standby === 1), 'the standby applied a snapshot holding one standby VS');
  // What each engine serves (its admin /healthz): the VS on the active only.
  const serving = async (name: string) => {
    const adminUrl = engines.get(name)!.lines.find((l) => typeof l.url === 'string' && /metrics at/.test(l.msg))!.url as string;
    const health = (await (await fetch(`${adminUrl}/healthz`)).json()) as { virtualservices: Array<{ uuid: string }> };
    return health.virtualservices.map((v) => v.uuid);
  };
  assert.deepEqual(await serving(active), [vs.uuid]);
  assert.deepEqual(await serving(standby), []);
  const inv = await ok('GET', `/api/virtualservice-inventory/${vs.uuid}`);
  assert.deepEqual(inv.runtime.vip_summary[0].service_engine.map((s: any) => s.standby).sort(), [false, true]);

  // kill -9 of the active: the standby takes over as soon as the active is down (2 s).
  const killedAt = Date.now();
  engines.get(active)!.child.kill('SIGKILL');
  await until('served by the former standby', async () => (await get()) === 200 && (await roles()).active[0] === standby, 20_000);
  console.log(`# active/standby switchover after kill -9 of ${active}: ${Date.now() - killedAt} ms (SE down timeout 2000 ms)`);
  const afterKill = await records();
  assert.deepEqual(afterKill.get(standby).standby_vs_uuids, [], 'the former standby is active');
  assert.deepEqual(afterKill.get(active).placed_vs_uuids, [], 'the dead SE holds nothing');
  await until('switchover event', async () => (await ok('GET', `/api/analytics/events?obj_uuid=${afterKill.get(standby).uuid}`)).results
    .some((e: any) => e.event_id === 'VS_PLACEMENT_CHANGED' && /active for .* \(was standby\)/.test(e.event_description)), 5000);

  // The old active comes back (same data dir, same SE): standby now; no flapping back.
  await engines.get(active)!.exited;
  startSe(active);
  await until('returning SE is standby', async () => {
    const r = await roles();
    return r.state === 'OPER_UP' && r.active[0] === standby && r.standby[0] === active;
  }, 30_000);
  const back = await records();
  assert.deepEqual(back.get(active).standby_vs_uuids, [vs.uuid]);
  assert.deepEqual(back.get(standby).standby_vs_uuids, []);
  for (let i = 0; i < 5; i++) assert.equal(await get(), 200);
  assert.deepEqual((await roles()).active, [standby], 'still active on the SE that took over');
});
