// The analytics tables, in their own SQLite file in the data dir (DATA/analytics.db): time
// series per VS, pool and pool server (column `vs` holds the entity key: a VS or pool UUID, or
// `pool-uuid/ip:port`) at 5 s (kept an hour) and 5 min (kept a week), events, and sampled request logs.
// Separate from the object store: high write rate, no transactions with config, and local to
// each controller replica (every one collects).
import Database from 'better-sqlite3';
import { join } from 'node:path';

/** The counters an SE reports per VS (docs/engine-protocol.md), as deltas over one bucket. */
export const COUNTERS = ['connections', 'requests', 'responses_2xx', 'responses_3xx', 'responses_4xx', 'responses_5xx', 'bytes_in', 'bytes_out', 'latency_ms_sum', 'latency_count'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Sample = Record<Counter, number>;

export const STEPS = { realtime: 5, rollup: 300 } as const;
const KEEP_S: Record<number, number> = { 5: 3600, 300: 7 * 86400 };

export interface SeriesRow extends Sample { ts: number; open_conns: number; servers_up: number; servers_total: number; health: number }

export interface EventRow { ts: number; event_id: string; obj_type: string; obj_uuid: string; obj_name: string; reason: string }
export interface RequestLogRow { ts: number; vs: string; client: string; method: string; uri: string; status: number; server: string; latency_ms: number; se: string }

const GAUGES = ['open_conns', 'servers_up', 'servers_total', 'health'] as const;

export class AnalyticsStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly series: Database.Statement;
  private readonly insEvent: Database.Statement;
  private readonly insLog: Database.Statement;
  private readonly countEvents: Database.Statement;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'analytics.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    const cols = [...COUNTERS, ...GAUGES];
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS series (vs TEXT NOT NULL, step INTEGER NOT NULL, ts INTEGER NOT NULL, ${cols.map((c) => `${c} REAL NOT NULL DEFAULT 0`).join(', ')}, PRIMARY KEY (vs, step, ts)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, event_id TEXT NOT NULL, obj_type TEXT NOT NULL, obj_uuid TEXT NOT NULL, obj_name TEXT NOT NULL, reason TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
      CREATE INDEX IF NOT EXISTS events_obj_ts ON events (obj_uuid, ts);
      CREATE TABLE IF NOT EXISTS requestlogs (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, vs TEXT NOT NULL, client TEXT NOT NULL, method TEXT NOT NULL, uri TEXT NOT NULL, status INTEGER NOT NULL, server TEXT NOT NULL, latency_ms REAL NOT NULL, se TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS requestlogs_vs_ts ON requestlogs (vs, ts);
    `);
    // Counters add up (a 5-min row collects its 5 s rows); gauges keep the latest value, open
    // connections the highest (for max_open_conns).
    this.upsert = this.db.prepare(`INSERT INTO series (vs, step, ts, ${cols.join(', ')}) VALUES (@vs, @step, @ts, ${cols.map((c) => `@${c}`).join(', ')})
      ON CONFLICT (vs, step, ts) DO UPDATE SET ${COUNTERS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}, ${GAUGES.map((c) => (c === 'open_conns' ? `${c} = MAX(${c}, excluded.${c})` : `${c} = excluded.${c}`)).join(', ')}`);
    this.series = this.db.prepare(`SELECT ts, ${cols.join(', ')} FROM series WHERE vs = ? AND step = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?`);
    this.insEvent = this.db.prepare('INSERT INTO events (ts, event_id, obj_type, obj_uuid, obj_name, reason) VALUES (@ts, @event_id, @obj_type, @obj_uuid, @obj_name, @reason)');
    this.countEvents = this.db.prepare('SELECT event_id, COUNT(*) AS n FROM events WHERE obj_uuid IN (SELECT value FROM json_each(?)) AND ts >= ? GROUP BY event_id');
    this.insLog = this.db.prepare('INSERT INTO requestlogs (ts, vs, client, method, uri, status, server, latency_ms, se) VALUES (@ts, @vs, @client, @method, @uri, @status, @server, @latency_ms, @se)');
  }

  /**
   * One 5 s bucket per entity (ts in seconds, a multiple of 5), added into its 5 min row; the
   * 5 s row itself only for the entities in `fine` (all when it is not given).
   */
  addBucket(ts: number, rows: Map<string, Omit<SeriesRow, 'ts'>>, fine?: ReadonlySet<string>): void {
    const rollupTs = ts - (ts % STEPS.rollup);
    this.db.transaction(() => {
      for (const [vs, r] of rows) {
        if (!fine || fine.has(vs)) this.upsert.run({ vs, step: STEPS.realtime, ts, ...r });
        this.upsert.run({ vs, step: STEPS.rollup, ts: rollupTs, ...r });
      }
    })();
  }

  /** Rows of one entity (VS, pool, `pool/ip:port`) at `step`, newest first. */
  read(vs: string, step: number, from: number, to: number, limit: number): SeriesRow[] {
    return this.series.all(vs, step, from, to, limit) as SeriesRow[];
  }

  event(e: Omit<EventRow, 'ts'> & { ts?: number }): void {
    this.insEvent.run({ ts: e.ts ?? Date.now(), ...e });
  }

  requestLogs(rows: RequestLogRow[]): void {
    if (!rows.length) return;
    this.db.transaction(() => { for (const r of rows) this.insLog.run(r); })();
  }

  events(q: { from: number; to: number; objUuid?: string; limit: number }): EventRow[] {
    const where = ['ts >= @from', 'ts <= @to', ...(q.objUuid ? ['obj_uuid = @objUuid'] : [])].join(' AND ');
    return this.db.prepare(`SELECT ts, event_id, obj_type, obj_uuid, obj_name, reason FROM events WHERE ${where} ORDER BY id DESC LIMIT @limit`).all(q) as EventRow[];
  }

  /** Events about any of `objUuids` since `from` (ms), counted by event id. */
  eventCounts(objUuids: string[], from: number): Array<{ event_id: string; n: number }> {
    return this.countEvents.all(JSON.stringify(objUuids), from) as Array<{ event_id: string; n: number }>;
  }

  logs(q: { vs?: string; from: number; to: number; limit: number; errorsOnly?: boolean }): RequestLogRow[] {
    const where = ['ts >= @from', 'ts <= @to', ...(q.vs ? ['vs = @vs'] : []), ...(q.errorsOnly ? ['status >= 400'] : [])].join(' AND ');
    return this.db.prepare(`SELECT ts, vs, client, method, uri, status, server, latency_ms, se FROM requestlogs WHERE ${where} ORDER BY id DESC LIMIT @limit`).all(q) as RequestLogRow[];
  }

  /** Drops what is past its retention (and request logs and events older than a week). */
  prune(nowS = Math.floor(Date.now() / 1000)): void {
    for (const [step, keep] of Object.entries(KEEP_S)) this.db.prepare('DELETE FROM series WHERE step = ? AND ts < ?').run(Number(step), nowS - keep);
    this.db.prepare('DELETE FROM events WHERE ts < ?').run((nowS - KEEP_S[300]!) * 1000);
    this.db.prepare('DELETE FROM requestlogs WHERE ts < ?').run((nowS - KEEP_S[300]!) * 1000);
  }

  close(): void {
    this.db.close();
  }
}
