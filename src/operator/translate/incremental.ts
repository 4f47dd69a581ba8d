// Incremental translation: the same objects as translate() (index.ts), rebuilt per unit so a
// change costs what depends on it, not the whole cluster. Units: one per L4 virtual service (its
// Services and their EndpointSlices), one for all Ingresses, and — while any AKO CRD object exists
// (CRDs adjust objects across units) — one unit with everything. A unit is rebuilt by the pure
// builders from the current snapshot; what changed is found by comparing object identities between
// snapshots (providers hand a new Map per change and keep unchanged objects). Between passes only
// each object's checksum is kept (`wanted`), not its body: a body lives while its unit is synced,
// and a pass that must write an object it did not just build asks for its unit again (`rebuild`).
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import { WRITE_ORDER, typeNameKey, type DesiredObject, type Infra, type ObjectOutcome, type Translation } from './types.js';
import { ObjectSet } from './objects.js';
import { Names } from './names.js';
import { EndpointIndex, sliceServiceKey, sortSlices } from './members.js';
import { buildGroup, l4Eligible, l4GroupOf } from './l4.js';
import { fqdnSubdomain, namespaceFilter, pushTo } from './common.js';
import { applyInfraToServices, buildIngressesByInfra } from './crd/infrasetting.js';
import { applyL4Rules } from './crd/l4rule.js';
import { servicesOfPods } from './npl.js';
import { backendKeys } from './ingress-parse.js';
import { buildInNamespaceTenant } from './tenants.js';
import type { CrdVerdict, KnownRefs } from './crd/index.js';
import { translate } from './index.js';
import { CNI_API_VERSIONS } from '../sync/cni-cidrs.js';

/** What is kept of a desired object between passes. */
export interface WantedObject {
  /** `type/name` (the one copy of the string: the map key and the unit's list share it). */
  key: string;
  cksum: string;
  /** The unit that builds it. */
  unit: string;
}

/** One unit, just built: its objects with bodies, and which of its keys changed since its last build. */
export interface UnitBuild {
  unit: string;
  objects: DesiredObject[];
  /** Keys built now whose checksum differs from the last build (new ones included). */
  changed: string[];
  /** Keys the unit built last time and no longer does (and no other unit took). */
  removed: string[];
}

const L7 = 'l7';
const ALL = 'all';
const L4 = 'l4:';
const NO_INFRAS = new Map<never, never>();
const NO_PROBLEMS = new Map<string, string>();
const NO_KEYS = new Set<string>();
const NO_OUTCOMES: readonly string[] = [];

export function objectKey(o: { type: string; name: string }): string {
  return typeNameKey(o.type, o.name);
}

export function outcomeKey(o: ObjectOutcome): string {
  return `${o.ref.kind}/${o.ref.namespace}/${o.ref.name}`;
}

/** AKO CRD objects present (the CNI's Pod CIDR objects in `custom` shape no translation). */
function hasCrdObjects(s: ClusterSnapshot): boolean {
  for (const [kind, m] of s.custom) if (m.size > 0 && !(kind in CNI_API_VERSIONS)) return true;
  return false;
}

/** Keys whose object is new, gone or another object (identity) between two maps. */
function changedKeys<T>(a: Map<string, T>, b: Map<string, T>): string[] {
  if (a === b) return [];
  const out: string[] = [];
  let added = 0;
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old === v) continue;
    out.push(k);
    if (old === undefined) added++;
  }
  // Keys that left: only looked for when the sizes say some did.
  if (a.size + added > b.size) for (const k of a.keys()) if (!b.has(k)) out.push(k);
  return out;
}

function mapChanged<T>(a: Map<string, T>, b: Map<string, T>): boolean {
  if (a === b) return false;
  if (a.size !== b.size) return true;
  for (const [k, v] of b) if (a.get(k) !== v) return true;
  return false;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class IncrementalTranslator {
  /** Every desired object by `type/name`: its checksum and unit. */
  readonly wanted = new Map<string, WantedObject>();
  /** Every handled Kubernetes object's outcome by `Kind/ns/name`. */
  readonly outcomes = new Map<string, ObjectOutcome>();
  /** Outcome keys built, changed or gone since the caller last cleared this set. */
  readonly changedOutcomes = new Set<string>();
  /** CRD verdicts of the last build of the everything-unit (empty without CRD objects). */
  crdStatuses: CrdVerdict[] = [];

  private readonly names: Names;
  private readonly subdomain: string | undefined;
  private snap: ClusterSnapshot | undefined;
  private known: KnownRefs | undefined;
  private crdMode = false;
  private readonly unitObjects = new Map<string, WantedObject[]>();
  private readonly unitOutcomes = new Map<string, string[]>();
  private readonly outcomeUnit = new Map<string, string>();
  // L4 indexes (arrays, not sets: most hold one entry): which group each eligible Service is in,
  // the groups' Services, each Service's slices.
  private readonly svcGroup = new Map<string, string>();
  private readonly groupServices = new Map<string, string[]>();
  private readonly sliceService = new Map<string, string>();
  private readonly slicesByService = new Map<string, V1EndpointSlice[]>();
  /** Services the Ingresses name: a change to one rebuilds the Ingress unit. */
  private l7Services = new Set<string>();
  private endpoints: EndpointIndex | undefined;

  constructor(private readonly settings: OperatorSettings, private readonly infra: Infra) {
    this.names = new Names(settings.clusterName, settings.enableEVH);
    this.subdomain = fqdnSubdomain(infra, settings);
  }

  /** The unit that builds an object, if any. */
  unitOf(key: string): string | undefined {
    return this.wanted.get(key)?.unit;
  }

  /** Outcome keys whose status may read a controller object: those its unit built (a status reads its own VS and VsVip). */
  readersOf(key: string): readonly string[] {
    const u = this.unitOf(key);
    return (u && this.unitOutcomes.get(u)) || NO_OUTCOMES;
  }

  /**
   * Takes a new snapshot and yields the units its changes touch, rebuilt (`all`: every unit), plus
   * the units of the `extra` object keys (a retry needs their bodies). Consume it to the end: the
   * indexes and `wanted` are updated unit by unit as they are yielded.
   */
  *update(snapshot: ClusterSnapshot, known: KnownRefs | undefined, opts: { all?: boolean; extra?: Iterable<string> } = {}): Generator<UnitBuild> {
    const prev = this.snap;
    this.snap = snapshot;
    this.known = known;
    const dirty = new Set<string>();
    if (hasCrdObjects(snapshot)) {
      if (!this.crdMode) for (const u of this.units()) dirty.add(u);
      this.crdMode = true;
      this.clearIndexes();
      dirty.add(ALL);
    } else if (!prev || this.crdMode || opts.all || mapChanged(prev.namespaces, snapshot.namespaces) || mapChanged(prev.nodes, snapshot.nodes)) {
      // Namespaces (selector, infra annotations) and nodes (NodePort members) reach every unit.
      this.crdMode = false;
      for (const u of this.units()) dirty.add(u);
      this.reindex(snapshot);
      for (const g of this.groupServices.keys()) dirty.add(L4 + g);
      dirty.add(L7);
    } else {
      this.applyChanges(prev, snapshot, dirty);
    }
    for (const k of opts.extra ?? []) {
      const u = this.unitOf(k);
      if (u) dirty.add(u);
    }
    // Units in a stable order (L4 groups by name, then the Ingresses), so passes are reproducible.
    const order = [...dirty].sort(cmp);
    for (const u of order) yield this.build(u);
  }

  /**
   * Builds units again from the current snapshot, for their bodies: the same objects (translation
   * is pure), so the indexes are left as they are (no churn of long-lived entries).
   */
  *rebuild(units: Iterable<string>): Generator<DesiredObject[]> {
    for (const u of units) yield this.buildObjects(u).objects;
  }

  /** Everything, as translate() returns it (tests compare the two). */
  translation(): Translation {
    const objects: DesiredObject[] = [];
    for (const u of [...this.units()].sort(cmp)) objects.push(...this.buildObjects(u).objects);
    const rank = new Map(WRITE_ORDER.map((t, i) => [t, i]));
    objects.sort((a, b) => rank.get(a.type)! - rank.get(b.type)! || cmp(a.name, b.name));
    const outcomes = [...this.outcomes.values()].sort((a, b) => cmp(a.ref.kind, b.ref.kind) || cmp(a.ref.namespace, b.ref.namespace) || cmp(a.ref.name, b.ref.name));
    return { objects, outcomes, crdStatuses: this.crdStatuses };
  }

  /** Every unit that built something last time (objects or outcomes). */
  private units(): Set<string> {
    return new Set([...this.unitObjects.keys(), ...this.unitOutcomes.keys()]);
  }

  private clearIndexes(): void {
    this.svcGroup.clear();
    this.groupServices.clear();
    this.sliceService.clear();
    this.slicesByService.clear();
    this.l7Services = new Set();
    this.endpoints = undefined;
  }

  private reindex(s: ClusterSnapshot): void {
    this.clearIndexes();
    for (const [k, slice] of s.endpointSlices) this.indexSlice(k, undefined, slice);
    const nsOk = namespaceFilter(s, this.settings);
    for (const [k, svc] of s.services) this.indexService(k, svc, nsOk);
  }

  /** Files a slice (`was`: the object it replaces) under its Service; returns the Service it left. */
  private indexSlice(key: string, was: V1EndpointSlice | undefined, slice: V1EndpointSlice | undefined): string | undefined {
    const old = this.sliceService.get(key);
    if (old) {
      const list = this.slicesByService.get(old)!;
      const i = list.indexOf(was!);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.slicesByService.delete(old);
      this.sliceService.delete(key);
    }
    const svc = slice ? sliceServiceKey(slice) : undefined;
    if (svc) {
      const list = this.slicesByService.get(svc);
      if (list) { list.push(slice!); sortSlices(list); } else this.slicesByService.set(svc, [slice!]);
      this.sliceService.set(key, svc);
    }
    return old;
  }

  /** (Re)files a Service under its group; returns the groups it left and joined. */
  private indexService(key: string, svc: V1Service | undefined, nsOk: (ns: string) => boolean): [string | undefined, string | undefined] {
    const old = this.svcGroup.get(key);
    if (old) {
      const list = this.groupServices.get(old)!;
      list.splice(list.indexOf(key), 1);
      this.svcGroup.delete(key);
    }
    if (!svc || !l4Eligible(svc, this.settings, nsOk)) return [old, undefined];
    const g = l4GroupOf(svc, this.names).vsName;
    pushTo(this.groupServices, g, key);
    this.svcGroup.set(key, g);
    return [old, g];
  }

  private applyChanges(prev: ClusterSnapshot, s: ClusterSnapshot, dirty: Set<string>): void {
    const affected = new Set(changedKeys(prev.services, s.services));
    for (const k of changedKeys(prev.endpointSlices, s.endpointSlices)) {
      const slice = s.endpointSlices.get(k);
      const old = this.indexSlice(k, prev.endpointSlices.get(k), slice);
      if (old) affected.add(old);
      const now = slice ? sliceServiceKey(slice) : undefined;
      if (now) affected.add(now);
    }
    // NodePortLocal: a pod change moves the members of the Services that select it.
    const pods = changedKeys(prev.pods, s.pods);
    if (pods.length) {
      this.endpoints?.podsChanged(prev.pods, s.pods, pods);
      for (const k of servicesOfPods(prev, s, pods, this.settings)) affected.add(k);
    }
    const nsOk = namespaceFilter(s, this.settings);
    let l7 = mapChanged(prev.ingresses, s.ingresses) || mapChanged(prev.ingressClasses, s.ingressClasses) || mapChanged(prev.secrets, s.secrets);
    for (const k of affected) {
      const [left, joined] = this.indexService(k, s.services.get(k), nsOk);
      if (left) dirty.add(L4 + left);
      if (joined) dirty.add(L4 + joined);
      if (this.l7Services.has(k)) l7 = true;
    }
    if (l7) dirty.add(L7);
  }

  private slicesOf = (svcKey: string): V1EndpointSlice[] => this.slicesByService.get(svcKey) ?? [];

  private endpointIndex(): EndpointIndex {
    // Nodes only change through a full re-index, which drops this.
    this.endpoints ??= new EndpointIndex(this.snap!, this.settings, this.slicesOf);
    return this.endpoints;
  }

  private buildObjects(unit: string): { objects: DesiredObject[]; outcomes: ObjectOutcome[] } {
    const s = this.snap!;
    if (unit === ALL) {
      if (!this.crdMode) return { objects: [], outcomes: [] };
      const t = translate(s, this.settings, this.infra, this.known);
      this.crdStatuses = t.crdStatuses ?? [];
      return t;
    }
    if (this.crdMode) return { objects: [], outcomes: [] };
    const set = new ObjectSet(this.infra, this.settings.clusterName, this.names.createdBy());
    const outcomes: ObjectOutcome[] = [];
    if (unit === L7) {
      const refs = new Set<string>();
      for (const ing of s.ingresses.values()) backendKeys(ing, refs);
      this.l7Services = refs;
      buildIngressesByInfra(s, this.settings, set, this.names, this.endpointIndex(), outcomes, NO_INFRAS, this.known, NO_PROBLEMS);
    } else {
      const vsName = unit.slice(L4.length);
      const keys = (this.groupServices.get(vsName) ?? []).sort(cmp);
      if (keys.length === 0) { this.groupServices.delete(vsName); return { objects: [], outcomes: [] }; }
      const services = keys.map((k) => s.services.get(k)!);
      const { sharedKey } = l4GroupOf(services[0]!, this.names);
      buildInNamespaceTenant(s, set, services[0]!.metadata?.namespace ?? 'default', outcomes,
        (into, out) => buildGroup(vsName, sharedKey, services, this.settings, into, this.names, this.endpointIndex(), this.subdomain, out));
      // What translate()'s applyCrds does to Services when no CRD object exists: warnings only.
      applyInfraToServices(set, s, outcomes, NO_INFRAS, this.known, NO_PROBLEMS);
      applyL4Rules(set, s, NO_INFRAS, NO_KEYS, outcomes);
    }
    if (!this.crdMode) this.crdStatuses = [];
    return { objects: set.finish(WRITE_ORDER), outcomes };
  }

  private build(unit: string): UnitBuild {
    const { objects, outcomes } = this.buildObjects(unit);
    const changed: string[] = [];
    const removed: string[] = [];
    const mine: WantedObject[] = [];
    for (const o of objects) {
      const k = objectKey(o);
      let w = this.wanted.get(k);
      if (!w || w.cksum !== o.cksum) changed.push(k);
      if (w && w.unit === unit) w.cksum = o.cksum;
      else this.wanted.set(k, (w = { key: k, cksum: o.cksum, unit }));
      mine.push(w);
    }
    const before = this.unitObjects.get(unit);
    if (before) {
      const built = new Set(mine);
      for (const w of before) {
        if (built.has(w) || this.wanted.get(w.key) !== w) continue;
        this.wanted.delete(w.key);
        removed.push(w.key);
      }
    }
    if (mine.length) this.unitObjects.set(unit, mine);
    else this.unitObjects.delete(unit);
    this.replaceOutcomes(unit, outcomes);
    return { unit, objects, changed, removed };
  }

  private replaceOutcomes(unit: string, outcomes: ObjectOutcome[]): void {
    const keys = outcomes.map(outcomeKey);
    const now = new Set(keys);
    for (const k of this.unitOutcomes.get(unit) ?? []) {
      const o = this.outcomes.get(k);
      if (!o || now.has(k) || this.outcomeUnit.get(k) !== unit) continue;
      this.outcomes.delete(k);
      this.outcomeUnit.delete(k);
      this.changedOutcomes.add(k);
    }
    outcomes.forEach((o, i) => {
      const k = keys[i]!;
      this.outcomes.set(k, o);
      this.outcomeUnit.set(k, unit);
      this.changedOutcomes.add(k);
    });
    if (keys.length) this.unitOutcomes.set(unit, keys);
    else this.unitOutcomes.delete(unit);
  }
}
