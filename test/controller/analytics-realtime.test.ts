// realtime_se_metrics: an SE group with it on keeps its SEs' pool and server series at 5 s;
// without it they are in the 5 min rollups only; it turns itself off after `duration`.
// SEs are scripted clients of the real SE protocol (join, heartbeats with cumulative counters).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { Client, PASSWORD } from './support.js';
import { until } from '../engine/support.js';

const NET = `127.105.${160 + (process.pid % 40)}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-realtime-'));
let ctl: Controller | undefined;

after(async () => {
  await ctl?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('realtime_se_metrics: 5 s pool/server series only for groups with it on; off by itself after duration', { timeout: 60_000 }, async () => {
  // One "minute" of duration lasts a second here.
  ctl = await startController({ listen: `${NET}.1:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.128/25`, lifecycle: { realtimeMinuteMs: 1000 } });
  const api = new Client(ctl.url);
  const off = await api.create('serviceenginegroup', { name: 'rt-off' });
  const on = await api.create('serviceenginegroup', { name: 'rt-on', realtime_se_metrics: { enabled: true, duration: 0 } });
  const ses: Array<{ pool: { uuid: string }; ip: string; uuid: string; auth: Record<string, string>; realtime?: boolean }> = [];
  for (const [g, ip] of [[off, '10.105.0.1'], [on, '10.105.0.2']] as const) {
    const pool = await api.create('pool', { name: `${g.name}-pool`, servers: [{ ip: { addr: ip, type: 'V4' }, port: 80 }] });
    const { token } = await api.ok('POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});
    const joined = await api.ok('POST', '/api/se/join', { token, name: `${g.name}-se`, version: '0.1.0', vip_mode: 'loopback' });
    ses.push({ pool, ip, uuid: joined.se_uuid as string, auth: { authorization: `Bearer ${joined.se_secret}` } });
  }
  const startedAt = new Date().toISOString();
  let n = 0;
  let beating = true;
  const beat = async () => {
    while (beating) {
      n += 10;
      const c = { requests: n, responses_2xx: n, bytes_in: 100 * n, bytes_out: 1000 * n, latency_ms_sum: n, latency_count: n };
      for (const s of ses) {
        // As an engine does: pool/server counters with every heartbeat only while the controller asks for realtime metrics.
        const detail = s.realtime !== false || n % 50 === 0;
        const r = await api.req('POST', `/api/se/${s.uuid}/heartbeat`, {
          applied_version: 0, started_at: startedAt, virtualservices: [], servers: [{ pool_uuid: s.pool.uuid, ip: s.ip, port: 80, state: 'UP' }],
          metrics: detail ? { pool: { [s.pool.uuid]: c }, server: { [`${s.pool.uuid}/${s.ip}:80`]: { ...c, open_conns: 1 } } } : {},
        }, s.auth);
        s.realtime = r.body.realtime_metrics;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const beats = beat();
  try {
    const points = async (pool: string, step: number, server?: string) => {
      const m = await api.ok('GET', `/api/analytics/metrics/pool/${pool}?metric_id=l7_server.sum_total_responses&step=${step}&limit=100${server ? `&server=${server}` : ''}`);
      return m.series[0].data.filter((p: any) => p.value > 0).length as number;
    };
    const [sOff, sOn] = ses;
    await until('traffic in both pools\' series', async () => (await points(sOff!.pool.uuid, 300)) > 0 && (await points(sOn!.pool.uuid, 5)) > 0 && (await points(sOn!.pool.uuid, 5, `${sOn!.ip}:80`)) > 0, 30_000);
    await until('the controller tells each SE whether to send pool/server counters every time', () => ses[0]!.realtime === false && ses[1]!.realtime === true, 5000);
    // Realtime on: 5 s rows for the pool and its server; off: the rollup only.
    assert.ok((await points(sOn!.pool.uuid, 300)) > 0);
    assert.equal(await points(sOff!.pool.uuid, 5), 0, '5 s pool series without realtime metrics');
    assert.equal(await points(sOff!.pool.uuid, 5, `${sOff!.ip}:80`), 0, '5 s server series without realtime metrics');
    assert.ok((await points(sOff!.pool.uuid, 300, `${sOff!.ip}:80`)) > 0, 'the server rollup is kept');
  } finally {
    beating = false;
    await beats;
  }

  // duration 1 (a second here): the controller turns it off, keeps the duration, and says so.
  const timed = await api.create('serviceenginegroup', { name: 'rt-timed', realtime_se_metrics: { enabled: true, duration: 1 } });
  const rec = await until('turned off', async () => { const g = await api.ok('GET', `/api/serviceenginegroup/${timed.uuid}`); return g.realtime_se_metrics.enabled === false ? g : undefined; }, 15_000);
  assert.equal(rec.realtime_se_metrics.duration, 1);
  await until('event', async () => (await api.ok('GET', `/api/analytics/events?obj_uuid=${timed.uuid}`)).results.some((e: any) => e.event_id === 'REALTIME_METRICS_OFF' && /after 1 minute/.test(e.event_description)), 5000);
  // duration 0: on for good.
  assert.equal((await api.ok('GET', `/api/serviceenginegroup/${on.uuid}`)).realtime_se_metrics.enabled, true);
});
