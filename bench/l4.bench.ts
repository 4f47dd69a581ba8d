// L4 TCP through the service engine vs HAProxy (tcp mode, when installed) with the same
// backend and load: 64 connections doing 64-byte request/response ping-pong. Reports
// requests/s, p50/p99 latency and the proxy's CPU µs per request (utime+stime from /proc).
//   npm run bench -- l4
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);
const SECONDS = Number(process.env.SECONDS ?? 5);
const MSG = 64;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);
const BIN = fileURLToPath(new URL('../../bin/portico.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'portico-l4-bench-'));
const children: ChildProcess[] = [];

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

// The backend answers every 64-byte request with 64 bytes; it runs in this process (its CPU is not counted).
const reply = Buffer.alloc(MSG, 0x42);
const backend = net.createServer((s) => {
  s.setNoDelay(true);
  let pending = 0;
  s.on('data', (d) => {
    pending += d.length;
    while (pending >= MSG) {
      pending -= MSG;
      s.write(reply);
    }
  });
  s.on('error', () => {});
});
await new Promise<void>((r) => backend.listen(0, '127.21.240.1', r));
const bport = (backend.address() as net.AddressInfo).port;

interface Result { rps: number; p50: number; p99: number; cpuUsPerReq?: number; note?: string }

/** Runs the load against host:port; `pid` is the proxy whose CPU is measured. */
async function load(host: string, port: number, pid?: number): Promise<Result> {
  const latencies: number[] = [];
  const request = Buffer.alloc(MSG, 0x41);
  let stop = false;
  let count = 0;
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true }, () => resolve(s));
    s.on('error', reject);
  })));
  // Warm up one round trip each before measuring.
  const cpu0 = pid ? cpuTicks(pid) : 0;
  const t0 = performance.now();
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    let got = 0;
    let sent = performance.now();
    s.on('data', (d) => {
      got += d.length;
      while (got >= MSG) {
        got -= MSG;
        const now = performance.now();
        latencies.push(now - sent);
        count++;
        if (stop) return resolve();
        sent = now;
        s.write(request);
      }
    });
    s.write(request);
  })).concat([new Promise<void>((r) => setTimeout(() => { stop = true; r(); }, SECONDS * 1000))]));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = pid ? cpuTicks(pid) : 0;
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: count / elapsed, p50: at(0.5), p99: at(0.99), cpuUsPerReq: pid ? (((cpu1 - cpu0) / CLK_TCK) * 1e6) / count : undefined };
}

function waitForPort(host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host, port }, () => { s.destroy(); resolve(); });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`${host}:${port} did not open`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function portico(): Promise<Result> {
  const id = (t: string) => `${t}-${randomUUID()}`;
  const pool = id('pool');
  const vip = id('vsvip');
  const ap = id('applicationprofile');
  const np = id('networkprofile');
  const snapshot = {
    version: 1,
    objects: {
      applicationprofile: [{ uuid: ap, name: 'System-L4-Application', type: 'APPLICATION_PROFILE_TYPE_L4' }],
      networkprofile: [{ uuid: np, name: 'System-TCP-Proxy', profile: { type: 'PROTOCOL_TYPE_TCP_PROXY' } }],
      pool: [{ uuid: pool, name: 'bench', servers: [{ ip: { addr: '127.21.240.1', type: 'V4' }, port: bport }] }],
      vsvip: [{ uuid: vip, name: 'bench', vip: [{ vip_id: '0', ip_address: { addr: '127.21.240.10', type: 'V4' } }] }],
      virtualservice: [{ uuid: id('virtualservice'), name: 'bench', vsvip_ref: vip, pool_ref: pool, application_profile_ref: ap, network_profile_ref: np, services: [{ port: 9400 }] }],
    },
  };
  const dir = join(tmp, 'se');
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snapshot));
  const child = spawn(process.execPath, [BIN, 'engine', '--data', dir, '--log-level', 'warn'], { stdio: 'ignore' });
  children.push(child);
  await waitForPort('127.21.240.10', 9400);
  const r = await load('127.21.240.10', 9400, child.pid);
  child.kill('SIGTERM');
  return r;
}

async function haproxy(): Promise<Result | undefined> {
  if (spawnSync('sh', ['-c', 'command -v haproxy']).status !== 0) return undefined;
  const cfg = join(tmp, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global', '  nbthread 1', '  maxconn 4096',
    'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    'frontend fe', '  bind 127.21.240.11:9400', '  default_backend be',
    'backend be', `  server s1 127.21.240.1:${bport}`, '',
  ].join('\n'));
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
  children.push(child);
  await waitForPort('127.21.240.11', 9400);
  const r = await load('127.21.240.11', 9400, child.pid);
  child.kill('SIGTERM');
  return r;
}

try {
  const rows: [string, Result | undefined][] = [];
  rows.push(['direct (no proxy)', await load('127.21.240.1', bport)]);
  rows.push(['portico engine (L4 TCP proxy)', await portico()]);
  rows.push(['haproxy tcp mode', await haproxy()]);
  console.log(`L4 TCP, ${CONNECTIONS} connections, ${MSG}-byte ping-pong, ${SECONDS} s each`);
  console.log('| path | requests/s | p50 ms | p99 ms | proxy CPU µs/req |');
  console.log('|---|---|---|---|---|');
  for (const [name, r] of rows) {
    if (!r) console.log(`| ${name} | not installed | | | |`);
    else console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuUsPerReq === undefined ? '' : r.cpuUsPerReq.toFixed(1)} |`);
  }
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  backend.close();
  rmSync(tmp, { recursive: true, force: true });
}
