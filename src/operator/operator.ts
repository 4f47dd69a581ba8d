// The operator's main loop: start-up checks (retried, never a crash loop), then every snapshot
// from the provider → translate → sync → status. One worker; changes that arrive during a pass
// are coalesced into the next one. Retries by error class, a periodic full sync, deleteConfig.
// `/api/status` (liveness + handled objects) and `/metrics` on `listen`.
// Two kinds of pass: a full one (start, re-read of the controller, periodic) translates every
// unit and compares each object with the controller's copy, then writes the units that differ a
// batch at a time; a change pass rebuilds only the units the change touches (translate/incremental)
// and syncs and publishes only what they changed, so its cost does not grow with the cluster.
import { createServer, type Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { ClusterSnapshot, SnapshotProvider, SourceProblem } from './source/types.js';
import type { ObjectRef, ObjectStatus, StatusSink } from './status/types.js';
import type { OperatorSettings } from './settings/types.js';
import { ControllerClient } from './controller-client/client.js';
import { ControllerError } from './controller-client/errors.js';
import { readInfra } from './infra.js';
import type { DesiredObject, Infra, KnownRefs, ObjectOutcome } from './translate/index.js';
import { IncrementalTranslator, objectKey } from './translate/incremental.js';
import { fnv1a32 } from './translate/names.js';
import { ControllerState } from './sync/state.js';
import { Syncer, type SyncReport } from './sync/sync.js';
import { computeStatus, statusItem } from './status/compute.js';
import { OperatorMetrics } from './metrics.js';
import { CrdRefResolver, CrdStatusPublisher } from './crd-status.js';
import type { OperatorLifecycle } from './status/pod-events.js';
import { sweepStaleStatuses } from './status/stale.js';
import { NplAnnotator } from './status/npl.js';
import { StaticRouteSync } from './sync/static-routes.js';
import { TenantDirectory } from './sync/tenants.js';
import { namespaceFilter } from './translate/common.js';

export interface OperatorOptions {
  controller: string;
  provider: SnapshotProvider;
  sink: StatusSink;
  settings: OperatorSettings;
  /** `host:port` for /api/status and /metrics (default `127.0.0.1:<apiServerPort>`). */
  listen?: string;
  username: string;
  password?: string;
  /** Token login instead of a password (avicredentials.authtoken). */
  token?: string;
  /** PEM CA of the controller's certificate (avicredentials.certificateAuthorityData); without it any certificate is accepted. */
  ca?: string;
  /** Controller auth: session login with CSRF (default) or basic. */
  auth?: 'session' | 'basic';
  /** Accept a self-signed controller certificate. */
  insecure?: boolean;
  logger?: Logger;
  /** First retry delay for fast-retry errors (doubles up to 10 s; default 500 ms). */
  fastRetryMs?: number;
  /** Delay for slow-retry errors (no free IP, missing infrastructure; default 90 s as AKO). */
  slowRetryMs?: number;
  /** Delay between start-up check attempts (doubles up to 30 s; default 1 s). */
  checkRetryMs?: number;
  /** Concurrent REST calls during a sync pass (default 8). */
  concurrency?: number;
  /** Leader election gate: while it says false, nothing is written (the follower only translates). */
  leader?: { isLeader(): boolean };
  /**
   * V8 lets the old generation grow to 4× what survived the last full GC before collecting again
   * (on machines with gigabytes free): a full sync's short-lived garbage then sits in RSS. The
   * operator asks for growth of this many percent instead (default 25; 0 keeps V8's own).
   */
  heapGrowingPercent?: number;
  /** Told about start-up checks, the boot status sync and deleteConfig (AKO's Events on its pod). */
  lifecycle?: Partial<OperatorLifecycle>;
}

export interface RunningOperator {
  url: string;
  status(): ObjectStatus[];
  /** Resolves once no change is pending and no pass is running (tests, bench). */
  idle(): Promise<void>;
  /** Last pass's report (tests, bench). */
  lastReport(): SyncReport | undefined;
  /** Number of completed passes. */
  passes(): number;
  /** Re-reads the controller and syncs everything (e.g. on becoming leader). */
  resync(): void;
  metrics: OperatorMetrics;
  close(): Promise<void>;
}

const LOG_LEVEL: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

function refKey(r: { kind: string; namespace: string; name: string }): string {
  return `${r.kind}/${r.namespace}/${r.name}`;
}

/** A full pass keeps the bodies of units to write up to this many objects; beyond, a unit is built again when a sync worker takes it. */
const KEEP_OBJECTS = 2000;
const NOTHING: { has(k: string): boolean } = { has: () => false };


export async function startOperator(opts: OperatorOptions): Promise<RunningOperator> {
  const settings = opts.settings;
  const growth = opts.heapGrowingPercent ?? 25;
  // Read by V8 at each full GC when it sets the next limit: takes effect without a restart.
  if (growth > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(growth)}`);
  const log = opts.logger ?? pino({ name: 'portico-operator', level: LOG_LEVEL[settings.logLevel] ?? 'warn' }, pino.destination(2));
  const metrics = new OperatorMetrics();
  const client = new ControllerClient({
    url: opts.controller, username: opts.username, password: opts.password, token: opts.token, tenant: settings.controller.tenantName,
    auth: opts.auth ?? 'session', ca: opts.ca, insecure: opts.insecure ?? !opts.ca, connections: opts.concurrency ?? 8,
    onTokenRefreshed: (_token, expiresAt) => log.info({ expiresAt }, 'controller authtoken refreshed (used for the next logins)'),
    onTokenRefreshFailed: (err) => log.warn({ err: err.message }, 'controller authtoken refresh failed: retried in 12 h; the current token stays in use'),
  });
  const createdBy = `ako-${settings.clusterName}`;
  const staticRoutes = new StaticRouteSync(client, settings, log);
  const state = new ControllerState(settings.clusterName, settings.controller.cloudName, createdBy);
  const syncer = new Syncer(client, state, {
    concurrency: opts.concurrency ?? 8,
    onError: (f) => {
      metrics.errors.inc({ class: f.errorClass });
      log.warn({ object: f.key, class: f.errorClass, retry: f.retry }, `controller refused ${f.key}: ${f.message}`);
    },
    onWrite: (op, type, name) => {
      metrics.writes.inc({ op });
      log.debug({ op, type, name }, `${op} ${type} ${name}`);
    },
  });

  const crdRefs = new CrdRefResolver(client, settings);
  const tenants = new TenantDirectory(client);
  let tenantsMissing = 0;
  const crdStatuses = new CrdStatusPublisher(opts.sink, (err) => log.warn({ err: err.message }, 'CRD status write failed'));
  const sink = opts.sink;
  const npl = sink.annotateService ? new NplAnnotator((ns, name, a) => sink.annotateService!(ns, name, a), (svc, err) => log.warn({ err: err.message }, `could not set the NodePortLocal annotation of Service ${svc}`)) : undefined;

  let closed = false;
  let infra: Infra | undefined;
  let infraProblem = 'start-up checks not run yet';
  let snapshot: ClusterSnapshot | undefined;
  let dirty = false;
  let running: Promise<void> | undefined;
  let needRefresh = true;
  let passCount = 0;
  let report: SyncReport | undefined;
  let fastDelay = opts.fastRetryMs ?? 500;
  let networkDelay = 500;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = 0;
  let checkTimer: NodeJS.Timeout | undefined;
  let fullSyncTimer: NodeJS.Timeout | undefined;
  let deleteDone = false;
  // AKO's status sync: after the first pass as leader (at boot, and after each resync()).
  let sweepStatuses = true;
  let translator: IncrementalTranslator | undefined;
  /** The next pass compares everything (start, after a re-read, after a pass that threw). */
  let needFull = true;
  /** Keys that failed (or were blocked) last pass: the next change pass tries them again. */
  let lastFailed: string[] = [];
  /**
   * What was published per handled object: enough to tell a change (a hash of the status's JSON)
   * and to say it is gone (ref, VSes). Full statuses are computed again when asked for
   * (/api/status): 12k of them held between passes were 20 MB of the operator's heap.
   */
  const published = new Map<string, { ref: ObjectRef; virtualServices: string[]; hash: number }>();
  const handled = new Map<string, number>();
  const idleWaiters: Array<() => void> = [];
  const isLeader = () => opts.leader?.isLeader() ?? true;

  const updateDepth = () => metrics.queueDepth.set((dirty ? 1 : 0) + (retryTimer ? 1 : 0));
  const wakeIdle = () => {
    if (running || dirty) return;
    for (const w of idleWaiters.splice(0)) w();
  };

  function kick(): void {
    dirty = true;
    updateDepth();
    if (!running && infra && snapshot && !closed) running = runPass().finally(() => { running = undefined; if (dirty && !closed) kick(); else wakeIdle(); });
    else wakeIdle();
  }

  /** The earliest retry asked for wins: a slow (90 s) retry must not hold back a sooner one. */
  function scheduleRetry(delay: number): void {
    if (closed) return;
    const at = Date.now() + delay;
    if (retryTimer) {
      if (at >= retryAt) return;
      clearTimeout(retryTimer);
    }
    retryAt = at;
    retryTimer = setTimeout(() => { retryTimer = undefined; kick(); }, delay);
    updateDepth();
  }

  async function runPass(): Promise<void> {
    dirty = false;
    updateDepth();
    const started = performance.now();
    try {
      if (!isLeader()) return;
      if (needRefresh) {
        await state.refresh(client);
        crdRefs.forget();
        tenants.forget();
        crdStatuses.invalidate();
        needRefresh = false;
        needFull = true;
        staticRoutes.invalidate();
      }
      // Antrea allocates NodePortLocal ports only once a Service is annotated: done first.
      if (npl) await npl.apply(snapshot!, settings, settings.deleteConfig);
      if (!settings.deleteConfig) await checkTenants();
      const full = needFull;
      const prevFailed = lastFailed;
      // deleteConfig can be turned off and on again live (values file): each time is a new deletion.
      if (!settings.deleteConfig) deleteDone = false;
      if (settings.deleteConfig) report = await syncer.run({ wanted: NOTHING, units: [] });
      else {
        translator ??= new IncrementalTranslator(settings, infra!);
        const known = await crdRefs.resolve(snapshot!);
        report = full ? await fullPass(translator, known) : await changePass(translator, known, prevFailed);
      }
      await syncStaticRoutes();
      needFull = false;
      lastFailed = [...report.failed.keys()];
      passCount++;
      metrics.owned.set(state.size);
      if (settings.deleteConfig && report.failures.length === 0 && !deleteDone) {
        deleteDone = true;
        log.warn(`deleteConfig: every controller object owned by ${createdBy} is deleted`);
        opts.lifecycle?.deleteConfigDone?.();
      }
      const tr = settings.deleteConfig ? undefined : translator;
      await publishStatus(tr, report, full, prevFailed);
      if (sweepStatuses) {
        sweepStatuses = false;
        const cleared = await sweepStaleStatuses(snapshot!, tr ? [...tr.outcomes.values()].map((o) => o.ref) : [], opts.sink, settings, infra?.clusterUuid, (ref, err) => log.warn({ err: err.message }, `could not clear the stale status of ${refKey(ref)}`));
        if (cleared.length) log.info({ cleared: cleared.map(refKey) }, 'stale statuses cleared');
        opts.lifecycle?.statusSynced?.();
      }
      if (tr) await crdStatuses.publish(tr.crdStatuses);
      if (report.created + report.updated + report.deleted > 0 || report.failures.length > 0) {
        log.info({ created: report.created, updated: report.updated, deleted: report.deleted, unchanged: report.unchanged, failed: report.failures.length, full }, 'sync pass');
      }
      const fast = report.failures.some((f) => f.retry === 'fast');
      const slow = report.failures.some((f) => f.retry === 'slow');
      if (report.failures.some((f) => f.errorClass === 'not-found' || f.errorClass === 'conflict')) needRefresh = true;
      // The controller unreachable (down, restarting): back off from 500 ms to 5 s, not the slow
      // 90 s, so changes queued meanwhile land within seconds of its return; re-read its state
      // first (a write may have been applied before the connection broke).
      const network = report.failures.some((f) => f.errorClass === 'network');
      if (network) needRefresh = true;
      if (fast) { scheduleRetry(fastDelay); fastDelay = Math.min(fastDelay * 2, 10_000); } else fastDelay = opts.fastRetryMs ?? 500;
      if (network && !fast) { scheduleRetry(networkDelay); networkDelay = Math.min(networkDelay * 2, 5_000); } else if (!network) networkDelay = 500;
      if ((slow || tenantsMissing > 0) && !fast && !network) scheduleRetry(opts.slowRetryMs ?? 90_000);
    } catch (err) {
      // Listing the controller failed (down, network): try again later, the state is re-read.
      needRefresh = true;
      needFull = true;
      log.warn({ err: (err as Error).message }, 'sync pass failed; retrying');
      scheduleRetry(opts.slowRetryMs !== undefined ? Math.min(opts.slowRetryMs, 5_000) : 5_000);
    } finally {
      metrics.syncSeconds.observe((performance.now() - started) / 1000);
    }
  }

  /** Pod CIDR routes on the VRF context (AKO's static route sync); a failure is retried like a failed write. */
  async function syncStaticRoutes(): Promise<void> {
    try {
      await staticRoutes.run(snapshot!.nodes, settings.deleteConfig, snapshot!.custom.get('AviInfraSetting'), snapshot!.custom);
    } catch (err) {
      const e = err instanceof ControllerError ? err : undefined;
      metrics.errors.inc({ class: e?.errorClass ?? 'network' });
      log.warn({ class: e?.errorClass }, `static routes not written: ${(err as Error).message} (retrying)`);
      // Unreachable controller: the same short backoff as failed writes, so routes land soon after its return.
      const network = !e || e.errorClass === 'network';
      scheduleRetry(network ? networkDelay : e.retry === 'slow' ? (opts.slowRetryMs ?? 90_000) : fastDelay);
    }
  }

  /**
   * Every unit translated, each object compared with the controller's copy while its body is at
   * hand; then the units with something to write are synced (bodies beyond KEEP_OBJECTS are
   * dropped and built again as the sync workers take their unit: a full sync from empty never
   * holds the whole translation, only the units in flight).
   */
  async function fullPass(tr: IncrementalTranslator, known: KnownRefs): Promise<SyncReport> {
    const t0 = performance.now();
    const kept: DesiredObject[][] = [];
    const later: Array<{ unit: string; size: number }> = [];
    let keptCount = 0;
    let unchanged = 0;
    for (const u of tr.update(snapshot!, known, { all: true })) {
      if (!u.objects.some((o) => syncer.needsWrite(o))) { unchanged += u.objects.length; continue; }
      if (keptCount + u.objects.length <= KEEP_OBJECTS) { kept.push(u.objects); keptCount += u.objects.length; } else later.push({ unit: u.unit, size: u.objects.length });
    }
    metrics.translateSeconds.observe((performance.now() - t0) / 1000);
    // The biggest units (the Ingresses') first: their bodies are alive while the held state is
    // still small, not on top of it at the end.
    later.sort((a, b) => b.size - a.size);
    function* units(): Generator<DesiredObject[]> {
      while (kept.length) yield kept.shift()!;
      yield* tr.rebuild(later.map((l) => l.unit));
    }
    const r = await syncer.run({ wanted: tr.wanted, units: units() });
    r.unchanged += unchanged;
    return r;
  }

  /** The units a change touches, rebuilt; only their changed objects (and last pass's failures) synced. */
  async function changePass(tr: IncrementalTranslator, known: KnownRefs, prevFailed: string[]): Promise<SyncReport> {
    const t0 = performance.now();
    const scope = new Set<string>(prevFailed);
    const batch: DesiredObject[] = [];
    for (const u of tr.update(snapshot!, known, { extra: prevFailed })) {
      for (const k of u.changed) scope.add(k);
      for (const k of u.removed) scope.add(k);
      for (const o of u.objects) if (scope.has(objectKey(o))) batch.push(o);
    }
    metrics.translateSeconds.observe((performance.now() - t0) / 1000);
    return syncer.run({ wanted: tr.wanted, units: [batch], deleteScope: scope });
  }

  /** Statuses of every handled object (full pass) or of those the pass could have changed. */
  async function publishStatus(tr: IncrementalTranslator | undefined, r: SyncReport, full: boolean, prevFailed: string[]): Promise<void> {
    const keys = new Set<string>();
    if (full || !tr) {
      for (const k of published.keys()) keys.add(k);
      if (tr) for (const k of tr.outcomes.keys()) keys.add(k);
    } else {
      for (const k of tr.changedOutcomes) keys.add(k);
      for (const from of [r.touched, r.failed.keys(), prevFailed]) for (const o of from) for (const k of tr.readersOf(o)) keys.add(k);
    }
    tr?.changedOutcomes.clear();
    for (const k of [...keys].sort()) {
      const o = tr?.outcomes.get(k);
      const prev = published.get(k);
      if (!o) {
        if (!prev) continue;
        published.delete(k);
        count(prev.ref.kind, -1);
        if (settings.enableEvents && prev.virtualServices.length) {
          await callSink(() => opts.sink.event(prev.ref, { type: 'Normal', reason: 'Removed', message: `Removed virtualservice ${prev.virtualServices.join(', ')} for ${prev.ref.namespace}/${prev.ref.name}` }));
        }
        await callSink(() => opts.sink.clear(prev.ref));
        continue;
      }
      const s = computeStatus(o, state, r.failed, o.tenant ?? settings.controller.tenantName, infra?.clusterUuid);
      if (!prev) count(s.ref.kind, 1);
      // The last published status is kept as a hash of its text: one stringify per object per pass.
      const hash = fnv1a32(JSON.stringify(s));
      published.set(k, { ref: s.ref, virtualServices: s.virtualServices, hash });
      if (prev?.hash === hash) continue;
      // set() records the status's new events itself (the sink knows which it already wrote):
      // calling event() for them too wrote every Event twice (created, then its count bumped).
      await callSink(() => opts.sink.set(settings.enableEvents ? s : { ...s, events: [] }));
    }
  }

  /**
   * The tenants namespaces name (ako.vmware.com/tenant-name), looked up: translation builds only
   * in those that exist; one that appears makes the next pass a full one (its namespaces' units
   * rebuilt); a missing one gives its Namespace a Warning (an Event in that namespace) and a
   * slow retry, as AKO's 403.
   */
  async function checkTenants(): Promise<void> {
    const t = await tenants.resolve(snapshot!, settings.controller.tenantName, namespaceFilter(snapshot!, settings));
    infra!.tenants = t.known;
    tenantsMissing = t.missing;
    if (t.appeared) needFull = true;
    for (const w of t.warnings) {
      log.warn({ namespace: w.namespace }, w.event.message);
      if (settings.enableEvents) await callSink(() => opts.sink.event({ kind: 'Namespace', namespace: w.namespace, name: w.namespace }, w.event));
    }
  }

  /** The published objects' statuses as the last pass left them, in key order. */
  function currentStatuses(): Array<[ObjectOutcome, ObjectStatus]> {
    const tr = settings.deleteConfig ? undefined : translator;
    const out: Array<[ObjectOutcome, ObjectStatus]> = [];
    for (const k of [...published.keys()].sort()) {
      const o = tr?.outcomes.get(k);
      if (o) out.push([o, computeStatus(o, state, report?.failed ?? new Map(), o.tenant ?? settings.controller.tenantName, infra?.clusterUuid)]);
    }
    return out;
  }

  /** objects_handled{kind}, kept by the statuses added and removed. */
  function count(kind: string, d: number): void {
    const n = (handled.get(kind) ?? 0) + d;
    if (n > 0) handled.set(kind, n); else handled.delete(kind);
    metrics.handled.set({ kind }, Math.max(n, 0));
  }

  async function callSink(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'status write failed');
    }
  }

  async function checkInfra(delay: number): Promise<void> {
    if (closed) return;
    const r = await readInfra(client, settings, isLeader()).catch((err: Error) => ({ ok: false as const, problem: err.message }));
    if (closed) return;
    if (r.ok) {
      infra = r.infra;
      infraProblem = '';
      metrics.ready.set(1);
      log.info({ dnsDomains: infra.dnsDomains, vipNetworks: infra.vipNetworks.map((n) => n.name) }, 'start-up checks passed');
      opts.lifecycle?.checksPassed?.(settings.deleteConfig);
      if (snapshot) kick();
      return;
    }
    if (r.problem !== infraProblem) {
      log.error(`start-up check failed: ${r.problem} (retrying)`);
      opts.lifecycle?.checkFailed?.(r.problem);
    }
    infraProblem = r.problem;
    checkTimer = setTimeout(() => void checkInfra(Math.min(delay * 2, 30_000)), delay);
  }

  // HTTP: liveness, statuses, metrics.
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/api/status' || path === '/api/status/')) {
      const items = currentStatuses().map(([o, s]) => {
        const item = statusItem(s);
        if (o.ports) item.ports = o.ports;
        return item;
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        status: 'OK', ready: !!infra, leader: isLeader(), passes: passCount,
        ...(infraProblem ? { problem: infraProblem } : {}),
        ...(settings.deleteConfig ? { deleteConfig: deleteDone ? 'done' : 'in progress' } : {}),
        items,
        crds: crdStatuses.list(),
      }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      }, (err: Error) => { res.writeHead(500); res.end(err.message); });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no such path: ${path}` }));
  });
  const listen = opts.listen ?? `127.0.0.1:${settings.apiServerPort}`;
  const colon = listen.lastIndexOf(':');
  const host = colon > 0 ? listen.slice(0, colon).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(colon >= 0 ? listen.slice(colon + 1) : listen);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen ${listen}: expected HOST:PORT`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  await opts.provider.start((snap: ClusterSnapshot, problems: SourceProblem[]) => {
    for (const p of problems) log.warn({ where: p.where }, `source: ${p.message}`);
    snapshot = snap;
    kick();
  });
  void checkInfra(opts.checkRetryMs ?? 1000);
  if (settings.fullSyncFrequency > 0) {
    fullSyncTimer = setInterval(() => { needRefresh = true; kick(); }, settings.fullSyncFrequency * 1000);
    fullSyncTimer.unref();
  }

  return {
    url,
    metrics,
    status: () => currentStatuses().map(([, s]) => s),
    lastReport: () => report,
    passes: () => passCount,
    resync: () => { needRefresh = true; sweepStatuses = true; kick(); },
    idle: () => new Promise<void>((resolve) => {
      if (!running && !dirty) resolve();
      else idleWaiters.push(resolve);
    }),
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(checkTimer);
      clearInterval(fullSyncTimer);
      await opts.provider.stop().catch(() => undefined);
      await running?.catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await client.close();
      for (const w of idleWaiters.splice(0)) w();
    },
  };
}
