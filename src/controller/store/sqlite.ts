// SQLite store (better-sqlite3, WAL). One writer connection runs transactions one at a time
// (BEGIN IMMEDIATE … COMMIT, serialized by a promise queue); a second connection serves reads,
// so reads never see a transaction that is still open. WAL + synchronous=NORMAL: a commit that
// returned survives a killed process (the OS holds the WAL pages); fsync happens at checkpoints.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ListQuery, ObjectRecord, PutRecord, RecordHead, Referrer, Store, StoreReader, StoreTx } from './types.js';
import { StoreConflict } from './types.js';
import { Checkpointer } from './checkpointer.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  tenant TEXT NOT NULL,
  cloud TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  created_by TEXT,
  rev INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_name ON objects(type, tenant, name, cloud);
CREATE INDEX IF NOT EXISTS objects_type ON objects(type, tenant, seq);
CREATE TABLE IF NOT EXISTS refs (src TEXT NOT NULL, dst TEXT NOT NULL, PRIMARY KEY (dst, src)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_src ON refs(src);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claims_owner ON claims(owner);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('revision', 0);
`;

interface Row { uuid: string; type: string; tenant: string; cloud: string; name: string; body: string }

function toRecord(r: Row): ObjectRecord {
  return { uuid: r.uuid, type: r.type, tenant: r.tenant, cloud: r.cloud, name: r.name, body: JSON.parse(r.body) };
}

/** Prepared read statements over one connection. */
class Reader implements StoreReader {
  private readonly s;
  constructor(protected readonly db: Database.Database) {
    this.s = {
      get: db.prepare<[string], Row>('SELECT uuid, type, tenant, cloud, name, body FROM objects WHERE uuid = ?'),
      // INDEXED BY: with ORDER BY seq the planner would walk the type's rows (objects_type), O(objects) per name lookup.
      byName: db.prepare<[string, string, string], Row>('SELECT uuid, type, tenant, cloud, name, body FROM objects INDEXED BY objects_name WHERE type = ? AND tenant = ? AND name = ? ORDER BY seq'),
      head: db.prepare<[string], RecordHead>('SELECT uuid, type, tenant, cloud, name FROM objects WHERE uuid = ?'),
      headsByName: db.prepare<[string, string, string], RecordHead>('SELECT uuid, type, tenant, cloud, name FROM objects INDEXED BY objects_name WHERE type = ? AND tenant = ? AND name = ? ORDER BY seq'),
      headsByNameCloud: db.prepare<[string, string, string, string], RecordHead>('SELECT uuid, type, tenant, cloud, name FROM objects WHERE type = ? AND tenant = ? AND name = ? AND cloud = ?'),
      byNameCloud: db.prepare<[string, string, string, string], Row>('SELECT uuid, type, tenant, cloud, name, body FROM objects WHERE type = ? AND tenant = ? AND name = ? AND cloud = ?'),
      count: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM objects WHERE type = ?'),
      all: db.prepare<[string], Row>('SELECT uuid, type, tenant, cloud, name, body FROM objects WHERE type = ? ORDER BY seq'),
      referrers: db.prepare<[string], Referrer>('SELECT o.uuid, o.type, o.name FROM refs r JOIN objects o ON o.uuid = r.src WHERE r.dst = ? AND r.src != r.dst ORDER BY o.seq'),
      claim: db.prepare<[string], { owner: string }>('SELECT owner FROM claims WHERE key = ?'),
      claimsPrefix: db.prepare<[string, string], { key: string }>('SELECT key FROM claims WHERE key >= ? AND key < ?'),
      name: db.prepare<[string], { name: string }>('SELECT name FROM objects WHERE uuid = ?'),
      revision: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'revision'"),
    };
  }
  async get(uuid: string) { const r = this.s.get.get(uuid); return r && toRecord(r); }
  async byName(type: string, tenant: string, name: string, cloud?: string) {
    const rows = cloud === undefined ? this.s.byName.all(type, tenant, name) : this.s.byNameCloud.all(type, tenant, name, cloud);
    return rows.map(toRecord);
  }
  async head(uuid: string) { return this.s.head.get(uuid); }
  async headsByName(type: string, tenant: string, name: string, cloud?: string) {
    return cloud === undefined ? this.s.headsByName.all(type, tenant, name) : this.s.headsByNameCloud.all(type, tenant, name, cloud);
  }
  async all(type: string) { return this.s.all.all(type).map(toRecord); }
  async count(type: string) { return this.s.count.get(type)!.n; }
  private readonly stmts = new Map<string, Database.Statement>();
  /** Filtered lists have a few shapes: their statements are prepared once per shape. */
  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) { s = this.db.prepare(sql); this.stmts.set(sql, s); }
    return s;
  }
  async list(type: string, q: ListQuery) {
    const where: string[] = ['type = ?', `tenant IN (${q.tenants.map(() => '?').join(',')})`];
    const args: unknown[] = [type, ...q.tenants];
    if (q.name !== undefined) { where.push('name = ?'); args.push(q.name); }
    if (q.nameContains !== undefined) { where.push("instr(name, ?) > 0"); args.push(q.nameContains); }
    if (q.nameIn) { where.push(`name IN (${q.nameIn.map(() => '?').join(',')})`); args.push(...q.nameIn); }
    if (q.cloud !== undefined) { where.push('cloud = ?'); args.push(q.cloud); }
    if (q.createdBy !== undefined) { where.push('created_by = ?'); args.push(q.createdBy); }
    const w = where.join(' AND ');
    const total = (this.stmt(`SELECT count(*) AS n FROM objects WHERE ${w}`).get(...args) as { n: number }).n;
    const order = `${q.orderByName ? 'name' : 'seq'} ${q.descending ? 'DESC' : 'ASC'}`;
    const page = q.limit !== undefined ? ` LIMIT ${Math.floor(q.limit)} OFFSET ${Math.floor(q.offset ?? 0)}` : '';
    // An equality on the name must use the name index, not walk the type's rows in seq order.
    const hint = q.name !== undefined || q.nameIn ? ' INDEXED BY objects_name' : '';
    const rows = this.stmt(`SELECT uuid, type, tenant, cloud, name, body FROM objects${hint} WHERE ${w} ORDER BY ${order}${page}`).all(...args) as Row[];
    return { total, items: rows.map(toRecord) };
  }
  async referrers(uuid: string) { return this.s.referrers.all(uuid); }
  async claimOwner(key: string) { return this.s.claim.get(key)?.owner; }
  async claimsWithPrefix(prefix: string) {
    return new Set(this.s.claimsPrefix.all(prefix, prefix + '\uffff').map((r) => r.key));
  }
  async names(uuids: Iterable<string>) {
    const out = new Map<string, string>();
    for (const u of uuids) if (!out.has(u)) { const r = this.s.name.get(u); if (r) out.set(u, r.name); }
    return out;
  }
  async revision() { return this.s.revision.get()!.value; }
}

/** The writer connection's view inside a transaction. One instance serves every transaction (they run one at a time). */
class Tx extends Reader implements StoreTx {
  changed: Array<[string, string]> = [];
  private bumped = false;
  reset(): void { this.changed = []; this.bumped = false; }
  private readonly w;
  constructor(db: Database.Database) {
    super(db);
    this.w = {
      rev: db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'revision' RETURNING value"),
      upsert: db.prepare(`INSERT INTO objects(uuid, type, tenant, cloud, name, created_by, rev, body) VALUES (@uuid, @type, @tenant, @cloud, @name, @created_by, @rev, @body)
        ON CONFLICT(uuid) DO UPDATE SET tenant = excluded.tenant, cloud = excluded.cloud, name = excluded.name, created_by = excluded.created_by, rev = excluded.rev, body = excluded.body`),
      delObj: db.prepare('DELETE FROM objects WHERE uuid = ?'),
      delRefs: db.prepare('DELETE FROM refs WHERE src = ?'),
      addRef: db.prepare('INSERT OR IGNORE INTO refs(src, dst) VALUES (?, ?)'),
      delClaims: db.prepare('DELETE FROM claims WHERE owner = ?'),
      addClaim: db.prepare('INSERT INTO claims(key, owner) VALUES (?, ?)'),
    };
  }
  private rev = 0;
  private bump(): number {
    if (!this.bumped) { this.rev = (this.w.rev.get() as { value: number }).value; this.bumped = true; }
    return this.rev;
  }
  async put(rec: PutRecord) {
    const rev = this.bump();
    const createdBy = typeof rec.body.created_by === 'string' ? rec.body.created_by : null;
    try {
      this.w.upsert.run({ uuid: rec.uuid, type: rec.type, tenant: rec.tenant, cloud: rec.cloud, name: rec.name, created_by: createdBy, rev, body: JSON.stringify(rec.body) });
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new StoreConflict(`${rec.type} named ${rec.name} already exists`);
      throw e;
    }
    if (rec.refs) {
      this.w.delRefs.run(rec.uuid);
      for (const dst of rec.refs) this.w.addRef.run(rec.uuid, dst);
    }
    if (rec.claims) {
      this.w.delClaims.run(rec.uuid);
      for (const key of rec.claims) {
        try { this.w.addClaim.run(key, rec.uuid); } catch { throw new StoreConflict(`${key} is already claimed`); }
      }
    }
    this.changed.push([rec.type, rec.uuid]);
  }
  async delete(uuid: string) {
    const r = await this.get(uuid);
    if (!r) return;
    this.bump();
    this.w.delObj.run(uuid);
    this.w.delRefs.run(uuid);
    this.w.delClaims.run(uuid);
    this.changed.push([r.type, uuid]);
  }
}

/**
 * Group commit: the transactions of one turn of the event loop share one SQLite transaction
 * (each in its own SAVEPOINT, so a failing one rolls back alone), committed at the end of the
 * turn (setImmediate) or once GROUP_MAX have run. A COMMIT costs the same for one write as for many (WAL frames of the
 * shared index pages, checkpoints), so a burst of writes pays it once. Nobody hears of a
 * transaction (its caller, the change listeners) before its COMMIT.
 */
const GROUP_MAX = 64;

interface Done { resolve: () => void; reject: (e: unknown) => void; changed: Array<[string, string]> }

export class SqliteStore extends Reader implements Store {
  private readonly writer: Database.Database;
  private readonly tx: Tx;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(type: string, uuid: string) => void>();
  /** Transactions run in the open SQLite transaction, waiting for its COMMIT. */
  private group: Done[] = [];
  private flushing: NodeJS.Immediate | undefined;
  /** A transaction function is running (it may await I/O across turns: the etcd store's does). */
  private running = false;

  static open(dataDir: string): SqliteStore {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'portico.db');
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.pragma('busy_timeout = 5000');
    // Tens of thousands of objects: the default 2 MB page cache sends most index lookups of a
    // write to read(); checkpoints (an fsync each) run on a worker thread after commits
    // (checkpointer.ts), the writer's own every 10k WAL pages only if that worker falls behind.
    writer.pragma('cache_size = -65536');
    writer.pragma('wal_autocheckpoint = 10000');
    writer.exec(SCHEMA);
    const reader = new Database(file);
    reader.pragma('busy_timeout = 5000');
    reader.pragma('cache_size = -65536');
    return new SqliteStore(writer, reader, new Checkpointer(file));
  }

  private constructor(writer: Database.Database, reader: Database.Database, private readonly checkpointer: Checkpointer) {
    super(reader);
    this.writer = writer;
    this.tx = new Tx(writer);
  }

  transact<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    // The queue orders the runs; a caller also waits for the COMMIT (the next run does not).
    const run = async (): Promise<{ result: T; committed: Promise<void> }> => {
      const tx = this.tx;
      tx.reset();
      if (!this.writer.inTransaction) this.writer.exec('BEGIN IMMEDIATE');
      this.writer.exec('SAVEPOINT w');
      let result: T;
      this.running = true;
      try {
        result = await fn(tx);
        this.writer.exec('RELEASE w');
      } catch (e) {
        if (this.writer.inTransaction) { this.writer.exec('ROLLBACK TO w'); this.writer.exec('RELEASE w'); }
        if (this.group.length === 0 && this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw e;
      } finally {
        this.running = false;
      }
      const committed = new Promise<void>((resolve, reject) => this.group.push({ resolve, reject, changed: tx.changed }));
      // COMMIT after this turn of the event loop: writes of the requests read in the same turn
      // (a client with many connections) join it, up to GROUP_MAX.
      if (this.group.length < GROUP_MAX) this.flushing ??= setImmediate(() => this.commit());
      else this.commit();
      return { result, committed };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p.then(async (r) => { await r.committed; return r.result; });
  }

  /** COMMITs the open transaction, then answers its callers and tells the listeners, in order. */
  private commit(): void {
    if (this.flushing) { clearImmediate(this.flushing); this.flushing = undefined; }
    // Never COMMIT under a running transaction function: that would commit its half-done
    // writes and drop its savepoint. Try again next turn; the run's own end schedules nothing.
    if (this.running) {
      if (this.group.length > 0) this.flushing = setImmediate(() => this.commit());
      return;
    }
    const group = this.group;
    this.group = [];
    if (group.length === 0) return;
    try {
      this.writer.exec('COMMIT');
    } catch (e) {
      if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
      for (const d of group) d.reject(e);
      return;
    }
    this.checkpointer.committed();
    for (const d of group) {
      for (const [type, uuid] of d.changed) for (const l of this.listeners) {
        try { l(type, uuid); } catch { /* a listener's failure is not the writer's */ }
      }
      d.resolve();
    }
  }

  onChange(listener: (type: string, uuid: string) => void) {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async close() {
    await this.queue;
    this.commit();
    await this.checkpointer.close();
    this.db.close();
    this.writer.close();
  }
}
