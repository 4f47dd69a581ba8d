// The set of desired controller objects one translation builds: common fields (tenant, cloud,
// created_by, markers), the checksum, the 255-character name limit, and dependency tracking.
import { fnvValue, MAX_NAME_LENGTH } from './names.js';
import { typeNameKey, type DesiredObject, type Infra, type OwnedType } from './types.js';

const HAS_CKSUM = new Set<OwnedType>(['virtualservice', 'pool', 'poolgroup', 'httppolicyset']);
const HAS_CREATED_BY = new Set<OwnedType>(['virtualservice', 'pool', 'poolgroup', 'httppolicyset', 'l4policyset', 'vsdatascriptset', 'sslkeyandcertificate', 'pkiprofile']);
const HAS_CLOUD = new Set<OwnedType>(['virtualservice', 'vsvip', 'pool', 'poolgroup']);

export interface Marker { key: string; values: string[] }

/** `/api/<type>?name=<name>`: how AKO writes refs (resolved by the controller within the tenant). */
export function ref(type: string, name: string): string {
  return `/api/${type}?name=${encodeURIComponent(name)}`;
}

/** One frozen clustername marker per cluster, shared by every object of every set (the incremental translator makes a set per unit). */
const CLUSTER_MARKERS = new Map<string, Marker>();
function clusterMarker(cluster: string): Marker {
  let m = CLUSTER_MARKERS.get(cluster);
  if (!m) CLUSTER_MARKERS.set(cluster, (m = Object.freeze({ key: 'clustername', values: Object.freeze([cluster]) as string[] })));
  return m;
}

export class ObjectSet {
  private readonly byKey = new Map<string, DesiredObject>();
  readonly tenantRef: string;
  readonly cloudRef: string;
  readonly vrfRef: string;
  /** One shared marker object: tens of thousands of objects carry it. */
  private readonly clusterMarker: Marker;
  /** Objects added now go to this tenant instead of infra.tenant (translate/tenants.ts sets it per namespace). */
  private tenant: { name: string; ref: string } | undefined;

  constructor(readonly infra: Infra, readonly cluster: string, readonly createdBy: string) {
    this.tenantRef = ref('tenant', infra.tenant);
    this.cloudRef = ref('cloud', infra.cloud);
    this.vrfRef = ref('vrfcontext', infra.vrf);
    this.clusterMarker = clusterMarker(cluster);
  }

  /** Objects added from now on live in tenant `name` (undefined: the configured tenant). */
  useTenant(name: string | undefined): void {
    this.tenant = name === undefined || name === this.infra.tenant ? undefined : { name, ref: ref('tenant', name) };
  }

  static tooLong(name: string): boolean {
    return name.length > MAX_NAME_LENGTH;
  }

  has(type: OwnedType, name: string): boolean {
    return this.byKey.has(typeNameKey(type, name));
  }

  get(type: OwnedType, name: string): DesiredObject | undefined {
    return this.byKey.get(typeNameKey(type, name));
  }

  /** Every object of a type built so far (CRD rules adjust them before `finish`). */
  *values(type: OwnedType): IterableIterator<DesiredObject> {
    for (const o of this.byKey.values()) if (o.type === type) yield o;
  }

  /**
   * Adds an object (fields in the order AKO writes them: name, tenant, cloud, created_by, then
   * the body, markers last). `deps` are owned objects it refers to, as [type, name].
   */
  add(type: OwnedType, name: string, fields: Record<string, unknown>, markers: Marker[], deps: Array<[OwnedType, string]>): DesiredObject {
    const body: Record<string, unknown> = { name, tenant_ref: this.tenant?.ref ?? this.tenantRef };
    if (HAS_CLOUD.has(type)) body.cloud_ref = this.cloudRef;
    if (HAS_CREATED_BY.has(type)) body.created_by = this.createdBy;
    Object.assign(body, fields);
    body.markers = [this.clusterMarker, ...markers];
    const obj: DesiredObject = { type, name, body, cksum: '', deps: deps.map(([t, n]) => `${t}/${n}`) };
    if (this.tenant) obj.tenant = this.tenant.name;
    this.byKey.set(typeNameKey(type, name), obj);
    return obj;
  }

  /** Checksums and the final list, in a stable order (type in write order, then name). */
  finish(order: readonly OwnedType[]): DesiredObject[] {
    const rank = new Map(order.map((t, i) => [t, i]));
    const list = [...this.byKey.values()];
    for (const o of list) {
      // Deps that were never built (skipped: name too long, bad input) stay listed so sync skips the parent too.
      const sum = String(fnvValue(o.body) >>> 0);
      o.cksum = sum;
      if (HAS_CKSUM.has(o.type)) o.body.cloud_config_cksum = sum;
      else if (o.type === 'vsvip') o.body.vsvip_cloud_config_cksum = sum;
    }
    return list.sort((a, b) => rank.get(a.type)! - rank.get(b.type)! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
