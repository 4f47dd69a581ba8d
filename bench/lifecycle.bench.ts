// SE lifecycle (issue 6):
//  1. re-placement gap: the local cloud's engine holding a VS is killed (SIGKILL); time until
//     the VS answers again from another engine (SE down timeout 3 s here, 10 s by default);
//     then the same group in HA_MODE_LEGACY_ACTIVE_STANDBY: time until the standby serves;
//  2. the controller's cost of 50 SEs heartbeating (1/s, with VS states and counters, and
//     long-polling their config) and 2,000 virtual services placed on them: CPU and RSS of the
//     controller process (`portico controller`, a child), read from /proc.
//   npm run bench -- lifecycle          (SES=50 VSES=2000 to change the sizes; PART=gap or PART=scale for one)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as ufetch } from 'undici';
import { startController } from '../src/controller/server.js';
import { PORTICO_BIN } from '../src/controller/lifecycle/local-cloud.js';

const SES = Number(process.env.SES ?? 50);
const VSES = Number(process.env.VSES ?? 2000);
const PASSWORD = 'bench-password';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 60_000 });

async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await ufetch(base + path, { method, dispatcher, headers: { authorization: auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < n) await fn(next++); }));
}

// ---- 1. re-placement gap (local cloud, real engines) ----
async function gapBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-lc-'));
  const backend = http.createServer((_q, s) => s.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.70.250.2', r));
  const ctl = await startController({ listen: '127.70.250.1:0', dataDir: dir, adminPassword: PASSWORD, vipCidr: '127.70.251.0/24', lifecycle: { seDownTimeoutMs: 3000, localEngines: { engineArgs: ['--metrics-listen', '127.70.250.1:0'] } } });
  try {
    const dns = (await api(ctl.url, 'GET', '/api/virtualservice?name=local-dns-vs')).results[0];
    await api(ctl.url, 'PATCH', `/api/virtualservice/${dns.uuid}`, { replace: { enabled: false } });
    const dg = (await api(ctl.url, 'GET', '/api/serviceenginegroup?name=Default-Group')).results[0];
    await api(ctl.url, 'PATCH', `/api/serviceenginegroup/${dg.uuid}`, { replace: { min_se: 0, buffer_se: 0 } });
    const g = await api(ctl.url, 'POST', '/api/serviceenginegroup', { name: 'bench', se_name_prefix: 'bench', min_se: 0, buffer_se: 1, max_vs_per_se: 10 });
    const p = await api(ctl.url, 'POST', '/api/pool', { name: 'p', servers: [{ ip: { addr: '127.70.250.2', type: 'V4' }, port: (backend.address() as { port: number }).port }] });
    const vip = await api(ctl.url, 'POST', '/api/vsvip', { name: 'v', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    const vs = await api(ctl.url, 'POST', '/api/virtualservice', { name: 'vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vip.uuid}`, pool_ref: `/api/pool/${p.uuid}`, services: [{ port: 8080 }] });
    const url = `http://${vip.vip[0].ip_address.addr}:8080/`;
    const serves = async () => { try { const r = await ufetch(url, { signal: AbortSignal.timeout(500) }); await r.text(); return r.status === 200; } catch { return false; } };
    const engines = () => [...ctl.lifecycle.localCloud!.pids()].filter(([n]) => n.startsWith('bench-se-'));
    const gaps: number[] = [];
    for (let round = 0; round < 3; round++) {
      await until('VS serves and a spare engine is up', async () => (await serves()) && engines().length === 2 && (await api(ctl.url, 'GET', '/api/serviceengine?name.contains=bench-se-')).results.every((s: any) => s.se_connected), 60_000, 100);
      const holder = (await api(ctl.url, 'GET', `/api/virtualservice/${vs.uuid}/runtime`)).se_list[0].se_name as string;
      const t0 = Date.now();
      process.kill(ctl.lifecycle.localCloud!.pids().get(holder)!, 'SIGKILL');
      await until('served again', serves, 60_000, 10);
      gaps.push(Date.now() - t0);
    }
    // Legacy active/standby: the VS on an active and a standby engine (plus the buffer one).
    await api(ctl.url, 'PATCH', `/api/serviceenginegroup/${g.uuid}`, { replace: { ha_mode: 'HA_MODE_LEGACY_ACTIVE_STANDBY', max_scaleout_per_vs: 2 } });
    const switchovers: number[] = [];
    for (let round = 0; round < 3; round++) {
      const pair = async () => {
        const rt = await api(ctl.url, 'GET', `/api/virtualservice/${vs.uuid}/runtime`);
        const active = rt.se_list.find((s: any) => !s.standby && s.connected);
        return rt.oper_status.state === 'OPER_UP' && rt.se_list.some((s: any) => s.standby && s.connected) && engines().length === 3 && (await serves()) ? active.se_name as string : undefined;
      };
      const active = (await until('VS on an active and a standby engine, a spare up', pair, 60_000, 100))!;
      const t0 = Date.now();
      process.kill(ctl.lifecycle.localCloud!.pids().get(active)!, 'SIGKILL');
      await until('served by the standby', serves, 60_000, 10);
      switchovers.push(Date.now() - t0);
    }
    console.log('| measure | value |\n|---|---|');
    console.log(`| re-placement gap after SIGKILL of the SE holding the VS (SE down timeout 3 s), 3 rounds | ${gaps.map((g) => `${g} ms`).join(', ')} |`);
    console.log(`| of which beyond the down timeout (pass + snapshot + bind) | ${gaps.map((g) => `${g - 3000} ms`).join(', ')} |`);
    console.log(`| HA_MODE_LEGACY_ACTIVE_STANDBY: SIGKILL of the active → the standby serves, 3 rounds | ${switchovers.map((g) => `${g} ms`).join(', ')} |`);
  } finally {
    await ctl.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2. the controller holding 50 heartbeating SEs and 2,000 VSes ----
function procStat(pid: number): { cpuTicks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuTicks: Number(f[11]) + Number(f[12]), rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) };
}

interface SimSe { uuid: string; secret: string; vses: string[]; version: number; realtime?: boolean; beats?: number }

async function scaleBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-scale-'));
  const child = spawn(process.execPath, [PORTICO_BIN, 'controller', '--listen', '127.70.252.1:0', '--data', dir, '--vip-cidr', '127.70.128.0/17', '--log-level', 'warn'], { env: { ...process.env, PORTICO_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stop = false;
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]!); });
      child.once('exit', () => reject(new Error(`controller exited: ${out}`)));
    });
    const g = await api(base, 'POST', '/api/serviceenginegroup', { name: 'scale', max_se: Math.max(SES, 4), max_vs_per_se: Math.ceil(VSES / SES) + 1, buffer_se: 0, min_se: 0 });
    const t0 = Date.now();
    await pool(VSES, 16, async (i) => {
      const vip = await api(base, 'POST', '/api/vsvip', { name: `vip-${i}`, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
      await api(base, 'POST', '/api/virtualservice', { name: `vs-${i}`, se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vip.uuid}`, services: [{ port: 10000 + (i % 1000) }] });
    });
    const createS = (Date.now() - t0) / 1000;
    const { token } = await api(base, 'POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});
    const ses: SimSe[] = [];
    for (let i = 0; i < SES; i++) {
      const r = await api(base, 'POST', '/api/se/join', { token, name: `sim-se-${i}`, version: '0.1.0', vip_mode: 'loopback' });
      ses.push({ uuid: r.se_uuid, secret: r.se_secret, vses: [], version: -1 });
    }
    const seHeaders = (s: SimSe) => ({ authorization: `Bearer ${s.secret}`, 'content-type': 'application/json' });
    const startedAt = new Date().toISOString();
    const counters = new Map<string, number>();
    const beat = async (s: SimSe) => {
      const n = (counters.get(s.uuid) ?? 0) + 10;
      counters.set(s.uuid, n);
      // As an engine does: pool/server counters with every heartbeat under realtime metrics, else every 5th.
      s.beats = (s.beats ?? 0) + 1;
      const detail = s.realtime !== false || s.beats % 5 === 0;
      const metrics: Record<string, Record<string, number>> = {};
      // As a real engine reports it: per VS, and per pool and server (one pool of two servers per VS).
      const pools: Record<string, Record<string, number>> = {};
      const servers: Record<string, Record<string, number>> = {};
      for (const v of s.vses) {
        metrics[v] = { connections: n, requests: n, responses_2xx: n, responses_3xx: 0, responses_4xx: 0, responses_5xx: 0, bytes_in: n * 100, bytes_out: n * 1000, latency_ms_sum: n * 2, latency_count: n, open_conns: 3 };
        const { connections: _c, open_conns: _o, ...target } = metrics[v]!;
        if (!detail) continue;
        pools[`pool-of-${v}`] = target;
        for (const port of [80, 81]) servers[`pool-of-${v}/127.0.0.1:${port}`] = { ...target, open_conns: 1 };
      }
      const r = await ufetch(`${base}/api/se/${s.uuid}/heartbeat`, { method: 'POST', dispatcher, headers: seHeaders(s), body: JSON.stringify({ applied_version: s.version, started_at: startedAt, cpu_percent: 5, rss_bytes: 80e6, virtualservices: s.vses.map((uuid) => ({ uuid, oper_state: 'OPER_UP' })), servers: [], metrics: detail ? { virtualservice: metrics, pool: pools, server: servers } : { virtualservice: metrics } }) }).then((x) => x.json() as Promise<{ realtime_metrics?: boolean }>);
      s.realtime = r.realtime_metrics;
    };
    const poll = async (s: SimSe) => {
      while (!stop) {
        const r = await ufetch(`${base}/api/se/${s.uuid}/config?version=${s.version}&wait=20`, { dispatcher, headers: seHeaders(s) }).catch(() => undefined);
        if (!r) { await new Promise((x) => setTimeout(x, 200)); continue; }
        if (r.status !== 200) { await r.text(); continue; }
        const snap = (await r.json()) as { version: number; objects: { virtualservice: { uuid: string }[] } };
        s.version = snap.version;
        s.vses = snap.objects.virtualservice.map((v) => v.uuid);
      }
    };
    const polls = ses.map((s) => poll(s));
    const timer = setInterval(() => { for (const s of ses) void beat(s).catch(() => {}); }, 1000);
    const tPlace = Date.now();
    await until('every VS placed on an SE', () => ses.reduce((a, s) => a + s.vses.length, 0) >= VSES, 120_000, 100);
    const placeS = (Date.now() - tPlace) / 1000;
    await new Promise((r) => setTimeout(r, 5000)); // warm-up: the first collections, JIT
    const MEASURE_S = 20;
    const measure = async () => {
      const a = procStat(child.pid!);
      await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
      const b = procStat(child.pid!);
      return { cpu: ((b.cpuTicks - a.cpuTicks) / 100 / MEASURE_S) * 100, rssMb: b.rssKb / 1024 }; // USER_HZ 100 on Linux
    };
    // The group's default: no realtime metrics (pool/server counters every 5 s, their series in 5 min rollups).
    const off = await measure();
    await api(base, 'PATCH', `/api/serviceenginegroup/${g.uuid}`, { replace: { realtime_se_metrics: { enabled: true, duration: 0 } } });
    await new Promise((r) => setTimeout(r, 5000));
    const on = await measure();
    clearInterval(timer);
    stop = true;
    console.log('| measure | value |\n|---|---|');
    console.log(`| create ${VSES} VSes (+ vsvips) through the API, 16 at a time | ${createS.toFixed(1)} s |`);
    console.log(`| ${SES} SEs joined: until every VS is in some SE's config | ${placeS.toFixed(1)} s |`);
    for (const [what, m] of [['realtime_se_metrics off (pool/server counters every 5 s)', off], ['realtime_se_metrics on (every heartbeat, 5 s pool/server rows)', on]] as const) {
      console.log(`| controller CPU, ${SES} SEs heartbeating 1/s + long-polling, ${VSES} VSes, ${what}, over ${MEASURE_S} s | ${m.cpu.toFixed(1)} % of one core |`);
      console.log(`| controller RSS, ${what} | ${m.rssMb.toFixed(0)} MB |`);
    }
    void polls;
  } finally {
    stop = true;
    child.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { child.kill('SIGKILL'); r(undefined); }, 5000); child.once('exit', () => { clearTimeout(t); r(undefined); }); });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.PART !== 'scale') await gapBench();
if (process.env.PART !== 'gap') await scaleBench();
await dispatcher.close();
process.exit(0);
