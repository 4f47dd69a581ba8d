// The local cloud with real engine processes: SEs created for a new group and removed down to
// buffer_se, kill -9 of the SE holding a VS → re-placed and serving again, and the analytics
// (runtime, health score, events, metrics series) of traffic this test sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Controller } from '../../src/controller/server.js';
import { Client, startLocalCloud } from './support.js';
import { httpBackend, until, type Backend } from '../engine/support.js';

const NET = `127.70.${10 + (process.pid % 200)}`;
let ctl: Controller;
let api: Client;
let dir: string;
const backends: Backend[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-lifecycle-'));
  ctl = await startLocalCloud(NET, dir);
  api = new Client(ctl.url);
});

after(async () => {
  await ctl?.close(); // stops the engines it started (by PID)
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = (method: string, path: string, body?: unknown) => api.ok(method, path, body);
const groupEngines = () => [...ctl.lifecycle.localCloud!.pids()].filter(([n]) => n.startsWith('lc-se-'));

test('local cloud, placement, failover and analytics with real engines', { timeout: 120_000 }, async () => {
  // Only this test's group gets engines.
  const dns = (await ok('GET', '/api/virtualservice?name=local-dns-vs')).results[0];
  await ok('PATCH', `/api/virtualservice/${dns.uuid}`, { replace: { enabled: false } });
  const dg = (await ok('GET', '/api/serviceenginegroup?name=Default-Group')).results[0];
  await ok('PATCH', `/api/serviceenginegroup/${dg.uuid}`, { replace: { min_se: 0, buffer_se: 0 } });

  const bad = await api.post('/api/serviceenginegroup', { name: 'bad', min_scaleout_per_vs: 3, max_scaleout_per_vs: 2 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /min_scaleout_per_vs/);

  const g = await api.create('serviceenginegroup', { name: 'lc-group', se_name_prefix: 'lc', min_se: 0, buffer_se: 1, max_se: 4, max_vs_per_se: 1, max_scaleout_per_vs: 2 });
  await until('the buffer SE joins', async () => (await ok('GET', '/api/serviceengine?name=lc-se-1')).results[0]?.se_connected === true, 30_000);
  assert.equal(groupEngines().length, 1);

  backends.push(await httpBackend(`${NET}.2`, 'b1'), await httpBackend(`${NET}.3`, 'b2'));
  const hm = await api.create('healthmonitor', { name: 'lc-tcp', type: 'HEALTH_MONITOR_TCP', send_interval: 1, receive_timeout: 1, successful_checks: 1, failed_checks: 1 });
  const pool = await api.create('pool', { name: 'lc-pool', health_monitor_refs: [`/api/healthmonitor/${hm.uuid}`], servers: backends.map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
  const vsvip = await api.create('vsvip', { name: 'lc-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await api.create('virtualservice', { name: 'lc-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  const get = async () => { try { const r = await fetch(`http://${vip}:8080/`, { signal: AbortSignal.timeout(1000) }); await r.text(); return r.status; } catch { return 0; } };

  // Needed 1 + buffer 1: a second engine starts; the VS serves.
  await until('VS up', async () => (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).oper_status.state === 'OPER_UP', 30_000);
  await until('second engine', () => groupEngines().length === 2, 15_000);
  for (let i = 0; i < 20; i++) assert.equal(await get(), 200);

  // Metrics: the 20 responses show up in the 5 s series.
  await until('metrics series', async () => {
    const m = await ok('GET', `/api/analytics/metrics/virtualservice/${vs.uuid}?metric_id=l7_client.sum_total_responses,l4_client.avg_bandwidth,l7_client.avg_resp_2xx&step=5&limit=60`);
    return m.series[0].data.reduce((a: number, p: any) => a + p.value, 0) >= 20 && m.series[1].data.some((p: any) => p.value > 0);
  }, 20_000);
  // Request logs: a sample of the 20 (every 10th), with client, URI, status, server.
  await until('request logs', async () => (await ok('GET', `/api/analytics/logs?virtualservice=${vs.uuid}`)).count >= 2, 10_000);
  const log = (await ok('GET', `/api/analytics/logs?virtualservice=${vs.uuid}&page_size=1`)).results[0];
  assert.equal(log.uri_path, '/');
  assert.equal(log.response_code, 200);
  assert.match(log.client_ip, /^127\./);
  assert.ok(backends.some((b) => log.server_ip === `${b.ip}:${b.port}`), JSON.stringify(log));
  // SE state: connected, heartbeat age, resources, what it holds.
  const seName = (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).se_list[0].se_uuid;
  const seRt = await ok('GET', `/api/serviceengine/${seName}/runtime`);
  assert.equal(seRt.se_connected, true);
  assert.deepEqual(seRt.virtualservices, [vs.uuid]);
  assert.equal(seRt.version_mismatch, false);
  assert.ok(seRt.heartbeat_age_ms >= 0 && seRt.memory_bytes > 0, JSON.stringify(seRt));
  const badMetric = await api.get(`/api/analytics/metrics/virtualservice/${vs.uuid}?metric_id=nope`);
  assert.equal(badMetric.status, 400);
  assert.match(badMetric.body.error, /metric_id: nope/);

  // A server taken down by its monitor: runtime, health score and events show it.
  await backends[1].close();
  await until('server down', async () => (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).servers.some((s: any) => s.state === 'DOWN'), 15_000);
  const h = await ok('GET', `/api/analytics/healthscore/virtualservice/${vs.uuid}`);
  assert.equal(h.health_score, 50);
  assert.ok(h.factors.some((f: string) => /pool servers up: 1 of 2/.test(f)), JSON.stringify(h));
  const inv = await ok('GET', `/api/virtualservice-inventory/${vs.uuid}`);
  assert.equal(inv.health_score.health_score, 50);
  await until('SERVER_DOWN event', async () => (await ok('GET', '/api/analytics/logs?type=2')).results.some((e: any) => e.event_id === 'SERVER_DOWN'), 5000);

  // kill -9 of the SE holding the VS: it moves to the other SE and serves again.
  const holder = (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).se_list[0].se_name as string;
  const pid = ctl.lifecycle.localCloud!.pids().get(holder)!;
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await until('serving again', async () => (await get()) === 200, 30_000);
  const gap = Date.now() - killedAt;
  console.log(`# re-placement gap after kill -9 of ${holder}: ${gap} ms (SE down timeout 2000 ms)`);
  const rt = await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`);
  assert.notEqual(rt.se_list[0].se_name, holder);
  const events = (await ok('GET', '/api/analytics/logs?type=2')).results.map((e: any) => e.event_id);
  assert.ok(events.includes('SE_DOWN'), events.join());
  assert.ok(events.includes('VS_PLACEMENT_CHANGED'), events.join());

  // Scale out to a second SE, then back.
  const so = await ok('POST', `/api/virtualservice/${vs.uuid}/scaleout`, {});
  assert.equal(so.num_se_requested, 2);
  const tooFar = await api.post(`/api/virtualservice/${vs.uuid}/scaleout`, {});
  assert.equal(tooFar.status, 400);
  assert.match(tooFar.body.error, /max_scaleout_per_vs/);
  await ok('POST', `/api/virtualservice/${vs.uuid}/scalein`, {});

  // No VS left: idle engines go, down to buffer_se.
  await ok('DELETE', `/api/virtualservice/${vs.uuid}`);
  await until('down to buffer_se', async () => groupEngines().length === 1 && (await ok('GET', '/api/serviceengine?name.contains=lc-se-')).count === 1, 30_000);
});

test('placement spreads 100 VSes over 4 real SEs within max_vs_per_se; a VS that does not fit is OPER_DOWN until capacity appears', { timeout: 120_000 }, async () => {
  const g = await api.create('serviceenginegroup', { name: 'spread', se_name_prefix: 'sp', min_se: 4, max_se: 4, buffer_se: 0, max_vs_per_se: 25 });
  const pool = await api.create('pool', { name: 'spread-pool', servers: [{ ip: { addr: backends[0].ip, type: 'V4' }, port: backends[0].port }] });
  const vsBody = (i: number, vip: string) => ({ name: `spread-${i}`, se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vip}`, pool_ref: `/api/pool/${pool.uuid}`, application_profile_ref: '/api/applicationprofile?name=System-L4-Application', network_profile_ref: '/api/networkprofile?name=System-TCP-Proxy', services: [{ port: 9100 }] });
  const create = async (i: number) => {
    const vip = await api.create('vsvip', { name: `spread-vip-${i}`, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    return api.create('virtualservice', vsBody(i, vip.uuid));
  };
  for (let i = 0; i < 100; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => create(i + k)));
  const placed = async () => (await ok('GET', '/api/serviceengine?name.contains=sp-se-&page_size=10')).results.map((s: any) => (s.placed_vs_uuids ?? []).length as number);
  await until('100 VSes on 4 SEs', async () => { const p = await placed(); return p.length === 4 && p.reduce((a: number, b: number) => a + b, 0) === 100; }, 60_000);
  assert.deepEqual(await placed(), [25, 25, 25, 25]);
  const upCount = async () => (await ok('GET', '/api/virtualservice-inventory?name.contains=spread-&page_size=200')).results.filter((r: any) => r.runtime.oper_status.state === 'OPER_UP').length;
  await until('all 100 up on their SEs', async () => (await upCount()) === 100, 60_000);

  // The group is full: one more is OPER_DOWN with the reason, and placed once there is room.
  const extra = await create(100);
  await until('101st down with the reason', async () => {
    const rt = await ok('GET', `/api/virtualservice/${extra.uuid}/runtime`);
    return rt.oper_status.state === 'OPER_DOWN' && rt.oper_status.reason.some((r: string) => /SE group spread is full: 4 service engine\(s\) up, max_vs_per_se 25/.test(r));
  }, 10_000);
  const before = (await ok('GET', '/api/serviceengine?name.contains=sp-se-&page_size=10')).results.map((s: any) => s.placed_vs_uuids);
  await ok('PATCH', `/api/serviceenginegroup/${g.uuid}`, { replace: { max_vs_per_se: 26 } });
  await until('101st up', async () => (await ok('GET', `/api/virtualservice/${extra.uuid}/runtime`)).oper_status.state === 'OPER_UP', 30_000);
  const after = (await ok('GET', '/api/serviceengine?name.contains=sp-se-&page_size=10')).results.map((s: any) => s.placed_vs_uuids);
  before.forEach((list: string[], i: number) => assert.ok(list.every((v) => after[i].includes(v)), 'no VS moved'));

  // Scaled out to two SEs; a new leader's placement (a restart, a failover) keeps it so.
  assert.equal((await ok('POST', `/api/virtualservice/${extra.uuid}/scaleout`, {})).num_se_requested, 2);
  await until('on two SEs', async () => (await ok('GET', `/api/virtualservice/${extra.uuid}/runtime`)).se_list.length === 2, 10_000);
  const { PlacementManager } = await import('../../src/controller/placement/manager.js');
  const { EngineRegistry } = await import('../../src/controller/engines/registry.js');
  const { engineRegistryOf } = await import('../../src/controller/engines/routes.js');
  const registry = Object.assign(new EngineRegistry(), { engines: engineRegistryOf(ctl.app)!.engines });
  const next = new PlacementManager(ctl.host, registry);
  try {
    await next.runNow();
    assert.equal(next.sesOf(extra.uuid)?.length, 2);
  } finally {
    await next.close();
  }
});
