import { randomBytes } from 'node:crypto';
// What the controller knows about its service engines at run time: the last heartbeat of each,
// and from it the state of every virtual service (for /api/virtualservice/<uuid>/runtime) and
// of every pool server. In memory; the SE's record keeps the durable part.

export interface VsReport { uuid: string; oper_state: 'OPER_UP' | 'OPER_DOWN'; reason?: string }
export interface ServerReport { pool_uuid: string; ip: string; port: number; state: 'UP' | 'DOWN'; reason?: string }
export interface HeartbeatReport {
  applied_version: number;
  started_at?: string;
  cpu_percent?: number;
  rss_bytes?: number;
  virtualservices: VsReport[];
  servers: ServerReport[];
  /** Cumulative counters per VS, pool and server (`pool/ip:port`); `open_conns` is a gauge. */
  metrics?: { virtualservice?: Record<string, Record<string, number>>; pool?: Record<string, Record<string, number>>; server?: Record<string, Record<string, number>> };
}

export interface PoolServers { up: number; total: number; servers: ServerReport[] }

export interface SeState {
  uuid: string;
  name: string;
  groupUuid: string;
  lastHeartbeat: number;
  intervalMs: number;
  report?: HeartbeatReport;
  /**
   * The request-log samples of the last heartbeats (a few seconds), each batch with an id unique
   * across replicas: the analytics of every replica take each batch once, even when several
   * heartbeats come between two collections or the state reaches them through another replica.
   */
  logBatches?: LogBatch[];
}

export interface LogBatch { id: string; at: number; logs: unknown[] }

/** How long a batch stays (other replicas merge states once a second) and how many samples an SE keeps at most. */
const LOG_BACKLOG_MS = 5000;
const LOG_BACKLOG_MAX = 2000;

export interface VsRuntime {
  oper_status: { state: string; reason: string[]; last_changed_time: { secs: number; usecs: number } };
  percent_ses_up: number;
  num_se_assigned: number;
  /** `standby`: holds the VS as standby (HA_MODE_LEGACY_ACTIVE_STANDBY): configured, not serving; `primary`: the first active SE. */
  se_list: { se_uuid: string; se_name: string; connected: boolean; oper_state?: string; reason?: string; primary: boolean; standby: boolean }[];
  /** Servers of the pools this VS uses, as reported by its SEs. */
  servers: { pool_uuid: string; ip: string; port: number; state: string; reason?: string }[];
  metrics?: Record<string, number>;
}

/** A missed heartbeat window this many times the interval: the SE counts as disconnected. */
const MISSED = 3;

/** Where placement (src/controller/placement) put each VS; absent before placement runs. */
export interface PlacementView {
  /** SE UUIDs holding the VS, or undefined when placement has not seen it. */
  sesOf(vsUuid: string): string[] | undefined;
  /** Why the VS is on fewer SEs than it wants. */
  reasonOf(vsUuid: string): string | undefined;
  /** SE UUID → name, for SEs that have not reported since this controller started. */
  seName(seUuid: string): string | undefined;
  /** The SEs holding the VS as standby (legacy active/standby), if any. */
  standbyOf?(vsUuid: string): ReadonlySet<string> | undefined;
}

export class EngineRegistry {
  readonly engines = new Map<string, SeState>();
  /** Batch ids: this registry's random tag and a sequence. */
  private readonly logTag = randomBytes(6).toString('hex');
  private logSeq = 0;
  placement?: PlacementView;
  /**
   * SE groups with realtime_se_metrics on (kept by the analytics): their SEs send pool and
   * server counters with every heartbeat, the others every 5 s. Undefined: every heartbeat.
   */
  realtimeGroups?: ReadonlySet<string>;
  /** VS UUIDs of each group's current snapshot (kept by the snapshot service). */
  readonly groupVses = new Map<string, Set<string>>();
  private readonly changedAt = new Map<string, { state: string; at: number }>();

  /** The SE's log backlog after a heartbeat that carried `logs` (recent batches, newest kept). */
  logBacklog(prev: SeState | undefined, logs: unknown[] | undefined, now = Date.now()): LogBatch[] {
    const kept = (prev?.logBatches ?? []).filter((b) => now - b.at <= LOG_BACKLOG_MS);
    if (logs?.length) kept.push({ id: `${this.logTag}:${++this.logSeq}`, at: now, logs });
    let total = 0;
    for (let i = kept.length - 1; i >= 0; i--) {
      total += kept[i]!.logs.length;
      if (total > LOG_BACKLOG_MAX && i < kept.length - 1) return kept.slice(i + 1);
    }
    return kept;
  }

  connected(se: SeState, now = Date.now()): boolean {
    return now - se.lastHeartbeat <= se.intervalMs * MISSED;
  }

  /** The runtime view of a VS across the SEs of its group. `groupUuid` is where it is placed. */
  virtualServiceRuntime(vsUuid: string, groupUuid?: string, enabled = true): VsRuntime {
    const now = Date.now();
    const placedOn = this.placement?.sesOf(vsUuid);
    const ses = placedOn
      ? placedOn.map((u) => this.engines.get(u) ?? { uuid: u, name: this.placement!.seName(u) ?? u, groupUuid: groupUuid ?? '', lastHeartbeat: 0, intervalMs: 1 })
      : [...this.engines.values()].filter((se) => (groupUuid ? se.groupUuid === groupUuid : this.groupVses.get(se.groupUuid)?.has(vsUuid)));
    const seList: VsRuntime['se_list'] = [];
    const reasons: string[] = [];
    const standbys = this.placement?.standbyOf?.(vsUuid);
    let up = 0;
    let active = 0;
    const servers = new Map<string, VsRuntime['servers'][number]>();
    const metrics: Record<string, number> = {};
    for (const se of ses) {
      const connected = this.connected(se, now);
      const r = se.report?.virtualservices.find((v) => v.uuid === vsUuid);
      // A standby holds the config without serving: it neither makes the VS up nor partitions it.
      const standby = !!standbys?.has(se.uuid);
      seList.push({ se_uuid: se.uuid, se_name: se.name, connected, oper_state: r?.oper_state, reason: r?.reason, primary: !standby && active === 0, standby });
      if (standby) continue;
      active++;
      if (!connected) {
        reasons.push(`service engine ${se.name} is not connected`);
        continue;
      }
      if (r?.oper_state === 'OPER_UP') up++;
      else if (r?.reason) reasons.push(`${se.name}: ${r.reason}`);
      else if (!r) reasons.push(`${se.name}: not applied yet`);
      for (const s of se.report?.servers ?? []) {
        const key = `${s.pool_uuid}|${s.ip}|${s.port}`;
        const prev = servers.get(key);
        // Up on any SE is up; otherwise keep the reason.
        if (!prev || (prev.state !== 'UP' && s.state === 'UP')) servers.set(key, { ...s });
      }
      for (const [k, v] of Object.entries(se.report?.metrics?.virtualservice?.[vsUuid] ?? {})) if (typeof v === 'number') metrics[k] = (metrics[k] ?? 0) + v;
    }
    let state: string;
    if (!enabled) state = 'OPER_DISABLED';
    else if (up > 0 && up < active) {
      // Scaled out and some of its SEs do not serve it (down, or missing heartbeats): partitioned.
      state = 'OPER_PARTITIONED';
      reasons.unshift(`up on ${up} of ${active} service engines`);
    } else if (up > 0) state = 'OPER_UP';
    else if (ses.length === 0) {
      state = 'OPER_DOWN';
      reasons.push(this.placement?.reasonOf(vsUuid) ?? 'no service engine in the SE group');
    } else {
      const serving = seList.filter((s) => !s.standby);
      state = serving.some((s) => s.connected) && serving.every((s) => !s.connected || s.oper_state === undefined) ? 'OPER_PROCESSING' : 'OPER_DOWN';
    }
    const prev = this.changedAt.get(vsUuid);
    if (!prev || prev.state !== state) this.changedAt.set(vsUuid, { state, at: now });
    const at = this.changedAt.get(vsUuid)!.at;
    return {
      oper_status: { state, reason: state === 'OPER_UP' ? [] : reasons, last_changed_time: { secs: Math.floor(at / 1000), usecs: (at % 1000) * 1000 } },
      percent_ses_up: active ? Math.round((up / active) * 100) : 0,
      num_se_assigned: ses.length,
      se_list: seList,
      servers: [...servers.values()],
      metrics,
    };
  }

  /** Pool server states as the SEs report them (up on any connected SE counts as up). */
  poolServers(poolUuid: string): PoolServers {
    return this.allPoolServers(poolUuid).get(poolUuid) ?? { up: 0, total: 0, servers: [] };
  }

  /** Every pool's server states (or one pool's), in one pass over the SEs' reports. */
  allPoolServers(onlyPool?: string): Map<string, PoolServers> {
    const now = Date.now();
    const byPool = new Map<string, Map<string, ServerReport>>();
    for (const se of this.engines.values()) {
      if (!this.connected(se, now)) continue;
      for (const s of se.report?.servers ?? []) {
        if (onlyPool !== undefined && s.pool_uuid !== onlyPool) continue;
        let byKey = byPool.get(s.pool_uuid);
        if (!byKey) byPool.set(s.pool_uuid, (byKey = new Map()));
        const key = `${s.ip}|${s.port}`;
        const prev = byKey.get(key);
        if (!prev || (prev.state !== 'UP' && s.state === 'UP')) byKey.set(key, s);
      }
    }
    const out = new Map<string, PoolServers>();
    for (const [pool, byKey] of byPool) {
      const servers = [...byKey.values()];
      out.set(pool, { up: servers.filter((s) => s.state === 'UP').length, total: servers.length, servers });
    }
    return out;
  }
}
