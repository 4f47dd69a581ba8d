// The SE runtime: applies snapshots. Each apply diffs listeners by key (proto|VIP|port):
// listeners of unchanged VSes are not touched; a changed VS gets its new routing in place (its
// connections stay); removed listeners stop accepting at once and drain in the background.
// Pools and monitors are kept when unchanged (PoolManager). Applies run one at a time.
import type { L7Listener, L7Context, SnapshotIndex } from '../contracts.js';
import { createL7Listener } from '../l7/index.js';
import { TcpListener } from '../l4/tcp.js';
import { childDatascriptError } from '../l4/passthrough.js';
import { minPoolsUpShortfall } from './min-pools-up.js';
import { UdpListener } from '../l4/udp.js';
import { DnsTcpListener, DnsUdpListener } from '../dns/listeners.js';
import { DnsZone } from '../dns/zone.js';
import { PoolManager } from './pools.js';
import { EngineMetrics } from './metrics.js';
import { changedObjects, planVirtualServices, type ListenerKind, type ListenerPlan, type VsPlan } from './routes.js';
import { indexSnapshot, type Snapshot } from '../snapshot.js';
import { VipManager } from '../vip/manager.js';
import type { Pool, ServerState } from '../lb/pool.js';

export interface RuntimeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

type AnyListener = TcpListener | UdpListener | DnsUdpListener | DnsTcpListener | L7Listener;

interface Active {
  plan: ListenerPlan;
  listener: AnyListener;
}

export interface VsState { uuid: string; oper_state: 'OPER_UP' | 'OPER_DOWN'; reason?: string }
export interface ServerReport { pool_uuid: string; ip: string; port: number; state: 'UP' | 'DOWN'; reason?: string }

export interface ApplyResult {
  version: number;
  /** VS UUIDs whose listeners or routing changed. */
  changed: string[];
  /** Listener keys opened and closed. */
  opened: number;
  closed: number;
  ms: number;
}

/** How long a removed listener's connections may drain before they are cut. */
const DRAIN_MS = 30_000;
const BIND_RETRY_MIN_MS = 1000;
const BIND_RETRY_MAX_MS = 30_000;

export class EngineRuntime {
  readonly metrics = new EngineMetrics();
  readonly pools: PoolManager;
  private readonly zone = new DnsZone();
  private readonly listeners = new Map<string, Active>();
  private plans = new Map<string, VsPlan>();
  private bindErrors = new Map<string, string>();
  private planErrors = new Map<string, string>();
  private index: SnapshotIndex = new Map();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly draining = new Set<Promise<void>>();
  private dnsJson = '';
  version = -1;
  snapshot: Snapshot | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = BIND_RETRY_MIN_MS;
  private stopped = false;
  /** Listener keys withheld by remove_listening_port_on_vs_down (their VIP stays held) → VIP. */
  private readonly withheld = new Map<string, string>();
  private healthApplyPending = false;

  constructor(private readonly vips: VipManager, private readonly log: RuntimeLog, private readonly onStateChange: () => void = () => {}) {
    this.pools = new PoolManager((pool, server) => this.serverChanged(pool, server));
    const self = this;
    this.metrics.health = {
      *servers() {
        for (const p of self.pools.allPools()) for (const s of p.servers) yield [p.uuid, p.name, s.key, s.eligible, s.conns] as [string, string, string, boolean, number];
      },
      vsName: (uuid) => self.plans.get(uuid)?.name ?? '',
    };
  }

  private serverChanged(pool: Pool, server: ServerState): void {
    this.log.info({ pool: pool.name, server: server.key, up: server.up, reason: server.reason }, server.up ? 'server up' : 'server down');
    this.scheduleHealthApply();
    this.onStateChange();
  }

  /**
   * remove_listening_port_on_vs_down: a health change re-applies the current snapshot, which
   * closes the ports whose pool lost its last server and listens again when one is back. Applies
   * touch nothing else (plans are kept); several changes in one turn make one apply.
   */
  private scheduleHealthApply(): void {
    if (this.healthApplyPending || this.stopped || !this.snapshot) return;
    let any = false;
    for (const p of this.plans.values()) if (p.removePortsWhenDown) any = true;
    if (!any) return;
    this.healthApplyPending = true;
    setImmediate(() => {
      this.healthApplyPending = false;
      if (this.stopped || !this.snapshot) return;
      this.apply(this.snapshot).then(
        (r) => (r.opened > 0 || r.closed > 0) && this.log.info({ opened: r.opened, closed: r.closed }, 'listening ports follow server health (remove_listening_port_on_vs_down)'),
        (err: Error) => this.log.warn({ err: err.message }, 'health re-apply failed'),
      );
    });
  }

  /** Whether a listener of `plan` is withheld now: the flag is set and its pool (group) has no server up. */
  private withholds(plan: VsPlan, l: ListenerPlan): boolean {
    return plan.removePortsWhenDown && !plan.hasPolicies && l.target !== undefined && !this.targetUp(l.target);
  }

  /** Applies a snapshot (serialized with other applies). */
  apply(snapshot: Snapshot): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(snapshot));
    this.queue = run.catch(() => {});
    return run;
  }

  private async applyNow(snapshot: Snapshot): Promise<ApplyResult> {
    const t0 = performance.now();
    const index = indexSnapshot(snapshot);
    // Only when pools changed: a pool or server gone takes its metric series with it.
    if (this.pools.apply(index).size > 0) this.metrics.retainTargets(this.pools.allPools());
    const dns = snapshot.dns ?? { domains: [], records: [] };
    this.zone.update(dns.domains, dns.records);
    const dnsJson = JSON.stringify(dns);
    const { plans, errors, replanned } = planVirtualServices(index, this.pools, this.plans, changedObjects(this.index, index), dnsJson !== this.dnsJson);
    this.dnsJson = dnsJson;

    const desired = new Map<string, ListenerPlan>();
    const conflicts = new Map<string, string>();
    const withheld = new Map<string, string>();
    for (const plan of plans) {
      for (const l of plan.listeners) {
        if (this.withholds(plan, l)) {
          withheld.set(l.key, l.address);
          continue;
        }
        const other = desired.get(l.key);
        if (other && other.vsUuid !== l.vsUuid) {
          conflicts.set(l.vsUuid, `${l.address}:${l.port} is already used by virtualservice ${other.vsUuid}`);
          continue;
        }
        desired.set(l.key, l);
      }
    }
    const nextPlans = new Map(plans.map((p) => [p.uuid, p]));
    const changedVs = new Set<string>();
    for (const uuid of replanned) changedVs.add(uuid);
    for (const uuid of this.plans.keys()) if (!nextPlans.has(uuid)) changedVs.add(uuid);

    // A withheld port keeps its VIP (L2: the address stays, so clients get a refusal, not silence).
    for (const [key, addr] of withheld) {
      if (this.withheld.has(key)) continue;
      this.withheld.set(key, addr);
      await this.vips.acquire(addr).catch(() => {});
    }
    for (const [key, addr] of this.withheld) {
      if (withheld.has(key)) continue;
      this.withheld.delete(key);
      void this.vips.release(addr);
    }

    // 1. Removed or replaced listeners stop accepting now.
    let closed = 0;
    const replaced: Promise<void>[] = [];
    for (const [key, active] of this.listeners) {
      const want = desired.get(key);
      if (want && want.kind === active.plan.kind && want.vsUuid === active.plan.vsUuid && want.tls === active.plan.tls) continue;
      this.listeners.delete(key);
      closed++;
      const done = this.retire(active);
      if (want) replaced.push(done.stopped);
    }
    // A port taken over by another kind or VS: wait until the old socket let go of it.
    await Promise.all(replaced);

    // 2. Kept listeners of changed VSes get their new routing in place.
    for (const [key, active] of this.listeners) {
      if (!changedVs.has(active.plan.vsUuid)) continue;
      const want = desired.get(key)!;
      active.plan = want;
      const l = active.listener;
      if (l instanceof TcpListener || l instanceof UdpListener) l.route = want.route!;
      else if (!(l instanceof DnsUdpListener || l instanceof DnsTcpListener)) l.update(index);
    }
    for (const [key, active] of this.listeners) if (!changedVs.has(active.plan.vsUuid)) active.plan = desired.get(key)!;

    // 3. New listeners bind (in parallel); a bind failure marks only its VS down.
    const fresh = [...desired.values()].filter((p) => !this.listeners.has(p.key));
    const bindErrors = new Map<string, string>();
    await Promise.all(
      fresh.map(async (plan) => {
        try {
          await this.vips.acquire(plan.address);
        } catch (err) {
          bindErrors.set(plan.vsUuid, (err as Error).message);
          return;
        }
        try {
          const listener = this.create(plan, index);
          await listener.listen();
          this.listeners.set(plan.key, { plan, listener });
        } catch (err) {
          bindErrors.set(plan.vsUuid, `listen ${plan.address}:${plan.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          await this.vips.release(plan.address);
        }
      }),
    );
    for (const [vs, msg] of conflicts) bindErrors.set(vs, msg);
    for (const [vs, msg] of errors) bindErrors.set(vs, msg);
    // Unbound listeners are retried at every apply; the error stays until one succeeds.
    for (const [key, plan] of desired) if (!this.listeners.has(key) && !bindErrors.has(plan.vsUuid)) bindErrors.set(plan.vsUuid, this.bindErrors.get(plan.vsUuid) ?? `not listening on ${plan.address}:${plan.port}`);
    this.bindErrors = bindErrors;
    this.planErrors = errors;
    this.plans = nextPlans;
    this.index = index;
    this.version = snapshot.version;
    this.snapshot = snapshot;
    const result: ApplyResult = { version: snapshot.version, changed: [...changedVs], opened: fresh.length - [...desired.keys()].filter((k) => !this.listeners.has(k)).length, closed, ms: performance.now() - t0 };
    this.scheduleBindRetry(desired.size > this.listeners.size);
    this.onStateChange();
    return result;
  }

  /**
   * A listener that could not bind (address in use, VIP not yet present) is retried with backoff
   * by re-applying the current snapshot, which touches nothing else.
   */
  private scheduleBindRetry(pending: boolean): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (!pending || this.stopped) {
      this.retryDelay = BIND_RETRY_MIN_MS;
      return;
    }
    const snapshot = this.snapshot!;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.snapshot !== snapshot || this.stopped) return;
      this.retryDelay = Math.min(BIND_RETRY_MAX_MS, this.retryDelay * 2);
      this.apply(snapshot).then(
        (r) => r.opened > 0 && this.log.info({ opened: r.opened }, 'listeners bound on retry'),
        (err: Error) => this.log.warn({ err: err.message }, 'bind retry failed'),
      );
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  private create(plan: ListenerPlan, index: SnapshotIndex): AnyListener {
    switch (plan.kind as ListenerKind) {
      case 'tcp':
        return new TcpListener(plan.address, plan.port, plan.route!, this.metrics);
      case 'udp':
        return new UdpListener(plan.address, plan.port, plan.route!, this.metrics);
      case 'dns-udp':
        return new DnsUdpListener(plan.address, plan.port, this.zone, plan.vsUuid, this.metrics);
      case 'dns-tcp':
        return new DnsTcpListener(plan.address, plan.port, this.zone, plan.vsUuid, this.metrics);
      default: {
        const ctx: L7Context = { pools: this.pools, metrics: this.metrics, log: this.log };
        return createL7Listener({ address: plan.address, port: plan.port, tls: plan.tls, vsUuid: plan.vsUuid }, index, ctx);
      }
    }
  }

  /** Stops a listener: `stopped` when it no longer accepts, and it drains in the background. */
  private retire(active: Active): { stopped: Promise<void> } {
    const l = active.listener;
    const drained = l instanceof TcpListener ? l.close(DRAIN_MS) : l.close();
    const tracked = drained
      .catch((err: Error) => this.log.warn({ listener: active.plan.key, err: err.message }, 'listener close failed'))
      .finally(() => {
        this.draining.delete(tracked);
      });
    this.draining.add(tracked);
    void this.vips.release(active.plan.address);
    // The listening socket is released on the next turn of the event loop.
    return { stopped: new Promise((r) => setImmediate(r)) };
  }

  /** The state of each VS for the heartbeat and the controller's runtime view. */
  vsStates(): VsState[] {
    const out: VsState[] = [];
    for (const plan of this.plans.values()) {
      const err = this.bindErrors.get(plan.uuid);
      if (err) {
        out.push({ uuid: plan.uuid, oper_state: 'OPER_DOWN', reason: err });
        continue;
      }
      if (plan.listeners.length === 0 && !this.planErrors.has(plan.uuid)) {
        out.push({ uuid: plan.uuid, oper_state: 'OPER_DOWN', reason: 'traffic disabled or no services' });
        continue;
      }
      const down = plan.listeners.find((l) => l.target && !this.targetUp(l.target));
      if (down && plan.removePortsWhenDown && !plan.hasPolicies) out.push({ uuid: plan.uuid, oper_state: 'OPER_DOWN', reason: `no server up in ${down.target!.type} ${down.target!.uuid}; its ports are not listening (remove_listening_port_on_vs_down)` });
      else if (down && plan.app === 'L4') out.push({ uuid: plan.uuid, oper_state: 'OPER_DOWN', reason: `no server up in ${down.target!.type} ${down.target!.uuid}` });
      else if (down && plan.app === 'HTTP' && !(this.index.get('virtualservice')?.get(plan.uuid)?.http_policies?.length)) out.push({ uuid: plan.uuid, oper_state: 'OPER_DOWN', reason: `no server up in ${down.target!.type} ${down.target!.uuid}` });
      else out.push({ uuid: plan.uuid, oper_state: 'OPER_UP' });
    }
    // VH children have no sockets of their own: they are up when their parent listens and their pool has a server.
    const parents = new Map(out.map((st) => [st.uuid, st]));
    for (const vs of this.index.get('virtualservice')?.values() ?? []) {
      if (vs.type !== 'VS_TYPE_VH_CHILD' || vs.enabled === false) continue;
      const dsError = childDatascriptError(this.index, vs);
      if (dsError) { out.push({ uuid: vs.uuid, oper_state: 'OPER_DOWN', reason: dsError }); continue; }
      const parent = parents.get(vs.vh_parent_vs_ref);
      const target: ListenerPlan['target'] = typeof vs.pool_ref === 'string' ? { type: 'pool', uuid: vs.pool_ref } : typeof vs.pool_group_ref === 'string' ? { type: 'poolgroup', uuid: vs.pool_group_ref } : undefined;
      if (!parent) out.push({ uuid: vs.uuid, oper_state: 'OPER_DOWN', reason: 'its parent virtual service is not on this service engine' });
      else if (parent.oper_state === 'OPER_DOWN' && !parent.reason?.startsWith('no server up')) out.push({ uuid: vs.uuid, oper_state: 'OPER_DOWN', reason: `parent: ${parent.reason}` });
      else if (target && !this.targetUp(target) && !vs.http_policies?.length) out.push({ uuid: vs.uuid, oper_state: 'OPER_DOWN', reason: `no server up in ${target.type} ${target.uuid}` });
      else out.push({ uuid: vs.uuid, oper_state: 'OPER_UP' });
    }
    const vss = this.index.get('virtualservice');
    const poolUp = (uuid: string) => !!this.pools.pool(uuid)?.hasEligible();
    for (const st of out) {
      if (st.oper_state !== 'OPER_UP') continue;
      const vs = vss?.get(st.uuid);
      const short = vs && minPoolsUpShortfall(vs, this.index, poolUp);
      if (short) { st.oper_state = 'OPER_DOWN'; st.reason = short; }
    }
    return out;
  }

  private targetUp(t: NonNullable<ListenerPlan['target']>): boolean {
    if (t.type === 'pool') return !!this.pools.pool(t.uuid)?.hasEligible();
    return !!this.pools.poolGroup(t.uuid)?.hasEligible();
  }

  serverStates(): ServerReport[] {
    const out: ServerReport[] = [];
    for (const p of this.pools.allPools()) {
      for (const s of p.servers) {
        const r: ServerReport = { pool_uuid: p.uuid, ip: s.ip, port: s.port, state: s.eligible ? 'UP' : 'DOWN' };
        if (!s.enabled) r.reason = 'disabled';
        else if (!s.up && s.reason) r.reason = s.reason;
        out.push(r);
      }
    }
    return out;
  }

  listenerKeys(): string[] {
    return [...this.listeners.keys()];
  }

  /** Closes every listener (connections are cut after `drainMs`) and stops every monitor. */
  async stop(drainMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.queue;
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map(async (a) => {
      const l = a.listener;
      await (l instanceof TcpListener ? l.close(drainMs) : l.close()).catch(() => {});
    }));
    await Promise.race([Promise.all(this.draining), new Promise((r) => setTimeout(r, drainMs).unref())]);
    this.pools.stop();
    await this.vips.releaseAll();
  }
}
