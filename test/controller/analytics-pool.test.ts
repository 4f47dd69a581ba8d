// Analytics per pool and per pool server, open connections, and OPER_PARTITIONED, with a
// controller running real engine processes (the local cloud, as in lifecycle.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import type { Controller } from '../../src/controller/server.js';
import { Client, startLocalCloud } from './support.js';
import { httpBackend, until, type Backend } from '../engine/support.js';

const NET = `127.83.${10 + (process.pid % 200)}`;
let ctl: Controller;
let api: Client;
let dir: string;
const backends: Backend[] = [];
const held: Socket[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-analytics-pool-'));
  ctl = await startLocalCloud(NET, dir);
  api = new Client(ctl.url);
});

after(async () => {
  for (const s of held) s.destroy();
  await ctl?.close(); // stops the engines it started (by PID)
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = (method: string, path: string, body?: unknown) => api.ok(method, path, body);
const total = (series: any) => series.data.reduce((a: number, p: any) => a + p.value, 0);

test('metrics per pool and server, max open connections, and a scaled-out VS up on one SE only is OPER_PARTITIONED', { timeout: 90_000 }, async () => {
  const dns = (await ok('GET', '/api/virtualservice?name=local-dns-vs')).results[0];
  await ok('PATCH', `/api/virtualservice/${dns.uuid}`, { replace: { enabled: false } });
  const dg = (await ok('GET', '/api/serviceenginegroup?name=Default-Group')).results[0];
  await ok('PATCH', `/api/serviceenginegroup/${dg.uuid}`, { replace: { min_se: 0, buffer_se: 0 } });
  // Realtime metrics on (for good): the pool and server series at 5 s.
  const g = await api.create('serviceenginegroup', { name: 'ap-group', se_name_prefix: 'ap', min_se: 2, buffer_se: 0, max_se: 2, max_scaleout_per_vs: 2, realtime_se_metrics: { enabled: true, duration: 0 } });

  backends.push(await httpBackend(`${NET}.2`, 'b1'), await httpBackend(`${NET}.3`, 'b2'));
  const pool = await api.create('pool', { name: 'ap-pool', lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: backends.map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
  const vsvip = await api.create('vsvip', { name: 'ap-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await api.create('virtualservice', { name: 'ap-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  await until('VS up', async () => (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).oper_status.state === 'OPER_UP', 30_000);

  for (let i = 0; i < 20; i++) {
    const r = await fetch(`http://${vip}:8080/`);
    assert.equal(r.status, 200);
    await r.text();
  }
  // Two client connections held open across a heartbeat and a 5 s bucket.
  for (let i = 0; i < 2; i++) {
    const s = connect(8080, vip);
    held.push(s);
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
  }

  const [b1, b2] = backends.map((b) => `${b.ip}:${b.port}`) as [string, string];
  await until('pool series', async () => {
    const m = await ok('GET', `/api/analytics/metrics/pool/${pool.uuid}?metric_id=l7_server.sum_total_responses,l4_server.avg_bandwidth,l4_server.avg_health&step=5&limit=60`);
    return m.metric_entity === 'POOL_METRICS_ENTITY' && total(m.series[0]) >= 20 && m.series[1].data.some((p: any) => p.value > 0) && m.series[2].data.at(-1)?.value === 100;
  }, 20_000);
  // Round robin: each server had half, by either form of the server query.
  await until('server series', async () => {
    const one = await ok('GET', `/api/analytics/metrics/pool/${pool.uuid}?server=${b1}&metric_id=l7_server.sum_total_responses,l7_server.avg_resp_latency&step=5&limit=60`);
    const two = await ok('GET', `/api/analytics/metrics/pool/${pool.uuid}/server/${b2}?metric_id=l7_server.sum_total_responses&step=5&limit=60`);
    assert.equal(one.obj_id, b1);
    return total(one.series[0]) >= 10 && total(two.series[0]) >= 10 && total(one.series[0]) + total(two.series[0]) >= 20;
  }, 10_000);
  await until('max open conns', async () => {
    const m = await ok('GET', `/api/analytics/metrics/virtualservice/${vs.uuid}?metric_id=l4_client.max_open_conns&step=5&limit=60`);
    return m.series[0].data.some((p: any) => p.value >= 2);
  }, 15_000);

  const bad = await api.get(`/api/analytics/metrics/pool/${pool.uuid}?metric_id=l7_server.sum_total_responses&server=10.9.9.9:1`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /server: "10\.9\.9\.9:1" is not a server of pool ap-pool/);
  const badId = await api.get(`/api/analytics/metrics/pool/${pool.uuid}?metric_id=l7_client.nope`);
  assert.equal(badId.status, 400);
  assert.match(badId.body.error, /metric_id: l7_client\.nope is not a known metric \(known: l4_server\./);
  assert.equal((await api.get('/api/analytics/metrics/pool/pool-nope?metric_id=l4_server.avg_health')).status, 404);

  // Scaled out to the second SE, which cannot serve it (the VIP:port is bound by the first on this
  // host): up on one SE of two is OPER_PARTITIONED with the reason, in runtime and inventory.
  assert.equal((await ok('POST', `/api/virtualservice/${vs.uuid}/scaleout`, {})).num_se_requested, 2);
  const rt = await until('partitioned', async () => {
    const r = await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`);
    return r.oper_status.state === 'OPER_PARTITIONED' && r.se_list.length === 2 && r.se_list.every((s: any) => s.oper_state) ? r : undefined;
  }, 20_000);
  assert.equal(rt.oper_status.reason[0], 'up on 1 of 2 service engines');
  const down = rt.se_list.find((s: any) => s.oper_state === 'OPER_DOWN');
  assert.ok(rt.oper_status.reason.some((r: string) => r.startsWith(`${down.se_name}: `)), JSON.stringify(rt.oper_status));
  assert.equal(rt.percent_ses_up, 50);
  const inv = await ok('GET', `/api/virtualservice-inventory/${vs.uuid}`);
  assert.equal(inv.runtime.oper_status.state, 'OPER_PARTITIONED');
  assert.equal(inv.health_score.health_score, 50, JSON.stringify(inv.health_score));
  assert.ok(inv.health_score.factors.includes('service engines up: 50%'), JSON.stringify(inv.health_score));
  await until('VS_PARTITIONED event', async () => (await ok('GET', `/api/analytics/events?obj_uuid=${vs.uuid}`)).results.some((e: any) => e.event_id === 'VS_PARTITIONED' && /is partitioned: up on 1 of 2 service engines/.test(e.event_description)), 5000);
  // Still serving from the SE that holds the VIP.
  const r = await fetch(`http://${vip}:8080/`);
  assert.equal(r.status, 200);
  await r.text();

  // Back on one SE: up again.
  await ok('POST', `/api/virtualservice/${vs.uuid}/scalein`, {});
  await until('up after scale-in', async () => (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).oper_status.state === 'OPER_UP', 20_000);
});
