// etcd store (replicated controllers). etcd holds the truth: one key per object
// (`<prefix>o/<uuid>` → the record with its refs and claims) and one revision key
// (`<prefix>rev` → how many transactions committed). Every replica keeps a full local copy in a
// private SQLite store (rebuilt at start, then followed by an etcd watch), which answers reads
// and the API's rich queries (names, refs, claims, paging) without a round trip.
//
// A transaction runs against that copy as it stands, then commits to etcd with one Txn guarded
// by compare-and-swap on the revision key's mod revision: it succeeds only when no other
// replica wrote since the copy was last brought up to date. On a lost race the replica waits
// until its watch has delivered the other write and runs the transaction again, so two
// replicas never allocate the same VIP nor create two objects with one name. Reads keep working
// from the copy when etcd loses quorum; writes fail with 503.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from './sqlite.js';
import type { ListQuery, ObjectRecord, PutRecord, Store, StoreTx } from './types.js';
import { ApiError } from '../errors.js';

export const DEFAULT_PREFIX = '/portico/store/';
const MAX_RETRIES = 50;

/** What one object key holds. */
export interface EtcdRecord extends ObjectRecord { refs: string[]; claims: string[] }

/** etcd refused or could not take a write: the API answers 503 with this message. */
export class StoreUnavailable extends ApiError {
  constructor(what: string, cause: unknown) {
    super(503, `store unavailable: etcd did not ${what} (${(cause as Error)?.message ?? cause}); a majority of the etcd members must be up`);
  }
}

/** Another replica committed first: catch up to `latest` and run the transaction again. */
class LostRace extends Error { constructor(readonly latest: number) { super('lost a write race'); } }

interface Forward { refs: string[]; claims: string[] }

export interface EtcdStoreOptions {
  client: Etcd3;
  /** A directory for the local copy (wiped at start and on close). */
  cacheDir: string;
  prefix?: string;
  /** How long a write waits for the local copy to catch up after a lost race (default 5000 ms). */
  catchUpMs?: number;
}

/** A transaction over the local copy that records what it writes, for the etcd Txn. */
class RecordingTx implements StoreTx {
  readonly writes = new Map<string, EtcdRecord | null>();
  constructor(private readonly tx: StoreTx, private readonly store: EtcdStore) {}
  get(uuid: string) { return this.tx.get(uuid); }
  byName(type: string, tenant: string, name: string, cloud?: string) { return this.tx.byName(type, tenant, name, cloud); }
  list(type: string, q: ListQuery) { return this.tx.list(type, q); }
  all(type: string) { return this.tx.all(type); }
  count(type: string) { return this.tx.count(type); }
  referrers(uuid: string) { return this.tx.referrers(uuid); }
  claimOwner(key: string) { return this.tx.claimOwner(key); }
  claimsWithPrefix(prefix: string) { return this.tx.claimsWithPrefix(prefix); }
  names(uuids: Iterable<string>) { return this.tx.names(uuids); }
  revision() { return this.store.revision(); }
  private forward(uuid: string): Forward {
    const w = this.writes.get(uuid);
    return w ?? this.store.forwardOf(uuid) ?? { refs: [], claims: [] };
  }
  async put(rec: PutRecord) {
    await this.tx.put(rec);
    const f = this.forward(rec.uuid);
    this.writes.set(rec.uuid, {
      type: rec.type, uuid: rec.uuid, tenant: rec.tenant, name: rec.name, cloud: rec.cloud, body: rec.body,
      refs: rec.refs ?? f.refs, claims: rec.claims ?? f.claims,
    });
  }
  async delete(uuid: string) {
    if (!(await this.tx.get(uuid))) return;
    await this.tx.delete(uuid);
    this.writes.set(uuid, null);
  }
}

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly revKey: string;
  private readonly objPrefix: string;
  private readonly catchUpMs: number;
  /** refs and claims per object as in the local copy (the SQLite reader keeps only reverse refs). */
  private readonly forward = new Map<string, Forward>();
  /** Mod revision of the revision key that the local copy reflects (0: never written). */
  private revKeyMod = 0;
  /** The revision key's value: committed transactions (the store's `revision()`). */
  private counter = 0;
  /** The etcd revision up to which watch events are in the local copy. */
  private appliedRev = 0;
  private watcher?: Watcher;
  private applying: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  private constructor(private readonly cache: SqliteStore, private readonly o: EtcdStoreOptions) {
    this.client = o.client;
    this.prefix = o.prefix ?? DEFAULT_PREFIX;
    this.revKey = `${this.prefix}rev`;
    this.objPrefix = `${this.prefix}o/`;
    this.catchUpMs = o.catchUpMs ?? 5000;
  }

  /** Loads the whole store from etcd into a fresh local copy and starts following it. */
  static async open(o: EtcdStoreOptions): Promise<EtcdStore> {
    rmSync(o.cacheDir, { recursive: true, force: true });
    mkdirSync(o.cacheDir, { recursive: true });
    const s = new EtcdStore(SqliteStore.open(o.cacheDir), o);
    try {
      await s.resync();
    } catch (e) {
      await s.cache.close();
      throw new StoreUnavailable('answer at start', e);
    }
    return s;
  }

  forwardOf(uuid: string): Forward | undefined { return this.forward.get(uuid); }

  // ---- reads: the local copy ----
  get(uuid: string) { return this.cache.get(uuid); }
  byName(type: string, tenant: string, name: string, cloud?: string) { return this.cache.byName(type, tenant, name, cloud); }
  list(type: string, q: ListQuery) { return this.cache.list(type, q); }
  all(type: string) { return this.cache.all(type); }
  count(type: string) { return this.cache.count(type); }
  referrers(uuid: string) { return this.cache.referrers(uuid); }
  claimOwner(key: string) { return this.cache.claimOwner(key); }
  claimsWithPrefix(prefix: string) { return this.cache.claimsWithPrefix(prefix); }
  names(uuids: Iterable<string>) { return this.cache.names(uuids); }
  async revision() { return this.counter; }
  onChange(listener: (type: string, uuid: string) => void) { return this.cache.onChange(listener); }

  // ---- writes ----
  async transact<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.cache.transact(async (tx) => {
          const rec = new RecordingTx(tx, this);
          const result = await fn(rec);
          if (rec.writes.size) await this.commit(rec.writes);
          return result;
        });
      } catch (e) {
        if (!(e instanceof LostRace)) throw e;
        if (attempt >= MAX_RETRIES) throw new StoreUnavailable('settle a write after many races with other replicas', 'busy');
        await this.caughtUp(e.latest);
      }
    }
  }

  /** One etcd Txn: the writes and the revision bump, if nobody wrote since our copy was current. */
  private async commit(writes: Map<string, EtcdRecord | null>): Promise<void> {
    const ops = [];
    for (const [uuid, rec] of writes) {
      ops.push(rec ? this.client.put(this.objPrefix + uuid).value(JSON.stringify(rec)) : this.client.delete().key(this.objPrefix + uuid));
    }
    ops.push(this.client.put(this.revKey).value(String(this.counter + 1)));
    let res;
    try {
      res = await this.client.if(this.revKey, 'Mod', '==', this.revKeyMod).then(...ops).else(this.client.get(this.revKey)).commit();
    } catch (e) {
      throw new StoreUnavailable('commit the write', e);
    }
    if (!res.succeeded) {
      const kv = res.responses[0]?.response_range?.kvs?.[0];
      throw new LostRace(Number(kv?.mod_revision ?? 0));
    }
    // Nobody wrote in between: the local copy (committed right after this) equals etcd at this revision.
    const rev = Number(res.header.revision);
    this.appliedRev = rev;
    this.revKeyMod = rev;
    this.counter += 1;
    for (const [uuid, rec] of writes) {
      if (rec) this.forward.set(uuid, { refs: rec.refs, claims: rec.claims });
      else this.forward.delete(uuid);
    }
    this.wake();
  }

  /** Resolves once the local copy has applied the revision key's write at `modRev`. */
  private caughtUp(modRev: number): Promise<void> {
    if (this.revKeyMod >= modRev) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.revKeyMod < modRev && !this.closed) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new StoreUnavailable('deliver the latest writes in time', `waited ${this.catchUpMs} ms for revision ${modRev}`));
      }, this.catchUpMs);
      this.waiters.add(check);
    });
  }

  private wake(): void { for (const w of [...this.waiters]) w(); }

  // ---- following etcd ----

  /** Brings the local copy to etcd's current state (at start, and when the watch was lost), then watches from there. */
  private async resync(): Promise<void> {
    const res = await this.client.getAll().prefix(this.prefix).exec();
    const rev = Number(res.header.revision);
    const present = new Map<string, IKeyValue>();
    let revKv: IKeyValue | undefined;
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      if (key === this.revKey) revKv = kv;
      else if (key.startsWith(this.objPrefix)) present.set(key.slice(this.objPrefix.length), kv);
    }
    await this.cache.transact(async (tx) => {
      for (const uuid of [...this.forward.keys()]) if (!present.has(uuid)) { await tx.delete(uuid); this.forward.delete(uuid); }
      for (const kv of present.values()) await this.putLocal(tx, kv);
    });
    this.appliedRev = rev;
    this.revKeyMod = revKv ? Number(revKv.mod_revision) : 0;
    this.counter = revKv ? Number(revKv.value.toString()) : 0;
    this.wake();
    await this.watch(rev + 1);
  }

  private async putLocal(tx: StoreTx, kv: IKeyValue): Promise<void> {
    const r = JSON.parse(kv.value.toString()) as EtcdRecord;
    await tx.put({ type: r.type, uuid: r.uuid, tenant: r.tenant, name: r.name, cloud: r.cloud, body: r.body, refs: r.refs, claims: r.claims });
    this.forward.set(r.uuid, { refs: r.refs, claims: r.claims });
  }

  private async watch(from: number): Promise<void> {
    const w = await this.client.watch().prefix(this.prefix).startRevision(String(from)).create();
    if (this.closed) { await w.cancel(); return; }
    this.watcher = w;
    w.on('data', (res: IWatchResponse) => {
      this.applying = this.applying.then(() => this.apply(res)).catch(() => undefined);
    });
    // A compacted or cancelled watch: start over from a fresh read (retried until etcd answers).
    w.on('error', () => { void this.restartWatch(w); });
  }

  private async restartWatch(w: Watcher): Promise<void> {
    if (this.watcher !== w || this.closed) return;
    this.watcher = undefined;
    await w.cancel().catch(() => undefined);
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try { await this.resync(); return; } catch { await new Promise((r) => setTimeout(r, delay)); }
    }
  }

  /** Applies one watch response (events grouped by revision, one local transaction per revision). */
  private async apply(res: IWatchResponse): Promise<void> {
    const groups = new Map<number, typeof res.events>();
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= this.appliedRev) continue; // our own commit, already in the copy
      let g = groups.get(rev);
      if (!g) { g = []; groups.set(rev, g); }
      g.push(ev);
    }
    for (const [rev, events] of groups) {
      if (rev <= this.appliedRev) continue;
      await this.cache.transact(async (tx) => {
        if (rev <= this.appliedRev) return; // a commit of ours got there while this waited
        for (const ev of events) {
          const key = ev.kv.key.toString();
          if (key === this.revKey) {
            this.revKeyMod = rev;
            this.counter = Number(ev.kv.value.toString());
          } else if (key.startsWith(this.objPrefix)) {
            const uuid = key.slice(this.objPrefix.length);
            if (ev.type === 'Delete') { await tx.delete(uuid); this.forward.delete(uuid); } else await this.putLocal(tx, ev.kv);
          }
        }
      });
      if (rev > this.appliedRev) this.appliedRev = rev;
      this.wake();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.watcher?.cancel().catch(() => undefined);
    await this.applying;
    await this.cache.close();
    rmSync(this.o.cacheDir, { recursive: true, force: true });
  }
}
