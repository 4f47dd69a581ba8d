// A real three-member etcd cluster on loopback for tests (Debian's etcd-server), each member on
// its own address of 127.90.0.0/16 with its own data directory; members are ended by PID.
// Also: controller replicas on such a cluster (`node bin/portico.js controller --store etcd`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as ufetch } from 'undici';
import { readFileSync } from 'node:fs';
import { runPortico, type CliProcess } from './cli.js';

export const ETCD_BIN = process.env.PORTICO_ETCD_BIN ?? 'etcd';
/** Whether an etcd binary is installed (tests skip with a reason otherwise). */
export const etcdMissing: string | false = spawnSync(ETCD_BIN, ['--version']).status === 0 ? false : `no ${ETCD_BIN} binary: apt-get install etcd-server`;

/** Members still running: killed by PID when the test process exits, whatever happened. */
const running = new Set<ChildProcess>();
const killRunning = () => { for (const p of running) { try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ } } };
process.once('exit', killRunning);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => { killRunning(); process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)); });

let seq = 0;
/** A /24-ish slice of 127.90.0.0/16 per cluster: pid and a counter keep parallel runs apart. */
export function nextBlock(): string {
  seq += 1;
  return `127.90.${(process.pid * 7 + seq * 31) % 250 + 1}`;
}

export interface EtcdMember { name: string; clientUrl: string; peerUrl: string; dataDir: string; proc?: ChildProcess }

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of all members. */
  endpoints: string[];
  /** Kills a member (SIGKILL, by PID); its data stays for restart. */
  kill(i: number): Promise<void>;
  /** Starts a killed member again on its data directory and waits until it is healthy. */
  restart(i: number): Promise<void>;
  /** Kills every member and removes the data. */
  stop(): Promise<void>;
}

/** PEM files for TLS on the members' client URLs (clients must present a certificate of `caFile`). */
export interface EtcdTls { certFile: string; keyFile: string; caFile: string; clientCertFile: string; clientKeyFile: string }

async function healthy(url: string, deadlineMs: number, tls?: EtcdTls): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  const dispatcher = tls && new Agent({ connect: { ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } });
  while (Date.now() < deadline) {
    try {
      const r = await ufetch(`${url}/health`, { signal: AbortSignal.timeout(1000), ...(dispatcher ? { dispatcher } : {}) });
      const b = (await r.json()) as { health?: string };
      if (b.health === 'true') return;
      last = JSON.stringify(b);
    } catch (e) { last = (e as Error).message; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${url} not healthy within ${deadlineMs} ms (${last})`);
}

export async function startEtcdCluster(size = 3, o: { tls?: EtcdTls; block?: string } = {}): Promise<EtcdCluster> {
  const block = o.block ?? nextBlock();
  const scheme = o.tls ? 'https' : 'http';
  const root = mkdtempSync(join(tmpdir(), 'portico-etcd-'));
  const token = `portico-${process.pid}-${seq}-${Date.now()}`;
  const members: EtcdMember[] = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`, clientUrl: `${scheme}://${block}.${i + 1}:2379`, peerUrl: `http://${block}.${i + 1}:2380`, dataDir: join(root, `m${i}`),
  }));
  const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = (m: EtcdMember) => {
    const proc = spawn(ETCD_BIN, [
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--log-level', 'error',
      ...(o.tls ? ['--cert-file', o.tls.certFile, '--key-file', o.tls.keyFile, '--trusted-ca-file', o.tls.caFile, '--client-cert-auth'] : []),
    ], { stdio: ['ignore', 'ignore', process.env.PORTICO_TEST_ECHO ? 'inherit' : 'ignore'] });
    proc.on('error', () => undefined);
    running.add(proc);
    proc.unref(); // a cluster kept for a restart (data kept) must not hold the test process open
    proc.once('exit', () => running.delete(proc));
    m.proc = proc;
  };
  const killMember = async (m: EtcdMember) => {
    const p = m.proc;
    m.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.ref();
    const gone = new Promise((r) => p.once('exit', r));
    try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ }
    await gone;
  };
  const cluster: EtcdCluster = {
    members, endpoints: members.map((m) => m.clientUrl),
    kill: (i) => killMember(members[i]!),
    async restart(i) { launch(members[i]!); await healthy(members[i]!.clientUrl, 20_000, o.tls); },
    async stop() {
      for (const m of members) await killMember(m);
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) launch(m);
    await Promise.all(members.map((m) => healthy(m.clientUrl, 30_000, o.tls)));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

export const ADMIN_PASSWORD = 'etcd-test-admin-password';

export interface Replica { name: string; url: string; dataDir: string; cli: CliProcess; stop(): Promise<void>; kill(): Promise<void> }

/** One controller replica on `endpoints` (a child process), ready when it prints its URL. */
export async function startReplica(o: { endpoints: string[]; name: string; host: string; leaseTtlS?: number; extra?: string[] }): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), `portico-replica-${o.name}-`));
  const cli = runPortico([
    'controller', '--store', 'etcd', '--etcd-endpoints', o.endpoints.join(','), '--node-name', o.name,
    '--listen', `${o.host}:0`, '--data', dataDir, '--lease-ttl', String(o.leaseTtlS ?? 2), '--log-level', 'warn', ...(o.extra ?? []),
  ], { env: { PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  let url: string;
  try {
    url = (await cli.waitForLine(/listening on /, 60_000)).split('listening on ')[1]!.trim();
  } catch (e) {
    await cli.stop(1000);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    name: o.name, url, dataDir, cli,
    async stop() { await cli.stop(5000); rmSync(dataDir, { recursive: true, force: true }); },
    async kill() {
      if (cli.proc.exitCode === null && cli.proc.signalCode === null) { try { process.kill(cli.pid, 'SIGKILL'); } catch { /* gone */ } }
      await cli.exited;
    },
  };
}

/** Polls `fn` until it returns a value that is not undefined, or fails after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try { const v = await fn(); if (v !== undefined) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (${(last as Error).message})` : ''}`);
}
