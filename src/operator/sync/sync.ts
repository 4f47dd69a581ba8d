// One sync pass: the desired objects against what the controller holds (ControllerState), as
// ordered REST calls: creates and updates with children before parents (level by level, a few
// at a time), then deletes with parents before children. An object whose dependency failed is
// not attempted. Errors are collected by class; the caller schedules the retry.
// Objects come as units (translation units, whose dependencies stay inside them), pulled one at a
// time by `concurrency` workers and written level by level, so a full sync holds only the bodies
// of the units in flight (built lazily by the caller's iterator) and each lives a few requests,
// not a whole pass; `deleteScope` narrows what may be stale to the keys a change touched, so one
// change costs one object's work, not a walk of every held one.
import type { ControllerClient } from '../controller-client/client.js';
import { ControllerError, type ErrorClass, type RetryKind } from '../controller-client/errors.js';
import type { DesiredObject, OwnedType } from '../translate/types.js';
import { ControllerState, answerFields, type HeldObject } from './state.js';
import { upToDate } from './compare.js';
import { heldElsewhere } from './tenants.js';

export interface SyncFailure {
  key: string;
  type: OwnedType;
  name: string;
  errorClass: ErrorClass;
  retry: RetryKind;
  message: string;
}

export interface SyncReport {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Not attempted: a dependency failed or is missing. */
  blocked: string[];
  failures: SyncFailure[];
  /** Failures by key (also of objects blocked behind them, for status). */
  failed: Map<string, SyncFailure>;
  /** Keys created, updated or deleted. */
  touched: Set<string>;
}

/** What one pass is to make true. */
export interface SyncPlan {
  /** Every object wanted now (those of other batches included): deps and deletes are judged by it. */
  wanted: { has(key: string): boolean };
  /**
   * Objects to compare and write, unit by unit; a unit's dependencies are in it or already held.
   * Each array is emptied as its unit is taken, and an object is let go once written.
   */
  units: Iterable<DesiredObject[]>;
  /** Held objects that may have become stale: undefined → every held object. */
  deleteScope?: Iterable<string>;
}

export interface SyncOptions {
  concurrency?: number;
  /** Called on each controller error (metrics). */
  onError?: (f: SyncFailure) => void;
  /** Called on each write (metrics, logs). */
  onWrite?: (op: 'create' | 'update' | 'delete', type: OwnedType, name: string) => void;
}

/** Records a failed write (and returns it). */
type Fail = (key: string, type: OwnedType, name: string, err: unknown) => SyncFailure;

/** Create levels: owned children first; an SNI child VS after its parent VS. */
const LEVEL: Record<OwnedType, number> = {
  vsvip: 0, sslkeyandcertificate: 0, pkiprofile: 0, pool: 0, poolgroup: 1, httppolicyset: 2, vsdatascriptset: 2, l4policyset: 2, virtualservice: 3,
};
function levelOf(type: OwnedType, body: Record<string, any>): number {
  return type === 'virtualservice' && body.type === 'VS_TYPE_VH_CHILD' ? 4 : LEVEL[type];
}

/** At most `n` calls of `run` at once, whatever the caller (all the workers' writes share it). */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly n: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); else this.active--;
    }
  }
}

/** Runs `fn` over items with at most `n` in flight; an item is let go once taken (a written body is garbage at once). */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) {
      const item = items[i]!;
      items[i++] = undefined as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export class Syncer {
  /** Objects that failed with a non-retryable error, by key → checksum: not tried again until they change. */
  private readonly hopeless = new Map<string, SyncFailure & { cksum: string }>();

  constructor(private readonly client: ControllerClient, readonly state: ControllerState, private readonly opts: SyncOptions = {}) {}

  /**
   * upToDate, remembered on the held copy (`synced`): a pass with one change walks the fields of
   * one object, not of thousands, and a matched copy of an unchecksummed type is slimmed.
   */
  private inSync(d: DesiredObject, held: HeldObject): boolean {
    if (held.synced === d.cksum) return true;
    if (!upToDate(d, held.obj)) return false;
    this.state.markSynced(held, d.cksum);
    return true;
  }

  /** The controller's copy is missing or differs (a full pass asks this while the body is at hand). */
  needsWrite(d: DesiredObject): boolean {
    const held = this.state.get(d.type, d.name);
    return !held || !this.inSync(d, held);
  }

  /** Every desired object at once (tests, small sets). */
  pass(desired: DesiredObject[]): Promise<SyncReport> {
    const wanted = new Set(desired.map((d) => ControllerState.key(d.type, d.name)));
    return this.run({ wanted, units: [desired.slice()] });
  }

  async run(plan: SyncPlan): Promise<SyncReport> {
    const report: SyncReport = { created: 0, updated: 0, deleted: 0, unchanged: 0, blocked: [], failures: [], failed: new Map(), touched: new Set() };
    const { wanted } = plan;
    const candidates: HeldObject[] = [];
    if (plan.deleteScope) {
      for (const k of new Set(plan.deleteScope)) {
        const h = wanted.has(k) ? undefined : this.state.get(...splitKey(k));
        if (h) candidates.push(h);
      }
    } else for (const h of this.state.all()) if (!wanted.has(ControllerState.key(h.type, h.name))) candidates.push(h);
    const fail: Fail = (key, type, name, err) => {
      const e = err instanceof ControllerError ? err : new ControllerError(0, (err as Error).message, 'SYNC', key, 'network');
      const f: SyncFailure = { key, type, name, errorClass: e.errorClass, retry: e.retry, message: e.detail };
      report.failures.push(f);
      report.failed.set(key, f);
      this.opts.onError?.(f);
      return f;
    };

    // A host moving to another virtual service (its parent changed, an AviInfraSetting attached or
    // detached) keeps its child's name: the VsVip going away must give up the host's DNS name
    // before the new parent's VsVip can take it, or neither side can move.
    const staleVips = candidates.filter((h) => h.type === 'vsvip');
    await pool(staleVips, this.opts.concurrency ?? 8, async (h) => {
      await this.client.call('PATCH', `/api/vsvip/${h.uuid}`, { replace: { dns_info: [] } }, h.tenant).catch(() => undefined); // the delete below reports
    });

    // Creates and updates: units pulled by the workers as they free up, each level by level.
    // A worker per connection (each holds its unit's bodies); their writes, a unit's level at a
    // time, fill every connection's pipeline: the controller never waits for us.
    const workers = this.opts.concurrency ?? 8;
    const gate = new Gate(workers * this.client.pipelining);
    const units = plan.units[Symbol.iterator]();
    await Promise.all(Array.from({ length: workers }, async () => {
      for (let u = units.next(); !u.done; u = units.next()) await this.writeUnit(u.value, wanted, report, fail, gate);
    }));

    // Deletes: owned objects no longer wanted, parents first.
    const stale = candidates.map((h) => ({ type: h.type, name: h.name, uuid: h.uuid, tenant: h.tenant, level: levelOf(h.type, h.obj) }));
    for (let level = 4; level >= 0; level--) {
      const batch = stale.filter((s) => s.level === level);
      await pool(batch, this.opts.concurrency ?? 8, (s) => this.remove(s, report, fail));
    }
    return report;
  }

  private async writeUnit(desired: DesiredObject[], wanted: SyncPlan['wanted'], report: SyncReport, fail: Fail, gate: Gate): Promise<void> {
    await this.leaveOldTenants(desired, report, fail);
    const levels: DesiredObject[][] = [[], [], [], [], []];
    for (const d of desired) levels[levelOf(d.type, d.body)]!.push(d);
    desired.length = 0;
    for (const level of levels) {
      if (level.length === 0) continue;
      await pool(level, this.opts.concurrency ?? 8, async (d) => {
        const key = ControllerState.key(d.type, d.name);
        const blocker = d.deps.find((k) => report.failed.has(k) || (!wanted.has(k) && !this.state.get(...splitKey(k))));
        if (blocker) {
          report.blocked.push(key);
          const cause = report.failed.get(blocker);
          report.failed.set(key, cause ?? { key, type: d.type, name: d.name, errorClass: 'invalid', retry: 'none', message: `${blocker} is missing` });
          return;
        }
        if (report.failed.has(key)) return; // its copy in another tenant could not be deleted
        const held = this.state.get(d.type, d.name);
        if (held && this.inSync(d, held)) { report.unchanged++; this.hopeless.delete(key); return; }
        const stuck = this.hopeless.get(key);
        if (stuck && stuck.cksum === d.cksum) { report.failed.set(key, stuck); return; }
        try {
          await gate.run(() => this.write(d, held, report));
          report.touched.add(key);
          this.hopeless.delete(key);
        } catch (err) {
          const f = fail(key, d.type, d.name, err);
          if (f.retry === 'none') this.hopeless.set(key, { ...f, cksum: d.cksum });
        }
      });
    }

  }

  /**
   * Objects held in another tenant than the one wanted now (a namespace's tenant annotation
   * changed): deleted there, parents first, so the writes below create them in the new tenant.
   */
  private async leaveOldTenants(desired: DesiredObject[], report: SyncReport, fail: Fail): Promise<void> {
    const moving = heldElsewhere(desired, this.state, this.client.tenant).sort((a, b) => levelOf(b.type, b.obj) - levelOf(a.type, a.obj));
    for (const h of moving) await this.remove(h, report, fail);
  }

  /** Deletes one held object on the controller and forgets it; a failure is recorded, not thrown. */
  private async remove(h: { type: OwnedType; name: string; uuid: string; tenant?: string }, report: SyncReport, fail: Fail): Promise<void> {
    const key = ControllerState.key(h.type, h.name);
    try {
      await this.client.remove(h.type, h.uuid, h.tenant);
      this.state.drop(h.type, h.name);
      report.deleted++;
      report.touched.add(key);
      this.opts.onWrite?.('delete', h.type, h.name);
    } catch (err) {
      fail(key, h.type, h.name, err);
    }
  }

  private async write(d: DesiredObject, held: { uuid: string; obj: Record<string, any> } | undefined, report: SyncReport): Promise<void> {
    if (held) {
      try {
        const stored = await this.client.replace(d.type, held.uuid, this.bodyForUpdate(d, held.obj), d.tenant, answerFields(d.type));
        this.keep(d, stored);
        report.updated++;
        this.opts.onWrite?.('update', d.type, d.name);
        return;
      } catch (err) {
        // Gone behind our back: create it again.
        if (!(err instanceof ControllerError) || err.status !== 404) throw err;
        this.state.drop(d.type, d.name);
      }
    }
    try {
      const stored = await this.client.create(d.type, d.body, d.tenant, answerFields(d.type));
      this.keep(d, stored);
      report.created++;
      this.opts.onWrite?.('create', d.type, d.name);
    } catch (err) {
      // 409: it exists after all (a lost response, another replica): adopt it if it is ours, then update.
      if (!(err instanceof ControllerError) || err.status !== 409 || !/already exist/i.test(err.detail)) throw err;
      const found = await this.client.byName<Record<string, any>>(d.type, d.name, {}, d.tenant);
      if (!found || !this.owns(d.type, found)) {
        throw new ControllerError(409, `${d.type} ${d.name} exists and is not owned by ${this.state.createdBy}: rename or delete it`, 'POST', `/api/${d.type}`, 'invalid');
      }
      this.state.set(d.type, found);
      if (!upToDate(d, found)) {
        const stored = await this.client.replace(d.type, found.uuid, this.bodyForUpdate(d, found), d.tenant);
        this.state.set(d.type, stored);
        report.updated++;
        this.opts.onWrite?.('update', d.type, d.name);
      } else report.unchanged++;
    }
  }

  /** Keeps the controller's answer to a write, compared now while the body is at hand. */
  private keep(d: DesiredObject, stored: Record<string, any>): void {
    this.state.set(d.type, stored);
    const held = this.state.get(d.type, d.name)!;
    if (upToDate(d, held.obj)) this.state.markSynced(held, d.cksum);
  }

  private owns(type: OwnedType, o: Record<string, any>): boolean {
    if (type !== 'vsvip') return o.created_by === this.state.createdBy;
    const markers: Array<{ key?: string; values?: string[] }> = Array.isArray(o.markers) ? o.markers : [];
    return markers.some((m) => m.key === 'clustername' && m.values?.includes(this.state.cluster));
  }

  /** A VsVip keeps its allocated address across updates (AKO's GET → modify → PUT). */
  private bodyForUpdate(d: DesiredObject, held: Record<string, any>): Record<string, unknown> {
    if (d.type !== 'vsvip') return d.body;
    const vips = d.body.vip as Array<Record<string, unknown>>;
    const heldVip = Array.isArray(held.vip) ? held.vip[0] : undefined;
    if (!vips?.[0] || vips[0].ip_address || !heldVip?.ip_address) return d.body;
    return { ...d.body, vip: [{ ...vips[0], ip_address: heldVip.ip_address }, ...vips.slice(1)] };
  }
}

function splitKey(k: string): [string, string] {
  const i = k.indexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}
