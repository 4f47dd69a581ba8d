// Replicated controllers: API reads and writes per second with the etcd store (a real
// three-member etcd cluster on loopback) against the SQLite store, one controller process
// each, the same load; writes across two replicas at once; and leader failover time (kill -9
// of the leader → a survivor reports the new leader; and a clean stop, which resigns).
//   npm run bench -- etcd          (SECONDS, CONNECTIONS, LEASE to change the load)
import { Pool } from 'undici';
import { startEtcdCluster, startReplica, ADMIN_PASSWORD, type Replica } from '../test/support/etcd.js';
import { runPortico } from '../test/support/cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const LEASE = Number(process.env.LEASE ?? 2);
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const HEADERS = { authorization: AUTH, 'content-type': 'application/json' };
const rows: Array<[string, string]> = [];

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

/** Runs `one` on CONNECTIONS loops for SECONDS over the given controllers; returns req/s and latencies. */
async function load(urls: string[], one: (pool: Pool, i: number) => Promise<number>): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const pools = urls.map((u) => new Pool(u, { connections: CONNECTIONS }));
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, c) => {
    while (Date.now() < end) {
      const i = n++;
      const s = performance.now();
      const status = await one(pools[c % pools.length]!, i);
      lat.push(performance.now() - s);
      if (status >= 300) errors++;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(pools.map((p) => p.close()));
  return { rps: lat.length / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99), errors };
}

async function request(pool: Pool, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await pool.request({ method, path, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.body.text();
  return { status: r.statusCode, json: text ? JSON.parse(text) : undefined };
}

async function measure(label: string, urls: string[]): Promise<void> {
  const seedPool = new Pool(urls[0]!, { connections: 4 });
  const uuids: string[] = [];
  for (let i = 0; i < 200; i++) uuids.push((await request(seedPool, 'POST', '/api/pool', { name: `seed-${label}-${i}` })).json.uuid);
  await seedPool.close();
  const tag = `${label}-${Date.now()}`;
  const w = await load(urls, async (p, i) => (await request(p, 'POST', '/api/pool', { name: `w-${tag}-${i}`, servers: [{ ip: { type: 'V4', addr: '10.0.0.1' }, port: 80 }] })).status);
  const r = await load(urls, async (p, i) => (await request(p, 'GET', `/api/pool/${uuids[i % uuids.length]}`)).status);
  const f = (x: number) => x.toFixed(1);
  rows.push([`${label}: writes (POST /api/pool)`, `${Math.round(w.rps)}/s  p50 ${f(w.p50)} ms  p99 ${f(w.p99)} ms  errors ${w.errors}`]);
  rows.push([`${label}: reads (GET /api/pool/<uuid>)`, `${Math.round(r.rps)}/s  p50 ${f(r.p50)} ms  p99 ${f(r.p99)} ms  errors ${r.errors}`]);
}

async function leaderOf(url: string): Promise<string | undefined> {
  const r = await fetch(`${url}/api/cluster/runtime`, { headers: { authorization: AUTH } });
  return ((await r.json()) as any).node_states.find((n: any) => n.role === 'CLUSTER_LEADER')?.name;
}

/** ms from stopping the leader until a survivor names another leader. */
async function failover(replicas: Replica[], how: 'kill' | 'stop'): Promise<number> {
  let leader: string | undefined;
  while (!(leader = await leaderOf(replicas[0]!.url))) await new Promise((r) => setTimeout(r, 50));
  const victim = replicas.find((r) => r.name === leader)!;
  const survivor = replicas.find((r) => r !== victim)!;
  const t0 = performance.now();
  if (how === 'kill') await victim.kill(); else await victim.cli.stop(5000);
  for (;;) {
    const now = await leaderOf(survivor.url).catch(() => undefined);
    if (now && now !== leader) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - t0;
  replicas.splice(replicas.indexOf(victim), 1);
  await victim.stop();
  return ms;
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'portico-etcd-bench-sqlite-'));
const sqlite = runPortico(['controller', '--listen', '127.90.220.1:0', '--data', sqliteDir, '--log-level', 'warn'], { env: { PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD } });
const etcd = await startEtcdCluster();
const replicas: Replica[] = [];
try {
  const sqliteUrl = (await sqlite.waitForLine(/listening on /)).split('listening on ')[1]!.trim();
  await measure('SQLite, 1 controller', [sqliteUrl]);
  await sqlite.stop();
  for (const name of ['b-1', 'b-2', 'b-3']) replicas.push(await startReplica({ endpoints: etcd.endpoints, name, host: `127.90.221.${replicas.length + 1}`, leaseTtlS: LEASE }));
  await measure('etcd, 1 replica', [replicas[0]!.url]);
  await measure('etcd, 2 replicas at once', [replicas[0]!.url, replicas[1]!.url]);
  rows.push([`leader failover, kill -9 (lease ${LEASE} s)`, `${Math.round(await failover(replicas, 'kill'))} ms`]);
  rows.push(['leader failover, clean stop (resigns)', `${Math.round(await failover(replicas, 'stop'))} ms`]);
} finally {
  await sqlite.stop();
  for (const r of replicas) await r.stop().catch(() => undefined);
  await etcd.stop();
  rmSync(sqliteDir, { recursive: true, force: true });
}
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
console.log(`(${CONNECTIONS} connections, ${SECONDS} s per load, etcd: 3 members on loopback, ${process.env.HOSTNAME ?? 'this machine'}; 2 cores shared)`);
