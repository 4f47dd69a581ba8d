// Controller REST API with 10,000 stored pools: GETs by name and by UUID, and POST+DELETE pairs.
// The controller runs as its own process (`portico controller`, one event loop = one core); the
// load comes from this process over keep-alive connections (undici). Reports requests/s,
// p50/p99 latency and the controller's CPU µs per request.
//   npm run bench -- controller          (OBJECTS, CONNECTIONS, SECONDS to change the load)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const OBJECTS = Number(process.env.OBJECTS ?? 10_000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);
const BIN = fileURLToPath(new URL('../../bin/portico.js', import.meta.url));
const PASSWORD = 'bench-password';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'portico-ctl-bench-'));
let child: ChildProcess | undefined;

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

async function start(): Promise<string> {
  child = spawn(process.execPath, [BIN, 'controller', '--listen', '127.10.250.1:0', '--data', dir, '--log-level', 'warn'], { env: { ...process.env, PORTICO_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child!.stdout!.on('data', (d) => { out += d; const m = out.match(/listening on (http\S+)/); if (m) resolve(m[1]!); });
    child!.on('exit', (c) => reject(new Error(`controller exited ${c}`)));
  });
}

const poolBody = (name: string) => JSON.stringify({ name, servers: [{ ip: { type: 'V4', addr: '10.0.0.1' }, port: 80 }, { ip: { type: 'V4', addr: '10.0.0.2' }, port: 80 }], health_monitor_refs: ['/api/healthmonitor/?name=System-TCP'] });

async function call(pool: Pool, method: 'GET' | 'POST' | 'DELETE', path: string, body?: string): Promise<{ status: number; json: any }> {
  const r = await pool.request({ method, path, body, headers: { authorization: AUTH, 'content-type': 'application/json' } });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : undefined };
}

interface Result { name: string; ops: number; perSec: number; p50: number; p99: number; cpuUs: number; errors: number }

async function measure(name: string, pool: Pool, op: (i: number) => Promise<number>, opsPerCall = 1): Promise<Result> {
  const lat: number[] = [];
  let calls = 0, errors = 0, i = 0;
  const t0 = cpuTicks(child!.pid!);
  const startNs = process.hrtime.bigint();
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) {
      const s = process.hrtime.bigint();
      const ok = await op(i++).catch(() => 0);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      calls++;
      if (!ok) errors++;
    }
  }));
  const secs = Number(process.hrtime.bigint() - startNs) / 1e9;
  const cpu = ((cpuTicks(child!.pid!) - t0) / CLK_TCK) * 1e6;
  lat.sort((a, b) => a - b);
  const ops = calls * opsPerCall;
  return { name, ops, perSec: ops / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, cpuUs: cpu / ops, errors };
}

try {
  const url = await start();
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  let t = Date.now();
  let next = 0;
  const uuids: string[] = new Array(OBJECTS);
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < OBJECTS) {
      const n = next++;
      const r = await call(pool, 'POST', '/api/pool', poolBody(`bench-pool-${n}`));
      if (r.status !== 201) throw new Error(`seed POST → ${r.status} ${JSON.stringify(r.json)}`);
      uuids[n] = r.json.uuid;
    }
  }));
  const fill = (Date.now() - t) / 1000;
  console.log(`stored ${OBJECTS} pools in ${fill.toFixed(1)} s (${Math.round(OBJECTS / fill)} POST/s), ${CONNECTIONS} connections, ${SECONDS} s per row`);
  const rows: Result[] = [];
  const rnd = () => Math.floor(Math.random() * OBJECTS);
  // Warm-up (JIT, caches): one second of mixed reads, not reported.
  const warmEnd = Date.now() + 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < warmEnd) await call(pool, 'GET', `/api/pool?name=bench-pool-${rnd()}`);
  }));
  rows.push(await measure('GET by name (?name=)', pool, async () => {
    const r = await call(pool, 'GET', `/api/pool?name=bench-pool-${rnd()}`);
    return r.status === 200 && r.json.count === 1 ? 1 : 0;
  }));
  rows.push(await measure('GET by UUID', pool, async () => (await call(pool, 'GET', `/api/pool/${uuids[rnd()]}`)).status === 200 ? 1 : 0));
  rows.push(await measure('GET by name, include_name', pool, async () => (await call(pool, 'GET', `/api/pool?name=bench-pool-${rnd()}&include_name`)).status === 200 ? 1 : 0));
  rows.push(await measure('POST+DELETE pair (writes)', pool, async (i) => {
    const c = await call(pool, 'POST', '/api/pool', poolBody(`bench-tmp-${i}`));
    if (c.status !== 201) return 0;
    return (await call(pool, 'DELETE', `/api/pool/${c.json.uuid}`)).status === 204 ? 1 : 0;
  }, 2));
  console.log('| operation | ops | ops/s | p50 ms | p99 ms | controller CPU µs/op | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.ops} | ${Math.round(r.perSec)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.cpuUs)} | ${r.errors} |`);
  await pool.close();
} finally {
  if (child?.pid && child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child!.once('exit', r)); }
  rmSync(dir, { recursive: true, force: true });
}
