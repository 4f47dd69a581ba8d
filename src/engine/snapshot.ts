// The configuration snapshot an SE applies (docs/engine-protocol.md): parsing, indexing, and
// the small readers the runtime needs. Refs inside are bare UUIDs (`pool-…`).
import type { SnapshotIndex } from './contracts.js';

export interface DnsRecord { fqdn: string; addresses: string[]; ttl: number }
export interface Snapshot {
  version: number;
  se?: { uuid: string; name: string; se_group_uuid: string };
  objects: Record<string, Record<string, any>[]>;
  dns?: { domains: string[]; records: DnsRecord[] };
  /** The VRF contexts of the SE's VSes with their static routes (installed in L2 mode: vip/routes.ts). */
  vrfcontexts?: Array<{ uuid: string; name: string; static_routes?: unknown[] }>;
}

export class SnapshotError extends Error {}

/** Checks the shape of a snapshot (from the controller or from disk); throws naming the bad field. */
export function parseSnapshot(value: unknown): Snapshot {
  if (!value || typeof value !== 'object') throw new SnapshotError('snapshot: not an object');
  const s = value as Record<string, any>;
  if (typeof s.version !== 'number' || !Number.isFinite(s.version)) throw new SnapshotError('snapshot.version: not a number');
  if (!s.objects || typeof s.objects !== 'object') throw new SnapshotError('snapshot.objects: not an object');
  for (const [type, list] of Object.entries(s.objects)) {
    if (!Array.isArray(list)) throw new SnapshotError(`snapshot.objects.${type}: not a list`);
    list.forEach((o, i) => {
      if (!o || typeof o !== 'object' || typeof (o as any).uuid !== 'string') throw new SnapshotError(`snapshot.objects.${type}[${i}].uuid: missing`);
    });
  }
  if (s.dns !== undefined && s.dns !== null) {
    if (!Array.isArray(s.dns.domains)) throw new SnapshotError('snapshot.dns.domains: not a list');
    if (!Array.isArray(s.dns.records)) throw new SnapshotError('snapshot.dns.records: not a list');
    s.dns.records.forEach((r: any, i: number) => {
      if (typeof r?.fqdn !== 'string' || !Array.isArray(r.addresses)) throw new SnapshotError(`snapshot.dns.records[${i}]: needs fqdn and addresses`);
    });
  }
  if (s.vrfcontexts !== undefined && !Array.isArray(s.vrfcontexts)) throw new SnapshotError('snapshot.vrfcontexts: not a list');
  return s as Snapshot;
}

export function indexSnapshot(s: Snapshot): SnapshotIndex {
  const index = new Map<string, Map<string, Record<string, any>>>();
  for (const [type, list] of Object.entries(s.objects)) {
    const m = new Map<string, Record<string, any>>();
    for (const o of list) m.set(o.uuid, o);
    index.set(type, m);
  }
  return index;
}

export function lookup(index: SnapshotIndex, type: string, uuid: unknown): Record<string, any> | undefined {
  return typeof uuid === 'string' ? index.get(type)?.get(uuid) : undefined;
}

/** The VIP addresses a VS listens on: its vsvip's (or inline) enabled vip[] v4 and v6 addresses. */
export function vsAddresses(index: SnapshotIndex, vs: Record<string, any>): string[] {
  const vsvip = lookup(index, 'vsvip', vs.vsvip_ref);
  const vips: any[] = (vsvip?.vip ?? vs.vip ?? []) as any[];
  const out: string[] = [];
  for (const v of vips) {
    if (v?.enabled === false) continue;
    if (typeof v?.ip_address?.addr === 'string') out.push(v.ip_address.addr);
    if (typeof v?.ip6_address?.addr === 'string') out.push(v.ip6_address.addr);
  }
  return [...new Set(out)];
}

/** A stable fingerprint of an object: the store's `_last_modified` when there is one (cheap), else its JSON. */
export function objectStamp(o: Record<string, any>): string {
  return typeof o._last_modified === 'string' ? `${o.uuid}@${o._last_modified}` : JSON.stringify(o);
}

const UUID_REF = /^([a-z0-9]+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The bare-UUID refs inside one object (its own uuid excluded). */
function directRefs(o: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, top: boolean) => {
    if (typeof v === 'string') {
      if (v.length > 37 && UUID_REF.test(v)) out.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, false);
    } else if (v && typeof v === 'object') {
      for (const k in v as Record<string, unknown>) if (!(top && k === 'uuid')) walk((v as Record<string, unknown>)[k], false);
    }
  };
  walk(o, true);
  return out;
}

const typeOf = (uuid: string) => uuid.slice(0, uuid.indexOf('-'));

/** Every object reachable from `root` through bare-UUID refs (root included), in a stable order. */
export function refClosure(index: SnapshotIndex, root: Record<string, any>, seen = new Set<string>()): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  const stack = [root];
  seen.add(root.uuid);
  while (stack.length) {
    const o = stack.pop()!;
    out.push(o);
    for (const ref of directRefs(o)) {
      if (seen.has(ref)) continue;
      const target = index.get(typeOf(ref))?.get(ref);
      if (!target) continue;
      seen.add(ref);
      stack.push(target);
    }
  }
  return out;
}
