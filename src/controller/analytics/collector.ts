// Turns the SEs' heartbeats (kept by the engines registry) into analytics: every second it
// records state changes as events (VS, pool server, certificate), every 5 s it takes the
// difference of each SE's cumulative counters per VS, sums them over the SEs, and writes one
// 5 s row per VS (added into its 5 min row). Request-log samples ride on the heartbeats.
// Runs on every replica: each one's registry holds every SE (heard itself or merged from the
// others, src/controller/cluster/heartbeats.ts), so the analytics API of any replica shows
// every SE's traffic, and a new leader has the history.
import type { EngineRegistry, HeartbeatReport } from '../engines/registry.js';
import type { StoredObject } from '../engines/host.js';
import { COUNTERS, STEPS, type AnalyticsStore, type RequestLogRow, type Sample, type SeriesRow } from './store.js';
import { healthScore, type HealthScore } from './health.js';
import type { RealtimeMetrics } from './realtime.js';
import { alertSummary, openAlerts, CERT_WARN_DAYS, type AlertSummary, type CertInfo } from './alerts.js';

type Objects = Map<string, Map<string, StoredObject>>;

export interface CollectorDeps {
  store: AnalyticsStore;
  registry: EngineRegistry;
  objects: () => Promise<Objects>;
  /** SE groups with realtime_se_metrics on (their pool/server series at 5 s); all, without it. */
  realtime?: RealtimeMetrics;
  log?: { warn(obj: object, msg: string): void };
}

/** The heartbeat's `metrics` maps the collector keeps series of (docs/engine-protocol.md). */
const ENTITY_KINDS = ['virtualservice', 'pool', 'server'] as const;

/** The series key of one pool server, as the engine names it in its heartbeat. */
export const serverEntity = (poolUuid: string, ipPort: string): string => `${poolUuid}/${ipPort}`;
/** `ip:port` (`[v6]:port`), as the engine keys its servers. */
export const serverAddr = (ip: string, port: number | string): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** VS states that are events when a VS enters them. */
const VS_EVENTS: Record<string, string> = { OPER_UP: 'VS_UP', OPER_DOWN: 'VS_DOWN', OPER_PARTITIONED: 'VS_PARTITIONED' };

const zero = (): Sample => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Sample;
const DAY_MS = 86_400_000;

/** A request-log sample as the engine sends it (docs/engine-protocol.md, `request_logs`). */
interface LogSample { ts?: number; vs?: string; client?: string; method?: string; uri?: string; status?: number; server?: string; latency_ms?: number }

export class AnalyticsCollector {
  private readonly timer: NodeJS.Timeout;
  private lastBucket = 0;
  /** `${se}|${vs}` → last cumulative counters; SE → its started_at. */
  private readonly last = new Map<string, Sample>();
  private readonly seStarted = new Map<string, string | undefined>();
  /** Request-log batches taken (ids of batches still in some SE's backlog). */
  private taken = new Set<string>();
  private readonly vsState = new Map<string, string>();
  private readonly serverState = new Map<string, string>();
  private readonly certWarned = new Set<string>();
  /** The last bucket's sums per VS (for health: error rate). */
  private recent = new Map<string, Sample>();
  private busy = false;
  private readonly startedAt = Date.now();

  constructor(private readonly d: CollectorDeps) {
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  private async tick(now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const objects = await this.d.objects();
      this.takeRequestLogs();
      this.stateEvents(objects, now);
      // Every tick: realtime metrics turn off on time.
      const realtime = this.d.realtime?.groups(objects.get('serviceenginegroup')?.values() ?? [], now);
      if (realtime) this.d.registry.realtimeGroups = realtime;
      const bucket = Math.floor(now / 1000 / STEPS.realtime) * STEPS.realtime;
      if (bucket !== this.lastBucket) {
        this.lastBucket = bucket;
        const rows = this.bucketRows(objects, realtime);
        this.d.store.addBucket(bucket, rows.rows, rows.fine);
        if (bucket % 3600 === 0) this.d.store.prune();
      }
    } catch (err) {
      this.d.log?.warn({ err: (err as Error).message }, 'analytics collection failed');
    } finally {
      this.busy = false;
    }
  }

  /**
   * Counter deltas since the last bucket, summed over the SEs per VS, pool and server
   * (`pool/ip:port`), and the entities whose 5 s rows are kept (`fine`: every VS, and the pools
   * and servers an SE of a realtime-metrics group reports; undefined: all).
   */
  private bucketRows(objects: Objects, realtime?: ReadonlySet<string>): { rows: Map<string, Omit<SeriesRow, 'ts'>>; fine?: Set<string> } {
    const sums = new Map<string, Sample>();
    const fine = realtime && new Set<string>();
    const open = new Map<string, number>();
    const now = Date.now();
    for (const se of this.d.registry.engines.values()) {
      const r = se.report;
      if (!r) continue;
      const restarted = this.seStarted.has(se.uuid) && this.seStarted.get(se.uuid) !== r.started_at;
      // An SE that started before this collector: its counters so far are history, not this bucket.
      const firstSight = !this.seStarted.has(se.uuid) && !(Date.parse(r.started_at ?? '') >= this.startedAt);
      this.seStarted.set(se.uuid, r.started_at);
      const connected = this.d.registry.connected(se, now);
      const detailed = !!realtime?.has(se.groupUuid);
      for (const kind of ENTITY_KINDS) {
        for (const [entity, cur] of Object.entries(r.metrics?.[kind] ?? {})) {
          if (detailed || kind === 'virtualservice') fine?.add(entity);
          // Open connections are a gauge: only an SE still reporting counts.
          if (connected && typeof cur.open_conns === 'number') open.set(entity, (open.get(entity) ?? 0) + cur.open_conns);
          const key = `${se.uuid}|${entity}`;
          const prev = this.last.get(key);
          const sample = zero();
          for (const c of COUNTERS) sample[c] = typeof cur[c] === 'number' ? cur[c]! : 0;
          this.last.set(key, sample);
          if (firstSight) continue;
          let sum = sums.get(entity);
          if (!sum) sums.set(entity, (sum = zero()));
          const reset = restarted || !prev || COUNTERS.some((c) => sample[c] < prev[c]);
          for (const c of COUNTERS) sum[c] += reset ? sample[c] : sample[c] - prev![c];
        }
      }
    }
    this.recent = sums;
    const rows = new Map<string, Omit<SeriesRow, 'ts'>>();
    for (const vs of objects.get('virtualservice')?.keys() ?? []) fine?.add(vs);
    const row = (entity: string, up: number, total: number, health: number) =>
      rows.set(entity, { ...(sums.get(entity) ?? zero()), open_conns: open.get(entity) ?? 0, servers_up: up, servers_total: total, health });
    for (const vs of objects.get('virtualservice')?.values() ?? []) {
      if (vs.enabled === false) continue;
      const rt = this.d.registry.virtualServiceRuntime(vs.uuid, vs.se_group_ref as string | undefined, true);
      if (rt.num_se_assigned === 0 && !sums.has(vs.uuid)) continue;
      row(vs.uuid, rt.servers.filter((s) => s.state === 'UP').length, rt.servers.length, this.health(vs, objects).health_score);
    }
    // Pools and their servers: those some connected SE reports (health in the gauges), or that had traffic.
    const allServers = this.d.registry.allPoolServers();
    for (const pool of objects.get('pool')?.keys() ?? []) {
      const ps = allServers.get(pool) ?? { up: 0, total: 0, servers: [] };
      if (ps.total === 0 && !sums.has(pool)) continue;
      row(pool, ps.up, ps.total, ps.total ? Math.round((ps.up * 100) / ps.total) : 0);
      for (const s of ps.servers) {
        const up = s.state === 'UP' ? 1 : 0;
        row(serverEntity(pool, serverAddr(s.ip, s.port)), up, 1, up * 100);
      }
    }
    return { rows, fine };
  }

  /** The health score of a VS now, with its factors. */
  health(vs: StoredObject, objects: Objects): HealthScore {
    const rt = this.d.registry.virtualServiceRuntime(vs.uuid, vs.se_group_ref as string | undefined, vs.enabled !== false);
    const recent = this.recent.get(vs.uuid);
    let cpu = 0;
    for (const s of rt.se_list) cpu = Math.max(cpu, this.d.registry.engines.get(s.se_uuid)?.report?.cpu_percent ?? 0);
    let certDays: number | undefined;
    for (const c of certsOf(vs, objects)) {
      const days = (Date.parse(c.not_after) - Date.now()) / DAY_MS;
      if (certDays === undefined || days < certDays) certDays = days;
    }
    return healthScore({
      oper_state: rt.oper_status.state, percent_ses_up: rt.percent_ses_up,
      servers_up: rt.servers.filter((s) => s.state === 'UP').length, servers_total: rt.servers.length,
      responses: recent ? recent.responses_2xx + recent.responses_3xx + recent.responses_4xx + recent.responses_5xx : 0,
      errors_5xx: recent?.responses_5xx ?? 0, se_cpu_percent: cpu, cert_days_left: certDays,
    });
  }

  /** The VS's open alerts and its last day's events by level (inventory). */
  alertSummary(vs: StoredObject, objects: Objects, now = Date.now()): AlertSummary {
    const rt = this.d.registry.virtualServiceRuntime(vs.uuid, vs.se_group_ref as string | undefined, vs.enabled !== false);
    const certs = certsOf(vs, objects);
    const about = new Set<string>([vs.uuid, ...rt.se_list.map((s) => s.se_uuid), ...rt.servers.map((s) => s.pool_uuid), ...certs.map((c) => c.uuid)]);
    return alertSummary(openAlerts(vs, rt, certs, now), this.d.store.eventCounts([...about], now - DAY_MS));
  }

  private stateEvents(objects: Objects, now: number): void {
    const vses = objects.get('virtualservice') ?? new Map();
    const servers = new Map<string, { state: string; reason?: string; pool: string }>();
    for (const vs of vses.values()) {
      const rt = this.d.registry.virtualServiceRuntime(vs.uuid, vs.se_group_ref as string | undefined, vs.enabled !== false);
      const state = rt.oper_status.state;
      const was = this.vsState.get(vs.uuid);
      this.vsState.set(vs.uuid, state);
      if (was !== undefined && was !== state && VS_EVENTS[state]) {
        this.event(now, VS_EVENTS[state], 'virtualservice', vs, state === 'OPER_UP' ? `virtual service ${vs.name} is up` : `virtual service ${vs.name} is ${state === 'OPER_DOWN' ? 'down' : 'partitioned'}: ${rt.oper_status.reason.join('; ') || 'no reason given'}`);
      }
      for (const s of rt.servers) servers.set(`${s.pool_uuid}|${s.ip}:${s.port}`, { state: s.state, reason: s.reason, pool: s.pool_uuid });
    }
    for (const uuid of [...this.vsState.keys()]) if (!vses.has(uuid)) this.vsState.delete(uuid);
    const pools = objects.get('pool');
    for (const [key, s] of servers) {
      const was = this.serverState.get(key);
      this.serverState.set(key, s.state);
      if (was === undefined || was === s.state) continue;
      const pool = pools?.get(s.pool) ?? { uuid: s.pool, name: s.pool };
      const addr = key.slice(key.indexOf('|') + 1);
      this.event(now, s.state === 'UP' ? 'SERVER_UP' : 'SERVER_DOWN', 'pool', pool as StoredObject, s.state === 'UP' ? `server ${addr} of pool ${pool.name} is up` : `server ${addr} of pool ${pool.name} is down${s.reason ? `: ${s.reason}` : ''}`);
    }
    for (const c of objects.get('sslkeyandcertificate')?.values() ?? []) {
      const notAfter = (c.certificate as { not_after?: string } | undefined)?.not_after;
      if (!notAfter || this.certWarned.has(c.uuid) || c.name.startsWith('System-')) continue;
      const days = (Date.parse(notAfter) - now) / DAY_MS;
      if (days >= CERT_WARN_DAYS) continue;
      this.certWarned.add(c.uuid);
      // Once per certificate, also across restarts of this controller.
      if (this.d.store.eventCounts([c.uuid], now - CERT_WARN_DAYS * DAY_MS).some((e) => e.event_id === 'SSL_CERT_EXPIRE')) continue;
      this.event(now, 'SSL_CERT_EXPIRE', 'sslkeyandcertificate', c, days < 0 ? `certificate ${c.name} expired on ${notAfter}` : `certificate ${c.name} expires in ${Math.floor(days)} days (${notAfter})`);
    }
  }

  /** New request-log batches of every SE (heard here or through another replica), each once. */
  private takeRequestLogs(): void {
    const rows: RequestLogRow[] = [];
    const present = new Set<string>();
    for (const se of this.d.registry.engines.values()) {
      for (const batch of se.logBatches ?? []) {
        present.add(batch.id);
        if (this.taken.has(batch.id)) continue;
        for (const l of batch.logs as LogSample[]) {
          if (!l || typeof l.vs !== 'string') continue;
          rows.push({
            ts: typeof l.ts === 'number' ? l.ts : Date.now(), vs: l.vs, client: String(l.client ?? ''), method: String(l.method ?? ''),
            uri: String(l.uri ?? '').slice(0, 2048), status: Number(l.status ?? 0), server: String(l.server ?? ''), latency_ms: Number(l.latency_ms ?? 0), se: se.name,
          });
        }
      }
    }
    // A batch that left every backlog never comes back.
    this.taken = present;
    this.d.store.requestLogs(rows);
  }

  /** Records an event (also used by placement for SE and placement events). */
  event(ts: number, event_id: string, obj_type: string, obj: { uuid: string; name: string }, reason: string): void {
    this.d.store.event({ ts, event_id, obj_type, obj_uuid: obj.uuid, obj_name: obj.name, reason });
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** The certificates a VS serves (`ssl_key_and_certificate_refs`), as stored. */
function certsOf(vs: StoredObject, objects: Objects): CertInfo[] {
  const out: CertInfo[] = [];
  for (const ref of (vs.ssl_key_and_certificate_refs as string[] | undefined) ?? []) {
    const c = objects.get('sslkeyandcertificate')?.get(ref);
    const na = (c?.certificate as { not_after?: string } | undefined)?.not_after;
    if (c && na) out.push({ uuid: c.uuid, name: c.name, not_after: na });
  }
  return out;
}
