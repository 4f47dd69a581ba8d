// L7 benchmark: keep-alive HTTP (64 connections), HTTPS requests and TLS handshakes through the
// Portico L7 proxy and, in the same run with the same backend and load, nginx and HAProxy when
// installed. Reports requests/s, p50/p99 and the proxy's CPU µs per request (from /proc).
//
//   npm run bench -- l7          (or: node dist/bench/l7.bench.js [seconds [rounds]])
//
// With rounds > 1 the seconds of each cell are split into bursts that alternate between the
// proxies (steadier CPU ratios on a shared machine).
//
// The same file is also the backend (`backend PORT`), the Portico proxy (`proxy CONFIG.json`)
// and, when wrk is missing, the load generator (`load …`), each run as a child process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
// BENCH_HOST lets two benches (or a bench and a profiling run) share the machine.
const HOST = process.env.BENCH_HOST ?? '127.20.250.1';
const BACKEND_PORT = 18080;
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n');

// ---- child roles ----------------------------------------------------------------------------

/** A minimal keep-alive backend: one fixed response per request head (GETs only). */
function runBackend(port: number): void {
  const END = Buffer.from('\r\n\r\n');
  createServer({ noDelay: true }, (s) => {
    let tail: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      const buf = tail.length ? Buffer.concat([tail, d]) : d;
      let n = 0;
      let i = buf.indexOf(END);
      let last = 0;
      while (i >= 0) {
        n++;
        last = i + 4;
        i = buf.indexOf(END, last);
      }
      tail = buf.subarray(Math.max(last, buf.length - 3));
      if (n === 1) s.write(RESPONSE);
      else if (n > 1) s.write(Buffer.concat(Array(n).fill(RESPONSE)));
    });
    s.on('error', () => undefined);
  }).listen(port, HOST, () => process.send?.('ready'));
}

async function runProxy(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8'));
  const { createL7Listener } = await import('../src/engine/l7/index.js');
  const { PoolManager } = await import('../src/engine/runtime/pools.js');
  const { EngineMetrics } = await import('../src/engine/runtime/metrics.js');
  const objects: Record<string, any>[] = [
    { uuid: 'virtualservice-bench', name: 'bench', type: 'VS_TYPE_NORMAL', services: [{ port: cfg.port }, { port: cfg.tlsPort, enable_ssl: true }], pool_ref: 'pool-bench', ssl_key_and_certificate_refs: ['sslkeyandcertificate-bench'], application_profile_ref: 'applicationprofile-http' },
    { uuid: 'applicationprofile-http', name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP', http_profile: {} },
    { uuid: 'pool-bench', name: 'bench', lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: [{ ip: { addr: HOST, type: 'V4' }, port: BACKEND_PORT }] },
    { uuid: 'sslkeyandcertificate-bench', name: 'bench', certificate: { certificate: cfg.cert }, key: cfg.key },
  ];
  const index = new Map<string, Map<string, Record<string, any>>>();
  for (const o of objects) {
    const t = o.uuid.slice(0, o.uuid.indexOf('-'));
    if (!index.has(t)) index.set(t, new Map());
    index.get(t)!.set(o.uuid, o);
  }
  const pools = new PoolManager();
  pools.apply(index);
  const log = { info: () => undefined, warn: () => undefined, error: (o: object, m?: string) => console.error(m, o) };
  const ctx = { pools, metrics: new EngineMetrics(), log };
  await createL7Listener({ address: HOST, port: cfg.port, tls: false, vsUuid: 'virtualservice-bench' }, index, ctx).listen();
  await createL7Listener({ address: HOST, port: cfg.tlsPort, tls: true, vsUuid: 'virtualservice-bench' }, index, ctx).listen();
  // Exit normally on signals so `--cpu-prof` can write its profile.
  process.on('SIGINT', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.send?.('ready');
}

/** Fallback load generator (when wrk is missing): closed loop, `conns` connections, for `secs`. */
async function runLoad(url: string, conns: number, secs: number, close: boolean): Promise<void> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const req = Buffer.from(`GET / HTTP/1.1\r\nHost: ${u.host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
  const lat: number[] = [];
  let count = 0;
  let errors = 0;
  const end = Date.now() + secs * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const s: Socket = tls ? tlsConnect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }) : netConnect({ host: u.hostname, port: Number(u.port) });
      let t0 = 0;
      let buf = '';
      const send = (): void => {
        t0 = performance.now();
        s.write(req);
      };
      s.on(tls ? 'secureConnect' : 'connect', send);
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        const h = buf.indexOf('\r\n\r\n');
        if (h < 0) return;
        const m = /content-length: *(\d+)/i.exec(buf.slice(0, h));
        if (buf.length < h + 4 + Number(m?.[1] ?? 0)) return;
        buf = '';
        lat.push(performance.now() - t0);
        count++;
        if (Date.now() > end || close) s.destroy();
        else send();
      });
      s.on('error', () => errors++);
      s.on('close', () => resolve());
    });
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  lat.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ rps: count / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, count, errors }));
}

// ---- orchestration ----------------------------------------------------------------------------

interface Result {
  rps: number;
  p50: number;
  p99: number;
  count: number;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

/** CPU ticks (user + system) of `pid` and its descendants. */
function cpuTicks(pid: number): number {
  let total = 0;
  const stack = [pid];
  const kids = childrenMap();
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

function childrenMap(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!m.has(ppid)) m.set(ppid, []);
      m.get(ppid)!.push(Number(d));
    } catch {
      // gone
    }
  }
  return m;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : 0;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

async function load(url: string, conns: number, secs: number, close: boolean): Promise<Result> {
  if (has('wrk')) {
    const args = ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', ...(close ? ['-H', 'Connection: close'] : []), url];
    const out = await run('wrk', args);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    const p = (q: string): number => {
      const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
      return m ? toMs(m[1], m[2]) : 0;
    };
    const count = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    return { rps, p50: p('50'), p99: p('99'), count };
  }
  const out = await run(process.execPath, [SELF, 'load', url, String(conns), String(secs), close ? '1' : '0']);
  return JSON.parse(out);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', () => resolve(out));
  });
}

function startChild(args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.once('message', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

/** Starts a foreign proxy and waits until its port answers. */
async function startForeign(cmd: string, args: string[], port: number): Promise<ChildProcess> {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: false });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (c.exitCode !== null) throw new Error(`${cmd} exited with ${c.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: HOST, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${cmd} did not start`);
}

/** What a TLS client gets from `port`: protocol, cipher, and whether a second connection resumes (a fairness check). */
async function probeTls(port: number): Promise<string> {
  const once = (session?: Buffer): Promise<{ text: string; session?: Buffer; reused: boolean }> =>
    new Promise((resolve) => {
      const s = tlsConnect({ host: HOST, port, servername: 'bench.example.com', rejectUnauthorized: false, session });
      let got: Buffer | undefined;
      let text = '';
      let reused = false;
      s.on('session', (b: Buffer) => (got = b));
      s.on('secureConnect', () => {
        text = `${s.getProtocol()} ${s.getCipher().standardName}`;
        reused = s.isSessionReused();
        s.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      });
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve({ text, session: got, reused }));
    });
  const first = await once();
  const second = await once(first.session);
  return `${first.text}, ${second.reused ? 'resumes' : 'does not resume'}`;
}

function stop(c: ChildProcess | undefined): Promise<void> {
  const alive = (): boolean => !!c && c.exitCode === null && c.signalCode === null;
  if (!c || !alive() || c.pid === undefined) return Promise.resolve();
  const pid = c.pid;
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    process.kill(pid, 'SIGTERM');
    setTimeout(() => {
      if (alive()) process.kill(pid, 'SIGKILL');
    }, 3000).unref();
  });
}

interface Target {
  name: string;
  start(): Promise<ChildProcess>;
  port: number;
  tlsPort: number;
}

async function main(): Promise<void> {
  const secs = Number(process.argv[2] ?? 5);
  const rounds = Math.max(1, Math.floor(Number(process.argv[3] ?? 1)) || 1);
  const dir = mkdtempSync(join(tmpdir(), 'portico-l7-bench-'));
  const children: ChildProcess[] = [];
  try {
    spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=bench.example.com'], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    writeFileSync(join(dir, 'combined.pem'), cert + key);
    children.push(await startChild(['backend', String(BACKEND_PORT)]));
    const targets: Target[] = [
      {
        name: 'portico',
        port: 18081,
        tlsPort: 18441,
        start: () => {
          writeFileSync(join(dir, 'portico.json'), JSON.stringify({ port: 18081, tlsPort: 18441, cert, key }));
          return startChild(['proxy', join(dir, 'portico.json')]);
        },
      },
    ];
    if (has('nginx')) {
      // nginx before 1.23.4 offers only up to TLS 1.2 unless told: a resumed TLS 1.2 handshake skips
      // the X25519 exchange a TLS 1.3 one makes, so the handshake figures compared unlike work.
      writeFileSync(
        join(dir, 'nginx.conf'),
        `worker_processes 1; daemon off; master_process on; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream b { server ${HOST}:${BACKEND_PORT}; keepalive 128; }
  server { listen ${HOST}:18082; listen ${HOST}:18442 ssl; ssl_protocols TLSv1.2 TLSv1.3; ssl_certificate ${dir}/cert.pem; ssl_certificate_key ${dir}/key.pem;
    location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }
`,
      );
      targets.push({ name: 'nginx', port: 18082, tlsPort: 18442, start: () => startForeign('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], 18082) });
    }
    if (has('haproxy')) {
      writeFileSync(
        join(dir, 'haproxy.cfg'),
        `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option forwardfor
  http-reuse always
frontend f
  bind ${HOST}:18083
  bind ${HOST}:18443 ssl crt ${dir}/combined.pem
  default_backend b
backend b
  server s1 ${HOST}:${BACKEND_PORT}
`,
      );
      targets.push({ name: 'haproxy', port: 18083, tlsPort: 18443, start: () => startForeign('haproxy', ['-f', join(dir, 'haproxy.cfg')], 18083) });
    }
    const rows: string[][] = [];
    const tlsFacts: string[] = [];
    const scenarios = [
      { name: 'HTTP keep-alive, 64 conns', tls: false, conns: 64, close: false },
      { name: 'HTTPS keep-alive, 64 conns', tls: true, conns: 64, close: false },
      { name: 'TLS handshakes (conn/req), 16 conns', tls: true, conns: 16, close: true },
    ];
    // All proxies run at once (the idle ones use no CPU). With rounds > 1 each cell's time is
    // split into bursts that alternate between the proxies, so a change in the machine's load
    // during the run hits every proxy alike; counts and CPU ticks are summed over the bursts.
    const procs = new Map<Target, ChildProcess>();
    for (const t of targets) {
      const proc = await t.start();
      children.push(proc);
      procs.set(t, proc);
      tlsFacts.push(`${t.name}: ${await probeTls(t.tlsPort)}`);
    }
    const burst = Math.max(1, Math.round(secs / rounds));
    const cells = new Map<Target, string[][]>(targets.map((t) => [t, []]));
    for (const s of scenarios) {
      const url = (t: Target): string => `${s.tls ? 'https' : 'http'}://${HOST}:${s.tls ? t.tlsPort : t.port}/`;
      for (const t of targets) await load(url(t), s.conns, 1, s.close); // warm-up (JIT, pools, session caches)
      const sums = new Map(targets.map((t) => [t, { count: 0, ticks: 0, p50: [] as number[], p99: [] as number[] }]));
      for (let r = 0; r < rounds; r++) {
        for (const t of targets) {
          const pid = procs.get(t)!.pid!;
          const before = cpuTicks(pid);
          const res = await load(url(t), s.conns, burst, s.close);
          const sum = sums.get(t)!;
          sum.ticks += cpuTicks(pid) - before;
          sum.count += res.count;
          sum.p50.push(res.p50);
          sum.p99.push(res.p99);
        }
      }
      for (const t of targets) {
        const sum = sums.get(t)!;
        const cpuUs = (sum.ticks / CLK_TCK) * 1e6;
        const row = [s.name, t.name, (sum.count / (burst * rounds)).toFixed(0), median(sum.p50).toFixed(2), median(sum.p99).toFixed(2), sum.count ? (cpuUs / sum.count).toFixed(1) : '-'];
        cells.get(t)!.push(row);
        console.error(`  ${row.join('  ')}`);
      }
    }
    for (const t of targets) rows.push(...cells.get(t)!);
    const head = ['scenario', 'proxy', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const split = rounds > 1 ? ` in ${rounds} alternating bursts of ${burst}s (p50/p99: median over the bursts)` : '';
    console.log(`load: ${has('wrk') ? 'wrk -t1' : 'node load generator'}, ${burst * rounds}s per cell${split}, CPU from /proc/<pid>/stat of the proxy and its children`);
    console.log(`TLS (RSA 2048 certificate for all): ${tlsFacts.join('; ')}`);
    console.log(line(head));
    for (const r of rows) console.log(line(r));
  } finally {
    for (const c of children) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = process.argv[2];
if (role === 'backend') runBackend(Number(process.argv[3]));
else if (role === 'proxy') void runProxy(process.argv[3]);
else if (role === 'load') void runLoad(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), process.argv[6] === '1');
else
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
