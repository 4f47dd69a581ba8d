// etcd store (replicated controllers). etcd holds the truth: one key per object
// (`<prefix>o/<uuid>` → the record with its refs and claims) and one revision key
// (`<prefix>rev` → how many transactions committed). Every replica keeps a full local copy in a
// private SQLite store (rebuilt at start, then followed by an etcd watch), which answers reads
// and the API's rich queries (names, refs, claims, paging) without a round trip.
//
// A write first takes the cluster's write lock (`<prefix>lock`, a key on this replica's lease, so
// a dead replica's lock goes with its lease), which also tells it the latest revision key; it
// waits until its copy has that revision, runs the transaction against the copy, and commits
// to etcd with one Txn that releases the lock and is guarded by compare-and-swap on the revision
// key's mod revision (no write since the copy was current). Transactions are therefore never
// run twice (callers' closures may mutate what they captured), two replicas never allocate the
// same VIP nor create two objects with one name. Reads keep working from the copy when etcd
// loses quorum; writes fail with 503.
import type { Etcd3, IKeyValue, IWatchResponse, Lease, Watcher } from 'etcd3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from './sqlite.js';
import type { ListQuery, ObjectRecord, PutRecord, Store, StoreTx } from './types.js';
import { ApiError } from '../errors.js';

export const DEFAULT_PREFIX = '/portico/store/';
/** Lock holders' lease: a crashed replica blocks writers at most this long. */
const LOCK_TTL_S = 5;

/** What one object key holds. */
export interface EtcdRecord extends ObjectRecord { refs: string[]; claims: string[] }

/** etcd refused or could not take a write: the API answers 503 with this message. */
export class StoreUnavailable extends ApiError {
  constructor(what: string, cause: unknown) {
    super(503, `store unavailable: etcd did not ${what} (${(cause as Error)?.message ?? cause}); a majority of the etcd members must be up`);
  }
}

/** Held write lock: its key's create revision identifies it for the release. */
interface Held { createRev: string; since: number }
/** Longest time one replica keeps the write lock over a burst of its own writes. */
const LOCK_HOLD_MS = 50;

interface Forward { refs: string[]; claims: string[] }

export interface EtcdStoreOptions {
  client: Etcd3;
  /** A directory for the local copy (wiped at start and on close). */
  cacheDir: string;
  prefix?: string;
  /** How long a write waits for the write lock and for the local copy to catch up (default 5000 ms). */
  catchUpMs?: number;
}

/** A transaction over the local copy that records what it writes, for the etcd Txn. */
class RecordingTx implements StoreTx {
  readonly writes = new Map<string, EtcdRecord | null>();
  constructor(private readonly tx: StoreTx, private readonly store: EtcdStore) {}
  get(uuid: string) { return this.tx.get(uuid); }
  head(uuid: string) { return this.tx.head(uuid); }
  headsByName(type: string, tenant: string, name: string, cloud?: string) { return this.tx.headsByName(type, tenant, name, cloud); }
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
  private readonly lockKey: string;
  private readonly holder = randomUUID();
  private lease?: Lease;
  /** Local writers queue here first: one at a time asks etcd for the lock. */
  private writeQueue: Promise<unknown> = Promise.resolve();
  /** Transactions queued or running here. */
  private queued = 0;
  /** The write lock, kept for the next queued write. */
  private held?: Held;
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
    this.lockKey = `${this.prefix}lock`;
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
  head(uuid: string) { return this.cache.head(uuid); }
  headsByName(type: string, tenant: string, name: string, cloud?: string) { return this.cache.headsByName(type, tenant, name, cloud); }
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
  transact<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.queued++;
    const run = () => this.locked(fn).finally(() => { this.queued--; });
    const p = this.writeQueue.then(run, run);
    this.writeQueue = p.catch(() => undefined);
    return p;
  }

  /**
   * A burst of local writes keeps the lock from one to the next (one etcd round trip per write
   * instead of two), for at most LOCK_HOLD_MS so that other replicas get their turn.
   */
  private keepLock(held: Held): boolean {
    return this.queued > 1 && Date.now() - held.since < LOCK_HOLD_MS && !this.closed;
  }

  private async locked<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const held = this.held ?? await this.lock();
    this.held = undefined;
    let done = false;
    let uncertain = false;
    try {
      return await this.cache.transact(async (tx) => {
        const rec = new RecordingTx(tx, this);
        const result = await fn(rec);
        if (rec.writes.size) {
          const keep = this.keepLock(held);
          uncertain = true;
          await this.commit(rec.writes, held, !keep);
          if (keep) this.held = held;
          done = true;
        }
        return result;
      });
    } finally {
      if (!done) {
        if (!uncertain && this.keepLock(held)) this.held = held;
        else await this.unlock(held);
      }
    }
  }

  private async leaseId(): Promise<string> {
    if (!this.lease || this.lease.revoked()) {
      const lease = this.client.lease(LOCK_TTL_S, { autoKeepAlive: true });
      lease.on('lost', () => { if (this.lease === lease) this.lease = undefined; });
      this.lease = lease;
    }
    try { return await this.lease.grant(); } catch (e) { this.lease = undefined; throw e; }
  }

  /** Takes the write lock (waiting while another replica holds it) and brings the copy up to date. */
  private async lock(): Promise<Held> {
    // A crashed holder's lock lives until its lease ends: wait that long on top.
    const deadline = Date.now() + this.catchUpMs + LOCK_TTL_S * 1000;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      let res;
      try {
        const id = await this.leaseId();
        res = await this.client.if(this.lockKey, 'Create', '==', 0)
          .then(this.client.put(this.lockKey).value(this.holder).lease(id), this.client.get(this.revKey))
          .else(this.client.get(this.lockKey))
          .commit();
      } catch (e) {
        throw new StoreUnavailable('grant the write lock', e);
      }
      if (res.succeeded) {
        const latest = Number(res.responses[1]?.response_range?.kvs?.[0]?.mod_revision ?? 0);
        const held = { createRev: res.header.revision, since: Date.now() };
        try { await this.caughtUp(latest); } catch (e) { await this.unlock(held); throw e; }
        return held;
      }
      // Ours while we hold none: a lock request whose deadline passed was applied later (etcd was away). Drop it.
      const kv = res.responses[0]?.response_range?.kvs?.[0];
      if (kv && kv.value.toString() === this.holder) { await this.unlock({ createRev: kv.create_revision, since: 0 }); continue; }
      if (Date.now() > deadline) throw new StoreUnavailable('grant the write lock in time', `another replica held it for ${this.catchUpMs + LOCK_TTL_S * 1000} ms`);
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    }
  }

  private async unlock(held: Held): Promise<void> {
    await this.client.if(this.lockKey, 'Create', '==', held.createRev).then(this.client.delete().key(this.lockKey)).commit().catch(() => undefined);
  }

  /** One etcd Txn: the writes, the revision bump and the lock's release, if nobody wrote since our copy was current. */
  private async commit(writes: Map<string, EtcdRecord | null>, held: Held, release: boolean): Promise<void> {
    const ops = [];
    for (const [uuid, rec] of writes) {
      ops.push(rec ? this.client.put(this.objPrefix + uuid).value(JSON.stringify(rec)) : this.client.delete().key(this.objPrefix + uuid));
    }
    ops.push(this.client.put(this.revKey).value(String(this.counter + 1)));
    if (release) ops.push(this.client.delete().key(this.lockKey));
    let res;
    try {
      res = await this.client.if(this.revKey, 'Mod', '==', this.revKeyMod).and(this.lockKey, 'Create', '==', held.createRev).then(...ops).commit();
    } catch (e) {
      // A deadline is not a refusal: etcd may still apply the Txn when a majority returns.
      throw new StoreUnavailable('confirm the write in time; it may still take effect when etcd recovers (read before retrying)', e);
    }
    if (!res.succeeded) {
      // Our lock expired (a pause longer than its lease) and someone wrote: nothing was written.
      throw new StoreUnavailable('accept the write: the write lock was lost, try again', 'lock expired');
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
    // Start over inside one local transaction: readers see the old copy until it commits, and
    // no stale row (a renamed object, a moved claim) can clash with the new ones.
    await this.cache.transact(async (tx) => {
      for (const uuid of [...this.forward.keys()]) { await tx.delete(uuid); this.forward.delete(uuid); }
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
      // An event the copy cannot take means the copy is off: rebuild it from etcd.
      this.applying = this.applying.then(() => this.apply(res)).catch(() => { void this.restartWatch(w); });
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
    await this.writeQueue;
    if (this.held) await this.unlock(this.held);
    await this.lease?.revoke().catch(() => undefined);
    await this.watcher?.cancel().catch(() => undefined);
    await this.applying;
    await this.cache.close();
    rmSync(this.o.cacheDir, { recursive: true, force: true });
  }
}
