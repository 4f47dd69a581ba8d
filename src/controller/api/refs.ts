// Refs on write: `/api/<type>/<uuid>`, `/api/<type>?name=<n>` (also `/?name=`), absolute URLs,
// `#name` suffixes and bare UUIDs all resolve to a bare UUID, looked up in the request's tenant
// and then, for shared types, in the admin tenant.
import { typeInfo, type TypeInfo } from '../../model/registry.js';
import { visitPath } from '../../model/paths.js';
import type { StoreReader, ObjectRecord, RecordHead } from '../store/types.js';
import { badRequest } from '../errors.js';

export const ADMIN = 'admin';

export interface ParsedRef { type?: string; uuid?: string; name?: string }

export function parseRef(ref: string): ParsedRef | undefined {
  const noHash = ref.split('#', 1)[0]!;
  const at = noHash.indexOf('/api/');
  if (at < 0) return /^[A-Za-z0-9_.:-]+$/.test(noHash) ? { uuid: noHash } : undefined;
  const rest = noHash.slice(at + 5);
  const q = rest.indexOf('?');
  const path = (q >= 0 ? rest.slice(0, q) : rest).replace(/\/+$/, '');
  const [type, uuid, extra] = path.split('/');
  if (!type || extra !== undefined) return undefined;
  if (uuid) return { type, uuid: decodeURIComponent(uuid) };
  const name = q >= 0 ? new URLSearchParams(rest.slice(q + 1)).get('name') : null;
  return name ? { type, name } : undefined;
}

/** Whether an object stored in `rec.tenant` is visible from `tenant`. */
export function visibleFrom(rec: { tenant: string; type: string }, tenant: string): boolean {
  if (rec.tenant === tenant) return true;
  if (rec.tenant !== ADMIN) return false;
  const info = typeInfo(rec.type);
  return !!info && (info.sharedFromAdmin || info.adminOnly);
}

export function notFoundMessage(info: TypeInfo): string {
  return `${info.model} object not found!`;
}

/** Finds an object by name as a ref would: the tenant first, then admin's shared objects; the given cloud preferred. */
export function findByName(r: StoreReader, info: TypeInfo, name: string, tenant: string, cloud?: string): Promise<ObjectRecord | undefined> {
  return pickByName((t, te, n) => r.byName(t, te, n), info, name, tenant, cloud);
}

async function pickByName<R extends RecordHead>(byName: (type: string, tenant: string, name: string) => Promise<R[]>, info: TypeInfo, name: string, tenant: string, cloud?: string): Promise<R | undefined> {
  const own = info.adminOnly ? ADMIN : tenant;
  let found = await byName(info.type, own, name);
  if (found.length === 0 && own !== ADMIN && info.sharedFromAdmin) found = await byName(info.type, ADMIN, name);
  if (found.length <= 1 || !cloud) return found[0];
  return found.find((f) => f.cloud === cloud) ?? found[0];
}

/**
 * Resolves one ref string to the UUID of a visible object of type `target`; 400 naming `field`
 * otherwise. Reads no body; `names` (when given) learns the object's name (for `#name` on the answer).
 */
export async function resolveRef(r: StoreReader, ref: string, target: string, tenant: string, field: string, cloud?: string, names?: Map<string, string>): Promise<string> {
  const info = typeInfo(target)!;
  const p = parseRef(ref);
  if (!p) throw badRequest(`${field}: ${JSON.stringify(ref)} is not a ref (write /api/${target}/<uuid> or /api/${target}?name=<name>)`);
  if (p.type && p.type !== target) throw badRequest(`${field}: refers to a ${p.type}, expected a ${target}`);
  let rec: RecordHead | undefined;
  if (p.uuid) {
    rec = await r.head(p.uuid);
    if (rec && (rec.type !== target || !visibleFrom(rec, tenant))) rec = undefined;
  } else {
    rec = await pickByName((t, te, n) => r.headsByName(t, te, n), info, p.name!, tenant, cloud);
  }
  if (!rec) throw badRequest(`${field}: ${notFoundMessage(info)} (${ref})`);
  names?.set(rec.uuid, rec.name);
  return rec.uuid;
}

/** Rewrites every ref of `body` (a valid object of `info`) to a bare UUID; returns the set of UUIDs referred to. */
export async function resolveRefs(r: StoreReader, info: TypeInfo, body: Record<string, unknown>, tenant: string, cloud: string | undefined, names?: Map<string, string>): Promise<Set<string>> {
  const jobs: Array<{ parent: any; key: string | number; ref: string; target: string; at: string }> = [];
  for (const f of info.refs) {
    visitPath(body, f.segs, (v, parent, key, at) => {
      if (typeof v === 'string') jobs.push({ parent, key, ref: v, target: f.target, at });
    });
  }
  const out = new Set<string>();
  for (const j of jobs) {
    const uuid = await resolveRef(r, j.ref, j.target, tenant, j.at, cloud, names);
    j.parent[j.key] = uuid;
    out.add(uuid);
  }
  return out;
}
