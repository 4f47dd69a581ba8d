// Per-VS, per-pool and per-server counters. The data path bumps plain numbers (cheap); the
// Prometheus metrics read them at scrape time, and the heartbeat sends the VS totals.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesHistogram, type HistogramSeries } from './histogram.js';
import type { VsMetrics } from '../contracts.js';

export interface VsCounters {
  connections: number;
  open: number;
  requests: number;
  responses_2xx: number;
  responses_3xx: number;
  responses_4xx: number;
  responses_5xx: number;
  bytes_in: number;
  bytes_out: number;
  latency_ms_sum: number;
  latency_count: number;
  /** Client connections closed at once because no server was up. */
  no_server: number;
}

/** One sampled L7 request (docs/engine-protocol.md, heartbeat `request_logs`). */
export interface RequestLogSample { ts: number; vs: string; client: string; method: string; uri: string; status: number; server: string; latency_ms: number }
const SAMPLE_EVERY = 10;
/** Per heartbeat: a burst of errors cannot grow the heartbeat without bound. */
const MAX_SAMPLES = 200;

/** Per pool and per server (pool/ip:port): the VS counters that apply to a target. */
type TargetCounters = Omit<VsCounters, 'connections' | 'open' | 'no_server'>;
const newTarget = (): TargetCounters => ({ requests: 0, responses_2xx: 0, responses_3xx: 0, responses_4xx: 0, responses_5xx: 0, bytes_in: 0, bytes_out: 0, latency_ms_sum: 0, latency_count: 0 });

const newVs = (): VsCounters => ({ connections: 0, open: 0, requests: 0, responses_2xx: 0, responses_3xx: 0, responses_4xx: 0, responses_5xx: 0, bytes_in: 0, bytes_out: 0, latency_ms_sum: 0, latency_count: 0, no_server: 0 });

export interface HealthView {
  /** [poolUuid, poolName, serverKey, up, open connections] for every server of every pool. */
  servers(): Iterable<[string, string, string, boolean, number]>;
  vsName(uuid: string): string;
}

/** Latency buckets (seconds) of the VS histogram. */
const VS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Coarser for pools and servers: a series per server, so fewer buckets keep the scrape small. */
const TARGET_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60];
const CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

/** Counters and latency series of one pool or server; created on its first request, then reused. */
interface TargetSlot {
  c: TargetCounters;
  h: HistogramSeries;
}
interface PoolSlot extends TargetSlot {
  servers: Map<string, TargetSlot>;
}

export class EngineMetrics implements VsMetrics {
  readonly registry = new Registry();
  readonly vs = new Map<string, VsCounters>();
  private readonly pools = new Map<string, PoolSlot>();
  private readonly vsLatency: SeriesHistogram;
  private readonly poolLatency: SeriesHistogram;
  private readonly serverLatency: SeriesHistogram;
  private readonly vsSeries = new Map<string, HistogramSeries>();
  health: HealthView | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portico_engine_' });
    this.vsLatency = new SeriesHistogram('portico_vs_latency_seconds', 'Request (L7) or session (L4) duration per virtual service', VS_BUCKETS, this.registry);
    this.poolLatency = new SeriesHistogram('portico_pool_latency_seconds', 'Request (L7) or session (L4) duration per pool', TARGET_BUCKETS, this.registry);
    this.serverLatency = new SeriesHistogram('portico_server_latency_seconds', 'Request (L7) or session (L4) duration per server (pool, ip:port)', TARGET_BUCKETS, this.registry);
    this.counterFrom('portico_vs_connections_total', 'Client connections accepted', (c) => c.connections);
    this.counterFrom('portico_vs_requests_total', 'HTTP requests (L7) or sessions (L4) finished', (c) => c.requests);
    this.counterFrom('portico_vs_bytes_in_total', 'Bytes received from clients', (c) => c.bytes_in);
    this.counterFrom('portico_vs_bytes_out_total', 'Bytes sent to clients', (c) => c.bytes_out);
    this.counterFrom('portico_vs_no_server_total', 'Client connections closed at once because no server was up', (c) => c.no_server);
    const self = this;
    new Gauge({
      name: 'portico_vs_open_connections', help: 'Open client connections', labelNames: ['vs', 'vs_name'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [uuid, c] of self.vs) this.set({ vs: uuid, vs_name: self.health?.vsName(uuid) ?? '' }, c.open);
      },
    });
    new Counter({
      name: 'portico_vs_responses_total', help: 'HTTP responses by status class', labelNames: ['vs', 'vs_name', 'class'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [uuid, c] of self.vs) {
          const name = self.health?.vsName(uuid) ?? '';
          for (const k of CLASSES) if (c[`responses_${k}`]) this.inc({ vs: uuid, vs_name: name, class: k }, c[`responses_${k}`]);
        }
      },
    });
    this.targetCounters('pool', 'per pool');
    this.targetCounters('server', 'per server (pool, ip:port)');
    new Gauge({
      name: 'portico_server_up', help: '1 when the server is up (health monitors), else 0', labelNames: ['pool', 'pool_name', 'server'], registers: [this.registry],
      collect() {
        this.reset();
        if (!self.health) return;
        for (const [pool, poolName, server, up] of self.health.servers()) this.set({ pool, pool_name: poolName, server }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'portico_server_open_connections', help: 'Connections (L4) or requests (L7) open on the server', labelNames: ['pool', 'server'], registers: [this.registry],
      collect() {
        this.reset();
        if (!self.health) return;
        for (const [pool, , server, , open] of self.health.servers()) this.set({ pool, server }, open);
      },
    });
    new Gauge({
      name: 'portico_pool_open_connections', help: 'Connections (L4) or requests (L7) open on the servers of the pool', labelNames: ['pool'], registers: [this.registry],
      collect() {
        this.reset();
        if (!self.health) return;
        const sums = new Map<string, number>();
        for (const [pool, , , , open] of self.health.servers()) sums.set(pool, (sums.get(pool) ?? 0) + open);
        for (const [pool, open] of sums) this.set({ pool }, open);
      },
    });
  }

  /** Requests, responses by class and bytes per pool or per server, read from the slots at scrape time. */
  private targetCounters(kind: 'pool' | 'server', per: string): void {
    const labelNames = kind === 'pool' ? ['pool'] : ['pool', 'server'];
    const each = (fn: (labels: Record<string, string>, c: TargetCounters) => void): void => {
      for (const [pool, slot] of this.pools) {
        if (kind === 'pool') fn({ pool }, slot.c);
        else for (const [server, s] of slot.servers) fn({ pool, server }, s.c);
      }
    };
    const counter = (name: string, help: string, field: keyof TargetCounters): void => {
      new Counter({
        name, help, labelNames, registers: [this.registry],
        collect() {
          this.reset();
          each((labels, c) => c[field] && this.inc(labels, c[field]));
        },
      });
    };
    counter(`portico_${kind}_requests_total`, `Requests (L7) or sessions (L4) ${per}`, 'requests');
    counter(`portico_${kind}_bytes_in_total`, `Bytes received from clients ${per}`, 'bytes_in');
    counter(`portico_${kind}_bytes_out_total`, `Bytes sent to clients ${per}`, 'bytes_out');
    new Counter({
      name: `portico_${kind}_responses_total`, help: `HTTP responses by status class ${per}`, labelNames: [...labelNames, 'class'], registers: [this.registry],
      collect() {
        this.reset();
        each((labels, c) => {
          for (const k of CLASSES) if (c[`responses_${k}`]) this.inc({ ...labels, class: k }, c[`responses_${k}`]);
        });
      },
    });
  }

  private counterFrom(name: string, help: string, read: (c: VsCounters) => number): void {
    const self = this;
    new Counter({
      name, help, labelNames: ['vs', 'vs_name'], registers: [this.registry],
      collect() {
        this.reset();
        for (const [uuid, c] of self.vs) {
          const v = read(c);
          if (v) this.inc({ vs: uuid, vs_name: self.health?.vsName(uuid) ?? '' }, v);
        }
      },
    });
  }

  counters(vsUuid: string): VsCounters {
    let c = this.vs.get(vsUuid);
    if (!c) this.vs.set(vsUuid, (c = newVs()));
    return c;
  }

  connectionOpened(vsUuid: string): void {
    const c = this.counters(vsUuid);
    c.connections++;
    c.open++;
  }

  connectionClosed(vsUuid: string): void {
    const c = this.counters(vsUuid);
    if (c.open > 0) c.open--;
  }

  noServer(vsUuid: string): void {
    this.counters(vsUuid).no_server++;
  }

  /**
   * One finished request (L7) or session (L4; `status` 0, no status class), counted and observed
   * once on its VS, its pool and its server. Map lookups only: no allocation after the first
   * request of a VS, pool or server.
   */
  request(vsUuid: string, status: number, latencyMs: number, bytesIn: number, bytesOut: number, poolUuid?: string, serverKey?: string): void {
    const seconds = latencyMs / 1000;
    count(this.counters(vsUuid), status, latencyMs, bytesIn, bytesOut);
    let h = this.vsSeries.get(vsUuid);
    if (!h) this.vsSeries.set(vsUuid, (h = this.vsLatency.create({ vs: vsUuid })));
    this.vsLatency.observe(h, seconds);
    if (!poolUuid) return;
    let pool = this.pools.get(poolUuid);
    if (!pool) this.pools.set(poolUuid, (pool = { c: newTarget(), h: this.poolLatency.create({ pool: poolUuid }), servers: new Map() }));
    count(pool.c, status, latencyMs, bytesIn, bytesOut);
    this.poolLatency.observe(pool.h, seconds);
    if (!serverKey) return;
    let server = pool.servers.get(serverKey);
    if (!server) pool.servers.set(serverKey, (server = { c: newTarget(), h: this.serverLatency.create({ pool: poolUuid, server: serverKey }) }));
    count(server.c, status, latencyMs, bytesIn, bytesOut);
    this.serverLatency.observe(server.h, seconds);
  }

  /**
   * Forgets the pools and servers no longer configured (after an apply), so their series stop
   * being exported and the maps do not grow with churn. A request finishing later on one of them
   * starts a fresh slot.
   */
  retainTargets(pools: Iterable<{ uuid: string; servers: Iterable<{ key: string }> }>): void {
    const live = new Map<string, Set<string>>();
    for (const p of pools) live.set(p.uuid, new Set([...p.servers].map((s) => s.key)));
    for (const [uuid, slot] of this.pools) {
      const servers = live.get(uuid);
      if (!servers) {
        this.poolLatency.drop(slot.h);
        for (const s of slot.servers.values()) this.serverLatency.drop(s.h);
        this.pools.delete(uuid);
        continue;
      }
      for (const [key, s] of slot.servers) {
        if (servers.has(key)) continue;
        this.serverLatency.drop(s.h);
        slot.servers.delete(key);
      }
    }
  }

  /** Request-log samples since the last heartbeat: every error, and every SAMPLE_EVERY-th request of a VS. */
  private logs: RequestLogSample[] = [];

  /** Follows request() for the same L7 request: the VS's request count, just bumped, picks the samples (no second count). */
  sample(vsUuid: string, status: number, latencyMs: number, client: string, method: string, uri: string, server: string): void {
    if (status < 400 && (this.vs.get(vsUuid)?.requests ?? 0) % SAMPLE_EVERY !== 1) return;
    if (this.logs.length >= MAX_SAMPLES) this.logs.shift();
    this.logs.push({ ts: Date.now(), vs: vsUuid, client, method, uri: uri.length > 512 ? uri.slice(0, 512) : uri, status, server, latency_ms: Math.round(latencyMs * 100) / 100 });
  }

  /** The samples for the next heartbeat (and forgets them). */
  takeRequestLogs(): RequestLogSample[] {
    const out = this.logs;
    this.logs = [];
    return out;
  }

  /** Cumulative VS counters for the heartbeat (docs/engine-protocol.md), with the open-connections gauge. */
  summary(): Record<string, Omit<VsCounters, 'open' | 'no_server'> & { open_conns: number }> {
    const out: Record<string, Omit<VsCounters, 'open' | 'no_server'> & { open_conns: number }> = {};
    for (const [uuid, c] of this.vs) {
      const { open, no_server: _n, ...rest } = c;
      out[uuid] = { ...rest, open_conns: open };
    }
    return out;
  }

  /** Cumulative counters per pool and per server (`pool/ip:port`) for the heartbeat, servers with their open connections. */
  targetSummary(): { pool: Record<string, TargetCounters>; server: Record<string, TargetCounters & { open_conns: number }> } {
    const server: Record<string, TargetCounters & { open_conns: number }> = {};
    const pool: Record<string, TargetCounters> = {};
    for (const [p, slot] of this.pools) {
      pool[p] = slot.c;
      for (const [key, s] of slot.servers) server[`${p}/${key}`] = { ...s.c, open_conns: 0 };
    }
    for (const [pool, , key, , open] of this.health?.servers() ?? []) {
      const k = `${pool}/${key}`;
      if (server[k]) server[k].open_conns = open;
      else if (open > 0) server[k] = { ...newTarget(), open_conns: open };
    }
    return { pool, server };
  }
}

/** `status` 0 is an L4 session (no status class). */
function count(c: TargetCounters, status: number, latencyMs: number, bytesIn: number, bytesOut: number): void {
  c.requests++;
  if (status >= 200 && status < 300) c.responses_2xx++;
  else if (status >= 300 && status < 400) c.responses_3xx++;
  else if (status >= 400 && status < 500) c.responses_4xx++;
  else if (status >= 500) c.responses_5xx++;
  c.bytes_in += bytesIn;
  c.bytes_out += bytesOut;
  c.latency_ms_sum += latencyMs;
  c.latency_count++;
}
