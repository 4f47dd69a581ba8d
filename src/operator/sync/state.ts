// What the controller holds that this operator owns: every object with `created_by:
// ako-<cluster>` (VsVips, which have no created_by, by name prefix and the clustername marker),
// read at start and at each full sync, then kept current from the write responses.
import type { ControllerClient } from '../controller-client/client.js';
import { WRITE_ORDER, typeNameKey, type OwnedType } from '../translate/types.js';
import { tenantOf, tenantsToRead } from './tenants.js';

export interface HeldObject {
  type: OwnedType;
  name: string;
  uuid: string;
  obj: Record<string, any>;
  /** The tenant it lives in (from its tenant_ref); undefined when the copy does not say. */
  tenant?: string;
  /** The desired checksum this copy was found to match (cleared when the copy is replaced). */
  synced?: string;
}

const WITH_CLOUD = new Set<OwnedType>(['virtualservice', 'pool', 'poolgroup', 'vsvip']);
const CKSUM_TYPES = new Set<OwnedType>(['virtualservice', 'pool', 'poolgroup', 'httppolicyset', 'vsvip']);
const SLIM_FIELDS = 'name,uuid,tenant_ref,cloud_config_cksum,vsvip_cloud_config_cksum,created_by,type,markers,vip';

/**
 * The `fields=` to ask of a write's answer: a checksummed type is kept slim, so the rest of the
 * object need not be rendered, sent and parsed (a controller that ignores `fields` on writes
 * answers in full, which slim() cuts down the same).
 */
export function answerFields(type: OwnedType): string | undefined {
  return CKSUM_TYPES.has(type) ? SLIM_FIELDS : undefined;
}

const INTERNED = new Map<unknown, unknown>();
function intern<T>(v: T): T {
  if (typeof v !== 'string') return v;
  const hit = INTERNED.get(v);
  if (hit !== undefined) return hit as T;
  if (INTERNED.size < 1000) INTERNED.set(v, v);
  return v;
}

/**
 * What is kept of a controller object: checksummed types are compared by checksum, so only the
 * fields the operator reads are kept (tens of thousands of objects stay small); others in full.
 */
function slim(type: OwnedType, o: Record<string, any>): Record<string, any> {
  if (!CKSUM_TYPES.has(type)) return o;
  const kept: Record<string, any> = { name: o.name, uuid: o.uuid };
  if (o.cloud_config_cksum !== undefined) kept.cloud_config_cksum = o.cloud_config_cksum;
  if (o.vsvip_cloud_config_cksum !== undefined) kept.vsvip_cloud_config_cksum = o.vsvip_cloud_config_cksum;
  // Every object repeats these few values: one copy each, not one per parsed response.
  if (o.created_by !== undefined) kept.created_by = intern(o.created_by);
  if (o.type !== undefined) kept.type = intern(o.type);
  if (type === 'vsvip') {
    if (Array.isArray(o.vip)) kept.vip = o.vip.map((v: Record<string, any>) => ({ vip_id: v.vip_id, ip_address: v.ip_address, ip6_address: v.ip6_address }));
  }
  return kept;
}

export class ControllerState {
  private readonly held = new Map<string, HeldObject>();

  constructor(readonly cluster: string, readonly cloud: string, readonly createdBy: string) {}

  static key(type: string, name: string): string {
    return typeNameKey(type, name);
  }

  get(type: string, name: string): HeldObject | undefined {
    return this.held.get(ControllerState.key(type, name));
  }

  set(type: OwnedType, obj: Record<string, any>): void {
    const tenant = tenantOf(obj);
    this.held.set(ControllerState.key(type, obj.name), { type, name: obj.name, uuid: obj.uuid, obj: slim(type, obj), ...(tenant ? { tenant: intern(tenant) } : {}) });
  }

  /**
   * The held copy matches the desired object of checksum `cksum`: remembered, and an
   * unchecksummed copy (kept in full to be compared field by field) shrinks to name and uuid.
   */
  markSynced(h: HeldObject, cksum: string): void {
    h.synced = cksum;
    if (!CKSUM_TYPES.has(h.type)) h.obj = { name: h.obj.name, uuid: h.obj.uuid };
  }

  drop(type: string, name: string): void {
    this.held.delete(ControllerState.key(type, name));
  }

  all(): IterableIterator<HeldObject> {
    return this.held.values();
  }

  get size(): number {
    return this.held.size;
  }

  /** Reads every owned object from the controller (paged, in every tenant), replacing what was known. */
  async refresh(client: ControllerClient): Promise<void> {
    const tenants = await tenantsToRead(client);
    const lists = await Promise.all(tenants.flatMap((tenant) => WRITE_ORDER.map(async (type) => {
      const q: Record<string, string> = { include_name: 'true' };
      if (WITH_CLOUD.has(type)) q['cloud_ref.name'] = this.cloud;
      if (type === 'vsvip') q['name.contains'] = `${this.cluster}--`;
      else q.created_by = this.createdBy;
      // Checksummed types are compared by checksum: ask only for what slim() keeps (a restart reads fast).
      if (CKSUM_TYPES.has(type)) q.fields = SLIM_FIELDS;
      // 1,000 a page (the controller's maximum; Avi's is 200): a restart reads 48k objects in ~50 requests, not 240.
      const items = (await client.list<Record<string, any>>(type, q, tenant, 1000)).filter((o) => (tenantOf(o) ?? tenant) === tenant); // not admin's shared ones again
      return [type, type === 'vsvip' ? items.filter((v) => this.ownsVsVip(v)) : items] as const;
    })));
    this.held.clear();
    for (const [type, items] of lists) for (const o of items) this.set(type, o);
  }

  /** VsVips carry no created_by: the name prefix and the clustername marker say they are ours. */
  private ownsVsVip(v: Record<string, any>): boolean {
    if (typeof v.name !== 'string' || !v.name.startsWith(`${this.cluster}--`)) return false;
    const markers: Array<{ key?: string; values?: string[] }> = Array.isArray(v.markers) ? v.markers : [];
    return markers.some((m) => m.key === 'clustername' && m.values?.includes(this.cluster));
  }

  /** The first VIP address of a VsVip, once allocated. */
  vip(name: string): string | undefined {
    const v = this.get('vsvip', name)?.obj;
    const vip = Array.isArray(v?.vip) ? v!.vip[0] : undefined;
    return vip?.ip_address?.addr ?? vip?.ip6_address?.addr;
  }
}
