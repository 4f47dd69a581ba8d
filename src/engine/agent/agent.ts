// The service engine process: serves the last snapshot from its data dir at once (headless),
// joins the controller with its token (or re-uses identity.json), long-polls for snapshots,
// applies them, keeps them on disk, and sends heartbeats. A lost controller means backoff and
// retry; traffic is never interrupted by it.
import os from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ControllerClient, ControllerError } from './client.js';
import { DataDir, type Identity } from './files.js';
import { startAdminServer, type AdminServer } from './admin.js';
import { EngineRuntime, type RuntimeLog } from '../runtime/runtime.js';
import { VipManager, type VipMode } from '../vip/manager.js';
import type { VipLease } from '../vip/lease.js';
import { StaticRouteManager } from '../vip/routes.js';
import { parseSnapshot, type Snapshot } from '../snapshot.js';

export const ENGINE_VERSION = '0.1.0';
const LONG_POLL_SECONDS = 30;
const MAX_BACKOFF_MS = 15_000;
const MIN_REPORT_GAP_MS = 200;
/** Without realtime metrics (the controller says), pool and server counters go this often, not with every heartbeat. */
const DETAIL_EVERY_MS = 5000;
/** Request-log samples kept for resending while heartbeats fail (the oldest go first). */
export const MAX_UNSENT_REQUEST_LOGS = 1000;

export interface EngineOptions {
  controller?: string;
  /** PEM the controller's TLS certificate is verified against (self-signed controllers). */
  controllerCa?: string;
  joinToken?: string;
  name?: string;
  dataDir: string;
  vipMode?: VipMode;
  interface?: string;
  /** L2 mode: seconds a VIP outlives the engine's last renewal (default 5), or 'forever'. */
  vipLease?: VipLease;
  /** host:port of the admin (metrics) server; port 0 picks one. */
  metricsListen?: string;
  log: RuntimeLog;
  /** Long-poll wait (seconds, ≤ 60); tests shorten it. */
  longPollSeconds?: number;
}

export interface Engine {
  runtime: EngineRuntime;
  admin: AdminServer;
  /** The snapshot version applied, -1 before any. */
  readonly version: number;
  identity(): Identity | undefined;
  /** Resolves once a snapshot with version ≥ v is applied. */
  waitForVersion(v: number): Promise<void>;
  /** Request-log samples a failed heartbeat carried, to go with the next one. */
  unsentRequestLogs(): number;
  stop(): Promise<void>;
}

/** Without --name: the host name plus a tag of the data dir, so two SEs on one host do not share a record. */
function defaultName(dataDir: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'se';
  return `${host}-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 6)}`;
}

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const log = opts.log;
  const data = new DataDir(opts.dataDir);
  await data.init();
  const vips = new VipManager(opts.vipMode ?? 'loopback', opts.interface, log, join(opts.dataDir, 'vips.json'), opts.vipLease);
  await vips.loadPrevious();
  const staticRoutes = new StaticRouteManager(vips.mode, log);
  let wakeHeartbeat: () => void = () => {};
  const runtime = new EngineRuntime(vips, log, () => wakeHeartbeat());
  const admin = await startAdminServer(opts.metricsListen ?? '127.0.0.1:0', runtime);
  log.info({ url: admin.url }, `metrics at ${admin.url}/metrics`);

  const waiters: { v: number; resolve: () => void }[] = [];
  const applied = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (runtime.version >= waiters[i].v) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  };

  let standby: string[] = [];
  const applySnapshot = async (snapshot: Snapshot, text: string | undefined, source: string) => {
    // Routes first: pool members on pod networks are reachable when their monitors start.
    await staticRoutes.apply(snapshot.vrfcontexts);
    const held = standbyPart(snapshot);
    const r = await runtime.apply(held.serving);
    standby = held.standby;
    log.info({ version: r.version, source, changed: r.changed.length, opened: r.opened, closed: r.closed, ms: Math.round(r.ms * 10) / 10, ...(standby.length ? { standby: standby.length } : {}) }, 'snapshot applied');
    if (text !== undefined) await data.writeSnapshot(text);
    applied();
  };

  // Headless first: whatever was applied last keeps serving, controller or not.
  const disk = await data.readSnapshot();
  if (disk.error) log.warn({ err: disk.error }, 'ignoring the snapshot on disk');
  if (disk.snapshot) await applySnapshot(disk.snapshot, undefined, 'disk');
  // What a killed previous run added and this snapshot does not hold goes now (L2 mode).
  await vips.removeLeftovers();

  let stopped = false;
  const abort = new AbortController();
  let identity = await data.readIdentity();
  const client = opts.controller ? new ControllerClient(opts.controller, opts.controllerCa) : undefined;
  const startedAt = new Date().toISOString();
  const loops: Promise<void>[] = [];

  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    abort.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
  });
  const backoff = (attempt: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 8)) * (0.75 + Math.random() * 0.5);

  /** Joins when there is no identity (or the controller forgot it); retried with backoff. */
  const ensureIdentity = async (): Promise<Identity> => {
    for (let attempt = 0; ; attempt++) {
      if (identity && identity.controller === client!.base) return identity;
      if (!opts.joinToken) throw new Error('no identity.json in the data dir and no --join-token to join with');
      try {
        const r = await client!.join({ token: opts.joinToken, name: opts.name ?? identity?.name ?? defaultName(opts.dataDir), hostname: os.hostname(), version: ENGINE_VERSION, vip_mode: vips.mode, interface: opts.interface });
        identity = { controller: client!.base, se_uuid: r.se_uuid, se_secret: r.se_secret, name: r.name, se_group_uuid: r.se_group_uuid, heartbeat_interval_ms: r.heartbeat_interval_ms };
        await data.writeIdentity(identity);
        log.info({ se_uuid: r.se_uuid, name: r.name, se_group_uuid: r.se_group_uuid }, 'joined the controller');
        return identity;
      } catch (err) {
        if (stopped) throw err;
        if (err instanceof ControllerError && (err.status === 401 || err.status === 400)) log.error({ err: err.message }, 'join refused; retrying');
        else log.warn({ err: (err as Error).message }, 'controller unreachable; retrying');
        await sleep(backoff(attempt));
        if (stopped) throw new Error('stopped');
      }
    }
  };

  /** The controller no longer knows our secret (SE deleted): join again with the token. */
  const forget = async () => {
    if (!opts.joinToken) return;
    identity = undefined;
    await data.removeIdentity();
  };

  // Aborted by a heartbeat answer that shows a newer version than the one being waited on.
  let poll = new AbortController();
  const configLoop = async () => {
    for (let attempt = 0; !stopped; ) {
      poll = new AbortController();
      try {
        const id = await ensureIdentity();
        const text = await client!.config(id, runtime.version, opts.longPollSeconds ?? LONG_POLL_SECONDS, AbortSignal.any([abort.signal, poll.signal]));
        attempt = 0;
        if (text === undefined) continue;
        const snapshot = parseSnapshot(JSON.parse(text));
        if (snapshot.version <= runtime.version) continue;
        await applySnapshot(snapshot, text, 'controller');
        wakeHeartbeat();
      } catch (err) {
        if (stopped) break;
        if (poll.signal.aborted) continue;
        if (err instanceof ControllerError && err.status === 401) await forget();
        log.warn({ err: (err as Error).message }, 'config poll failed; retrying');
        await sleep(backoff(attempt++));
      }
    }
  };

  // Samples of heartbeats that failed go again with the next one (at least once; bounded).
  let unsentLogs: unknown[] = [];
  const requestLogs = () => (unsentLogs = withUnsent(unsentLogs, runtime.metrics.takeRequestLogs()));

  // Pool/server counters: every heartbeat while the SE group has realtime metrics (or the
  // controller does not say), else every DETAIL_EVERY_MS (the controller keeps the last ones).
  let realtimeMetrics = true;
  let detailSentAt = 0;
  const metrics = () => {
    const vs = { virtualservice: runtime.metrics.summary() };
    if (!realtimeMetrics && Date.now() - detailSentAt < DETAIL_EVERY_MS) return vs;
    detailSentAt = Date.now();
    return { ...vs, ...runtime.metrics.targetSummary() };
  };

  let lastCpu = process.cpuUsage();
  let lastCpuAt = performance.now();
  const heartbeatBody = () => {
    const cpu = process.cpuUsage();
    const now = performance.now();
    const cpuPercent = ((cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 / Math.max(1, now - lastCpuAt)) * 100;
    lastCpu = cpu;
    lastCpuAt = now;
    return {
      applied_version: runtime.version,
      started_at: startedAt,
      cpu_percent: Math.round(cpuPercent * 10) / 10,
      rss_bytes: process.memoryUsage.rss(),
      virtualservices: runtime.vsStates(),
      ...(standby.length ? { standby_vs_uuids: standby } : {}),
      servers: runtime.serverStates(),
      metrics: metrics(),
      request_logs: requestLogs(),
    };
  };

  const heartbeatLoop = async () => {
    let failures = 0;
    while (!stopped) {
      const id = identity;
      const interval = id?.heartbeat_interval_ms ?? 1000;
      if (id) {
        try {
          const r = await client!.heartbeat(id, heartbeatBody());
          unsentLogs = [];
          failures = 0;
          realtimeMetrics = r.realtime_metrics !== false;
          if (typeof r.latest_version === 'number' && r.latest_version > runtime.version) poll.abort();
        } catch (err) {
          if (stopped) break;
          // Refused as malformed: sending the same samples again will not help.
          if (err instanceof ControllerError && (err.status === 400 || err.status === 413)) unsentLogs = [];
          if (err instanceof ControllerError && err.status === 401) {
            // Our record is gone: the config loop joins again now, not when its long-poll ends.
            await forget();
            poll.abort();
          }
          if (failures++ % 10 === 0) log.warn({ err: (err as Error).message }, 'heartbeat failed');
        }
      }
      // State changes (a server going down, a new snapshot) are reported at once (at most every
      // MIN_REPORT_GAP_MS, so a flapping server cannot flood the controller), else every interval.
      const sentAt = Date.now();
      await new Promise<void>((r) => {
        const t = setTimeout(done, failures ? Math.min(MAX_BACKOFF_MS, interval * 2 ** Math.min(failures, 4)) : interval);
        let finished = false;
        function done() {
          if (finished) return;
          finished = true;
          clearTimeout(t);
          wakeHeartbeat = () => {};
          r();
        }
        wakeHeartbeat = () => {
          wakeHeartbeat = () => {};
          const gap = MIN_REPORT_GAP_MS - (Date.now() - sentAt);
          if (gap <= 0) done();
          else setTimeout(done, gap).unref();
        };
        abort.signal.addEventListener('abort', done, { once: true });
      });
    }
  };

  if (client) {
    loops.push(configLoop(), heartbeatLoop());
  } else {
    log.info({ data: opts.dataDir }, 'no controller given: serving the snapshot in the data dir');
  }

  return {
    runtime,
    admin,
    get version() {
      return runtime.version;
    },
    identity: () => identity,
    unsentRequestLogs: () => unsentLogs.length,
    waitForVersion(v: number) {
      if (runtime.version >= v) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ v, resolve }));
    },
    async stop() {
      stopped = true;
      abort.abort();
      await Promise.allSettled(loops);
      await client?.close();
      await admin.close();
      await runtime.stop();
      await staticRoutes.removeAll();
    },
  };
}

/**
 * Legacy active/standby: the VSes the snapshot lists in `standby_vs_uuids` are held (on disk,
 * ready) but not applied, so their VIPs are neither bound nor announced until the controller
 * makes this SE active for them (a new snapshot without them in the list).
 */
export function standbyPart(snapshot: Snapshot): { serving: Snapshot; standby: string[] } {
  const list = (snapshot as { standby_vs_uuids?: unknown }).standby_vs_uuids;
  const standby = Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
  if (!standby.length) return { serving: snapshot, standby };
  const skip = new Set(standby);
  const vses = snapshot.objects.virtualservice ?? [];
  return { serving: { ...snapshot, objects: { ...snapshot.objects, virtualservice: vses.filter((v) => !skip.has(v.uuid)) } }, standby };
}

/** The samples of failed heartbeats followed by the new ones, the newest `max` of them. */
export function withUnsent<T>(unsent: T[], fresh: T[], max = MAX_UNSENT_REQUEST_LOGS): T[] {
  if (!fresh.length) return unsent;
  return unsent.length ? unsent.concat(fresh).slice(-max) : fresh.slice(-max);
}
