// Runs placement for every SE group and writes the result into the SE records
// (`placed_vs_uuids`), which the snapshot service turns into each SE's configuration. Runs a
// pass after relevant store changes and every second (an SE going quiet is no store change).
// Only the leader writes; every replica keeps the view the runtime endpoints read.
import type { EngineHost, StoredObject } from '../engines/host.js';
import type { EngineRegistry, PlacementView } from '../engines/registry.js';
import { groupOf, ObjectMirror } from '../engines/snapshots.js';
import { LEGACY_HA, place, sesNeeded, unitsOf, wantedScaleout, type PlacementGroup, type PlacementUnit } from './place.js';

export interface PlacementOptions {
  /** An SE silent this long is down and loses its virtual services (default 10 s). */
  seDownTimeoutMs?: number;
  /** True on the replica that may write (the leader); always true without a cluster. */
  isLeader?: () => boolean;
  /** Significant events (placement changes, SE down/up) for analytics. */
  onEvent?: (e: { event_id: string; obj_type: string; obj_uuid: string; obj_name: string; reason: string }) => void;
  log?: { warn(obj: object, msg: string): void };
}

const DEBOUNCE_MS = 50;
const TICK_MS = 1000;
/** Wait this many times the last pass's duration before the next (a pass every 50 ms to 2 s). */
const PASS_SHARE = 9;
const TYPES = new Set(['virtualservice', 'vsvip', 'serviceengine', 'serviceenginegroup']);

export interface GroupDemand { group: StoredObject; units: PlacementUnit[]; needed: number; holding: Map<string, number> }

export function groupSettings(g: StoredObject): PlacementGroup {
  return {
    uuid: g.uuid, name: g.name,
    maxVsPerSe: Number(g.max_vs_per_se ?? 10),
    minScaleout: Number(g.min_scaleout_per_vs ?? 1),
    maxScaleout: Number(g.max_scaleout_per_vs ?? 4),
    haMode: String(g.ha_mode ?? 'HA_MODE_SHARED'),
  };
}

export class PlacementManager implements PlacementView {
  private readonly mirror: ObjectMirror;
  private readonly off: () => void;
  private readonly tick: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly startedAt = Date.now();
  private readonly timeoutMs: number;
  /** VS → SEs (from the SE records: what the SEs are told). */
  private vsSes = new Map<string, string[]>();
  /** VS → the SEs holding it as standby (HA_MODE_LEGACY_ACTIVE_STANDBY). */
  private vsStandby = new Map<string, Set<string>>();
  /** SE → the placement its record showed at the last pass (events are diffs of these, on every replica). */
  private readonly seenPlaced = new Map<string, { placed: string[]; standby: string[] }>();
  private reasons = new Map<string, string>();
  private seNames = new Map<string, string>();
  /** Scale out/in requests: VS → SEs wanted (beyond the group's minimum). */
  private readonly requested = new Map<string, number>();
  private requestsSeeded = false;
  private readonly wasUp = new Map<string, boolean>();
  /** Per group: what its VSes need (read by the local cloud). */
  readonly demand = new Map<string, GroupDemand>();

  constructor(private readonly host: EngineHost, private readonly registry: EngineRegistry, private readonly o: PlacementOptions = {}) {
    this.timeoutMs = o.seDownTimeoutMs ?? 10_000;
    this.mirror = new ObjectMirror(host);
    registry.placement = this;
    this.off = host.onChange((type, uuid) => {
      this.mirror.changed(type, uuid);
      if (TYPES.has(type)) this.schedule();
    });
    this.tick = setInterval(() => this.schedule(), TICK_MS);
    this.tick.unref();
    this.schedule();
  }

  /** The controller's objects as placement sees them (kept current from change events). */
  objects(): Promise<Map<string, Map<string, StoredObject>>> { return this.mirror.settled(); }

  sesOf(vsUuid: string): string[] | undefined { return this.vsSes.get(vsUuid); }
  standbyOf(vsUuid: string): ReadonlySet<string> | undefined { return this.vsStandby.get(vsUuid); }
  reasonOf(vsUuid: string): string | undefined { return this.reasons.get(vsUuid); }
  seName(seUuid: string): string | undefined { return this.seNames.get(seUuid); }

  /** Is the SE up: enabled and heard from within the timeout (or, unheard since start, still in its grace). */
  seUp(se: StoredObject, now = Date.now()): boolean {
    if ((se.enable_state ?? 'SE_STATE_ENABLED') !== 'SE_STATE_ENABLED') return false;
    const st = this.registry.engines.get(se.uuid);
    const last = st ? st.lastHeartbeat : this.startedAt;
    return now - last <= this.timeoutMs;
  }

  /** One more SE for the VS (up to max_scaleout_per_vs); returns the SEs wanted. */
  async scale(vsUuid: string, by: 1 | -1): Promise<{ wanted: number; group: PlacementGroup }> {
    const objects = await this.mirror.settled();
    const vs = objects.get('virtualservice')?.get(vsUuid);
    if (!vs) throw new Error('virtualservice not found');
    const g = objects.get('serviceenginegroup')?.get(String(vs.se_group_ref ?? ''));
    if (!g) throw new Error('the virtual service has no SE group');
    const settings = groupSettings(g);
    const floor = wantedScaleout(settings);
    const now = this.requested.get(vsUuid) ?? Math.max(floor, this.vsSes.get(vsUuid)?.length ?? 0);
    const next = now + by;
    if (by > 0 && next > Math.max(settings.maxScaleout, floor)) throw new RangeError(`scaleout: the virtual service is already on ${now} service engines, max_scaleout_per_vs of SE group ${g.name} is ${settings.maxScaleout}`);
    if (by < 0 && next < floor) throw new RangeError(`scalein: the virtual service is on ${now} service engines, the minimum in SE group ${g.name} is ${floor}`);
    this.requested.set(vsUuid, next);
    await this.runNow();
    return { wanted: next, group: settings };
  }

  private schedule(): void {
    if (this.closed || this.debounce) return;
    // A pass reads every VS: after a slow one wait longer, so a burst of writes (a sync of
    // thousands of VSes) costs a bounded share of the event loop (a tenth), not one pass per 50 ms.
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.runNow();
    }, Math.max(DEBOUNCE_MS, Math.min(this.lastPassMs * PASS_SHARE, 2_000)));
    this.debounce.unref?.();
  }

  /** A placement pass now (after the one running, if any). */
  async runNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().catch((err: Error) => this.o.log?.warn({ err: err.message }, 'placement pass failed')).finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.schedule();
      }
    });
    return this.running;
  }

  private lastPassMs = 0;

  private async pass(): Promise<void> {
    const started = performance.now();
    try {
      await this.placeAll();
    } finally {
      this.lastPassMs = performance.now() - started;
    }
  }

  private async placeAll(): Promise<void> {
    const objects = await this.mirror.settled();
    const now = Date.now();
    const ses = [...(objects.get('serviceengine')?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    const vsAll = [...(objects.get('virtualservice')?.values() ?? [])];
    const groups = [...(objects.get('serviceenginegroup')?.values() ?? [])];
    this.seNames = new Map(ses.map((s) => [s.uuid, s.name]));
    this.trackSeState(ses, now);

    const leader = this.o.isLeader?.() ?? true;
    if (leader && !this.requestsSeeded) this.seedRequests(ses, objects);
    const writes: Array<{ se: StoredObject; placed: string[]; standby: string[] }> = [];
    const reasons = new Map<string, string>();
    for (const g of groups) {
      const settings = groupSettings(g);
      const members = ses.filter((s) => s.se_group_ref === g.uuid);
      const enabled = vsAll.filter((v) => v.enabled !== false && groupOf(objects, v) === g.uuid);
      const byUuid = new Set(enabled.map((v) => v.uuid));
      const units = unitsOf(enabled.filter((v) => v.type !== 'VS_TYPE_VH_CHILD' || byUuid.has(String(v.vh_parent_vs_ref))).map((v) => ({
        uuid: v.uuid,
        parent: v.type === 'VS_TYPE_VH_CHILD' ? String(v.vh_parent_vs_ref) : undefined,
        vsvip: typeof v.vsvip_ref === 'string' ? v.vsvip_ref : undefined,
        want: wantedScaleout(settings, this.requested.get(v.uuid)),
      })));
      const up = members.filter((s) => this.seUp(s, now)).map((s) => s.uuid);
      const previous = new Map(members.map((s) => [s.uuid, new Set(placedOf(s))]));
      const result = place(settings, up, units, previous, settings.haMode === LEGACY_HA ? activeOf(members) : undefined);
      for (const [vs, why] of result.unplaced) reasons.set(vs, why);
      const holding = new Map<string, number>();
      for (const s of members) {
        const placed = result.bySe.get(s.uuid) ?? [];
        const standby = result.standbyBySe.get(s.uuid) ?? [];
        holding.set(s.uuid, placed.length);
        const before = s.placed_vs_uuids as string[] | undefined;
        if (!before || !sameList(before, placed) || !sameList(standbyOf(s), standby)) writes.push({ se: s, placed, standby });
      }
      this.demand.set(g.uuid, { group: g, units, needed: Math.min(sesNeeded(settings, units), Number(g.max_se ?? 10)), holding });
    }
    for (const k of [...this.demand.keys()]) if (!groups.some((g) => g.uuid === k)) this.demand.delete(k);
    this.reasons = reasons;
    this.placementEvents(ses);
    if (leader) for (const w of writes) await this.write(w.se, w.placed, w.standby);
    // The view follows the records (written above, or by the leader elsewhere).
    const vsSes = new Map<string, string[]>();
    const vsStandby = new Map<string, Set<string>>();
    for (const s of ses) {
      const w = leader ? writes.find((x) => x.se.uuid === s.uuid) : undefined;
      for (const v of w?.placed ?? placedOf(s)) {
        let l = vsSes.get(v);
        if (!l) vsSes.set(v, (l = []));
        l.push(s.uuid);
      }
      for (const v of w?.standby ?? standbyOf(s)) {
        let l = vsStandby.get(v);
        if (!l) vsStandby.set(v, (l = new Set()));
        l.add(s.uuid);
      }
    }
    for (const v of vsAll) if (!vsSes.has(v.uuid) && v.enabled !== false) vsSes.set(v.uuid, []);
    this.vsSes = vsSes;
    this.vsStandby = vsStandby;
  }

  /**
   * VS_PLACEMENT_CHANGED from what the SE records show, so every replica records it (the
   * leader sees its own writes come back); the first sight of an SE is no change.
   */
  private placementEvents(ses: StoredObject[]): void {
    for (const se of ses) {
      const now = { placed: placedOf(se), standby: standbyOf(se) };
      const was = this.seenPlaced.get(se.uuid);
      this.seenPlaced.set(se.uuid, now);
      if (!was || (sameList(was.placed, now.placed) && sameList(was.standby, now.standby))) continue;
      const before = new Set(was.placed);
      const added = now.placed.filter((v) => !before.has(v));
      const removed = was.placed.filter((v) => !now.placed.includes(v));
      const wasStandby = new Set(was.standby);
      const nowStandby = new Set(now.standby);
      const active = now.placed.filter((v) => before.has(v) && wasStandby.has(v) && !nowStandby.has(v));
      const standby = now.placed.filter((v) => before.has(v) && !wasStandby.has(v) && nowStandby.has(v));
      const parts = [
        added.length ? `placed ${added.map((v) => (nowStandby.has(v) ? `${v} (standby)` : v)).join(', ')}` : '',
        removed.length ? `removed ${removed.join(', ')}` : '',
        active.length ? `active for ${active.join(', ')} (was standby)` : '',
        standby.length ? `standby for ${standby.join(', ')}` : '',
      ].filter(Boolean);
      this.o.onEvent?.({ event_id: 'VS_PLACEMENT_CHANGED', obj_type: 'serviceengine', obj_uuid: se.uuid, obj_name: se.name, reason: `${se.name}: ${parts.join('; ')}` });
    }
    for (const k of [...this.seenPlaced.keys()]) if (!ses.some((s) => s.uuid === k)) this.seenPlaced.delete(k);
  }

  /**
   * A new leader (or a restart) takes scale-outs from the records: a VS on more SEs than its
   * group's minimum was scaled out, and stays so.
   */
  private seedRequests(ses: StoredObject[], objects: Map<string, Map<string, StoredObject>>): void {
    this.requestsSeeded = true;
    const count = new Map<string, number>();
    for (const s of ses) for (const v of (s.placed_vs_uuids as string[] | undefined) ?? []) count.set(v, (count.get(v) ?? 0) + 1);
    for (const [v, n] of count) {
      const vs = objects.get('virtualservice')?.get(v);
      const g = vs && objects.get('serviceenginegroup')?.get(String(groupOf(objects, vs) ?? ''));
      if (g && n > wantedScaleout(groupSettings(g)) && !this.requested.has(v)) this.requested.set(v, n);
    }
  }

  private async write(se: StoredObject, placed: string[], standby: string[]): Promise<void> {
    try {
      // Read again: the engines module writes the same record (heartbeat state).
      const cur = await this.host.get('serviceengine', se.uuid);
      if (!cur) return;
      // An empty list clears it (a field left out would be carried over as read-only).
      await this.host.update('serviceengine', se.uuid, { ...cur, placed_vs_uuids: placed, ...(standby.length || cur.standby_vs_uuids !== undefined ? { standby_vs_uuids: standby } : {}) });
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message, se: se.uuid }, 'could not write placement');
      this.schedule();
    }
  }

  private trackSeState(ses: StoredObject[], now: number): void {
    for (const s of ses) {
      const up = this.seUp(s, now);
      const was = this.wasUp.get(s.uuid);
      this.wasUp.set(s.uuid, up);
      if (was === undefined || was === up) continue;
      this.o.onEvent?.(up
        ? { event_id: 'SE_UP', obj_type: 'serviceengine', obj_uuid: s.uuid, obj_name: s.name, reason: `service engine ${s.name} is heartbeating again` }
        : { event_id: 'SE_DOWN', obj_type: 'serviceengine', obj_uuid: s.uuid, obj_name: s.name, reason: `service engine ${s.name}: no heartbeat for ${Math.round(this.timeoutMs / 1000)} s` });
    }
    for (const k of [...this.wasUp.keys()]) if (!ses.some((s) => s.uuid === k)) this.wasUp.delete(k);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.tick);
    if (this.debounce) clearTimeout(this.debounce);
    this.off();
    if (this.registry.placement === this) this.registry.placement = undefined;
    await this.running;
  }
}

const placedOf = (se: StoredObject): string[] => (se.placed_vs_uuids as string[] | undefined) ?? [];
const standbyOf = (se: StoredObject): string[] => (se.standby_vs_uuids as string[] | undefined) ?? [];
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** VS → the SE its records show as active for it (it holds it, not as standby). */
function activeOf(members: StoredObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of members) {
    const standby = new Set(standbyOf(s));
    for (const v of placedOf(s)) if (!standby.has(v)) out.set(v, s.uuid);
  }
  return out;
}
