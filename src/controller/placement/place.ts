// Placement of virtual services on the service engines of one SE group. Pure: the same input
// gives the same output, and what was placed before stays where it is while it still fits
// (adding a VS never moves another one).

export interface PlacementGroup {
  uuid: string;
  name: string;
  maxVsPerSe: number;
  minScaleout: number;
  maxScaleout: number;
  haMode: string;
}

/** VSes that must live on the same SEs: a VS with its SNI children, VSes sharing a VIP. */
export interface PlacementUnit {
  /** Stable key (the smallest VS UUID of the unit). */
  key: string;
  vsUuids: string[];
  /** VSes that count against `max_vs_per_se` (SNI children ride with their parent). */
  weight: number;
  /** SEs wanted (min_scaleout_per_vs, or more after a scale out). */
  want: number;
}

export interface PlacementResult {
  /** SE UUID → the VS UUIDs it holds (every eligible SE appears, maybe with none). */
  bySe: Map<string, string[]>;
  /** Unit key → the SEs holding it, in placement order (first = primary). */
  byUnit: Map<string, string[]>;
  /** VS UUID → why it is not placed on as many SEs as it wants (none: on none at all). */
  unplaced: Map<string, string>;
  /** HA_MODE_LEGACY_ACTIVE_STANDBY: SE UUID → the VSes it holds as standby (the others it holds are active). */
  standbyBySe: Map<string, string[]>;
}

export const LEGACY_HA = 'HA_MODE_LEGACY_ACTIVE_STANDBY';

/** SEs a VS wants in this HA mode: a pair or active/standby is two SEs at least. */
export function wantedScaleout(g: PlacementGroup, requested?: number): number {
  const floor = g.haMode === 'HA_MODE_SHARED' ? g.minScaleout : Math.max(2, g.minScaleout);
  return Math.min(Math.max(requested ?? floor, floor), Math.max(g.maxScaleout, floor));
}

/**
 * Places the units of one group on its eligible SEs (sorted by name for stable ties).
 * `previous`: SE UUID → the VSes it held. Kept first; then each unit that needs more SEs
 * takes the least loaded SEs that have room. `active` (legacy active/standby): VS UUID → the SE
 * that was active for it; it stays first (active) while it is up, else the kept standby is
 * first and so takes over at once, and a returning SE comes back as standby (no flapping).
 */
export function place(g: PlacementGroup, ses: string[], units: PlacementUnit[], previous: Map<string, Set<string>>, active = new Map<string, string>()): PlacementResult {
  const load = new Map<string, number>(ses.map((s) => [s, 0]));
  const byUnit = new Map<string, string[]>();
  const order = [...units].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // 1. Keep what still fits, in SE order.
  for (const u of order) {
    const kept: string[] = [];
    for (const se of ses) {
      if (kept.length >= u.want) break;
      const held = previous.get(se);
      if (!held || !u.vsUuids.some((v) => held.has(v))) continue;
      if (load.get(se)! + u.weight > g.maxVsPerSe) continue;
      kept.push(se);
      load.set(se, load.get(se)! + u.weight);
    }
    const wasActive = kept.findIndex((se) => u.vsUuids.some((v) => active.get(v) === se));
    if (wasActive > 0) kept.unshift(...kept.splice(wasActive, 1));
    byUnit.set(u.key, kept);
  }
  // 2. Fill up to `want`: least loaded first, then by name (the order of `ses`).
  const unplaced = new Map<string, string>();
  for (const u of order) {
    const on = byUnit.get(u.key)!;
    while (on.length < u.want) {
      let best: string | undefined;
      for (const se of ses) {
        if (on.includes(se) || load.get(se)! + u.weight > g.maxVsPerSe) continue;
        if (best === undefined || load.get(se)! < load.get(best)!) best = se;
      }
      if (best === undefined) break;
      on.push(best);
      load.set(best, load.get(best)! + u.weight);
    }
    if (on.length < u.want) {
      const why = ses.length === 0
        ? `no service engine is up in SE group ${g.name}`
        : on.length === 0
          ? `SE group ${g.name} is full: ${ses.length} service engine(s) up, max_vs_per_se ${g.maxVsPerSe}`
          : `placed on ${on.length} of ${u.want} service engines wanted (SE group ${g.name}: ${ses.length} up, max_vs_per_se ${g.maxVsPerSe})`;
      for (const v of u.vsUuids) unplaced.set(v, why);
    }
  }
  const bySe = new Map<string, string[]>(ses.map((s) => [s, []]));
  for (const u of order) for (const se of byUnit.get(u.key)!) bySe.get(se)!.push(...u.vsUuids);
  for (const list of bySe.values()) list.sort();
  const standbyBySe = new Map<string, string[]>();
  if (g.haMode === LEGACY_HA) {
    for (const u of order) for (const se of byUnit.get(u.key)!.slice(1)) {
      let l = standbyBySe.get(se);
      if (!l) standbyBySe.set(se, (l = []));
      l.push(...u.vsUuids);
    }
    for (const list of standbyBySe.values()) list.sort();
  }
  return { bySe, byUnit, unplaced, standbyBySe };
}

/** SEs a group needs for its units (before buffer_se): the widest unit, or the total load over max_vs_per_se. */
export function sesNeeded(g: PlacementGroup, units: PlacementUnit[]): number {
  let widest = 0;
  let total = 0;
  for (const u of units) {
    widest = Math.max(widest, u.want);
    total += u.weight * u.want;
  }
  return Math.max(widest, Math.ceil(total / g.maxVsPerSe));
}

/** Joins VSes into units: SNI/EVH children with their parent, VSes that share a vsvip. */
export function unitsOf(vses: Array<{ uuid: string; parent?: string; vsvip?: string; want: number }>): PlacementUnit[] {
  const parentOf = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parentOf.has(r) && parentOf.get(r) !== r) r = parentOf.get(r)!;
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parentOf.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  const known = new Set(vses.map((v) => v.uuid));
  const byVip = new Map<string, string>();
  for (const v of vses) {
    parentOf.set(v.uuid, parentOf.get(v.uuid) ?? v.uuid);
    if (v.parent && known.has(v.parent)) union(v.uuid, v.parent);
    if (v.vsvip) {
      const other = byVip.get(v.vsvip);
      if (other) union(v.uuid, other);
      else byVip.set(v.vsvip, v.uuid);
    }
  }
  const units = new Map<string, PlacementUnit>();
  for (const v of vses) {
    const root = find(v.uuid);
    let u = units.get(root);
    if (!u) units.set(root, (u = { key: root, vsUuids: [], weight: 0, want: 0 }));
    u.vsUuids.push(v.uuid);
    if (!(v.parent && known.has(v.parent))) u.weight++;
    u.want = Math.max(u.want, v.want);
  }
  for (const u of units.values()) u.vsUuids.sort();
  return [...units.values()];
}
