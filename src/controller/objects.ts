// The write path shared by the REST API and the engine host: validate, resolve refs, run the
// type's rules (IPAM, DNS, certificates…) and store, all in one transaction per write.
import { randomUUID } from 'node:crypto';
import { typeInfo, type TypeInfo } from '../model/registry.js';
import { deletePath } from '../model/paths.js';
import type { Store, StoreTx, ObjectRecord } from './store/types.js';
import { StoreConflict } from './store/types.js';
import type { StoredObject } from './engines/host.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from './errors.js';
import { validate } from './api/validate.js';
import { applyDefaults } from './api/defaults.js';
import { ADMIN, resolveRef, resolveRefs, visibleFrom, notFoundMessage } from './api/refs.js';
import { typeHooks } from './typehooks.js';
import { rememberNames } from './api/render.js';
import { CLAIM_SYSTEM, type WriteContext } from './hooks.js';

export interface Caller {
  /** The request's tenant UUID. */
  tenant: string;
  /** The engine host and seeding: may set read-only and internal fields, and the UUID. */
  internal?: boolean;
  /** Seeding: the object is a system object (read-only for other tenants, never deleted). */
  system?: boolean;
  /** A superuser: the only kind of REST caller that may write users and tenants. */
  superuser?: boolean;
}

/** Users and tenants decide who may do what: only superusers change them. */
const PRIVILEGED = new Set(['user', 'tenant']);
function checkPrivilege(info: TypeInfo, caller: Caller): void {
  if (PRIVILEGED.has(info.type) && !caller.internal && !caller.superuser) throw forbidden(`only a superuser may change ${info.type} objects`);
}

let lastMicros = 0n;
/** `_last_modified`: microseconds since the epoch, strictly increasing within the process. */
function nowMicros(): string {
  const t = BigInt(Date.now()) * 1000n;
  lastMicros = t > lastMicros ? t : lastMicros + 1n;
  return lastMicros.toString();
}

function infoOr404(type: string): TypeInfo {
  const info = typeInfo(type);
  if (!info) throw notFound(`no such object type: ${type}`);
  return info;
}

/** A type's fields the writer cannot send back (write-only, read-only, internal; not inside arrays), split once per type. */
const carriedFields = new WeakMap<TypeInfo, Array<{ parentSegs: string[]; leaf: string }>>();
function carriedOf(info: TypeInfo): Array<{ parentSegs: string[]; leaf: string }> {
  let list = carriedFields.get(info);
  if (!list) {
    list = [...info.writeOnly, ...info.readOnly, ...info.internal].filter((f) => !f.segs.includes('[]'))
      .map((f) => ({ parentSegs: f.segs.slice(0, -1), leaf: f.segs[f.segs.length - 1]! }));
    carriedFields.set(info, list);
  }
  return list;
}

/** Copies fields the writer cannot send back (write-only, read-only, internal) from the stored object. */
function carryOver(info: TypeInfo, body: Record<string, any>, old: StoredObject): void {
  for (const { parentSegs, leaf } of carriedOf(info)) {
    let from: any = old;
    let to: any = body;
    for (const s of parentSegs) { from = from?.[s]; to = to?.[s]; }
    if (from && typeof to === 'object' && to !== null && to[leaf] === undefined && from[leaf] !== undefined) to[leaf] = structuredClone(from[leaf]);
  }
}

const DIGITS = /^\d+$/;

export class ObjectService {
  constructor(readonly store: Store) {}

  /** Clean a body from a client: drop what the server sets, apply defaults, validate. */
  private clean(info: TypeInfo, input: unknown, caller: Caller): { body: Record<string, any>; lastModified?: string } {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('(body): expected a JSON object');
    const body = structuredClone(input) as Record<string, any>;
    const lastModified = body._last_modified;
    delete body.url;
    delete body._last_modified;
    if (!caller.internal) {
      delete body.uuid;
      for (const f of info.readOnly) deletePath(body, f.segs);
      for (const f of info.internal) deletePath(body, f.segs);
    }
    const withDefaults = applyDefaults(info.schema, body) as Record<string, any>;
    validate(info, withDefaults);
    if (lastModified !== undefined && (typeof lastModified !== 'string' || !DIGITS.test(lastModified))) {
      throw badRequest('_last_modified: expected the string of digits read from the object');
    }
    return { body: withDefaults, lastModified };
  }

  async create(type: string, input: unknown, caller: Caller): Promise<ObjectRecord> {
    const p = await this.prepareCreate(type, input, caller);
    return this.inTx((tx) => this.writeIn(tx, p.info, p.uuid, p.body, caller, undefined, undefined));
  }

  /** The part of a create that needs no transaction: checks, cleaning, defaults, validation, hashing, the UUID. */
  async prepareCreate(type: string, input: unknown, caller: Caller): Promise<{ info: TypeInfo; uuid: string; body: Record<string, any> }> {
    const info = infoOr404(type);
    checkPrivilege(info, caller);
    if (info.internalOnly && !caller.internal) throw new ApiError(405, `${type} objects are created by the controller`);
    if (info.singleton && !caller.internal) throw new ApiError(405, `${type} is a single object: use PUT`);
    if (info.adminOnly && caller.tenant !== ADMIN && !caller.internal) throw forbidden(`${type} objects can only be created in the admin tenant`);
    const { body } = this.clean(info, input, caller);
    await typeHooks[type]?.prepare?.(body);
    const wanted = caller.internal && typeof body.uuid === 'string' ? body.uuid : undefined;
    return { info, uuid: wanted ?? `${info.uuidPrefix}-${randomUUID()}`, body };
  }

  async replace(type: string, uuid: string, input: unknown, caller: Caller, expectLastModified?: string): Promise<ObjectRecord> {
    const info = infoOr404(type);
    const { body, lastModified } = this.clean(info, input, caller);
    await typeHooks[type]?.prepare?.(body);
    return this.write(info, uuid, body, caller, expectLastModified ?? lastModified, true);
  }

  /**
   * PATCH `{add|replace|delete: {...}}` on the stored object, then the same path as PUT. The patch says
   * nothing of the version it was meant for, so a background writer (placement, SE status) changing the
   * object between our read and our write is no conflict for the caller: read again and apply again.
   */
  async patch(type: string, uuid: string, input: unknown, caller: Caller): Promise<ObjectRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.patchOnce(type, uuid, input, caller);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 412 || attempt >= 5) throw e;
      }
    }
  }

  private async patchOnce(type: string, uuid: string, input: unknown, caller: Caller): Promise<ObjectRecord> {
    const info = infoOr404(type);
    const old = await this.store.get(uuid);
    if (!old || old.type !== type || !visibleFrom(old, caller.tenant)) throw notFound(`${notFoundMessage(info)} (${uuid})`);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('(body): expected {"add"|"replace"|"delete": {...}}');
    const body = structuredClone(old.body) as Record<string, any>;
    const ops = input as Record<string, unknown>;
    if ('json_patch' in ops) {
      if (!Array.isArray(ops.json_patch)) throw badRequest('json_patch: expected an array of {op, path, value}');
      // Values are cloned so that a retry starts from the caller's input again.
      ops.json_patch.forEach((p, i) => applyJsonPatch(body, structuredClone(p), `json_patch[${i}]`));
    }
    for (const [op, fields] of Object.entries(ops)) {
      if (op === 'json_patch') continue;
      if (!['add', 'replace', 'delete'].includes(op)) throw badRequest(`${op}: unknown PATCH operation (use add, replace or delete)`);
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw badRequest(`${op}: expected an object of fields`);
      for (const [k, v] of Object.entries(fields)) applyPatch(body, op, k, structuredClone(v));
    }
    delete body._last_modified;
    return this.replace(type, uuid, body, caller, old.body._last_modified as string | undefined);
  }

  private write(info: TypeInfo, uuid: string, body: Record<string, any>, caller: Caller, lastModified: string | undefined, isUpdate: true | undefined): Promise<ObjectRecord> {
    return this.inTx((tx) => this.writeIn(tx, info, uuid, body, caller, lastModified, isUpdate));
  }

  /** Runs `fn` in one store transaction; the store's own uniqueness guard becomes a 409. */
  async inTx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    try {
      return await this.store.transact(fn);
    } catch (e) {
      if (e instanceof StoreConflict) throw conflict(e.message);
      throw e;
    }
  }

  /** Stores one prepared object inside the caller's transaction (refs, rules, claims). */
  async writeIn(tx: StoreTx, info: TypeInfo, uuid: string, body: Record<string, any>, caller: Caller, lastModified: string | undefined, isUpdate: true | undefined): Promise<ObjectRecord> {
    const hooks = typeHooks[info.type];
    checkPrivilege(info, caller);
    let old: ObjectRecord | undefined;
    if (isUpdate) {
      old = await tx.get(uuid);
      if (!old || old.type !== info.type || !visibleFrom(old, caller.tenant)) throw notFound(`${notFoundMessage(info)} (${uuid})`);
      if (old.tenant !== caller.tenant && !caller.internal) throw forbidden(`${info.type} ${old.name} belongs to tenant admin and is read-only here`);
      const stored = old.body._last_modified as string | undefined;
      if (lastModified && stored && BigInt(lastModified) < BigInt(stored)) {
        throw new ApiError(412, `_last_modified: the object changed since it was read (stored ${stored}, given ${lastModified}); read it again`);
      }
    }
    const tenant = old?.tenant ?? (info.adminOnly ? ADMIN : await this.objectTenant(tx, body, caller));
    if (info.cloudScoped) body.cloud_ref ??= '/api/cloud?name=Default-Cloud';
    // Names of the objects referred to, as resolved: the answer's `#name`s (include_name).
    const names = new Map<string, string>();
    let cloud = '';
    if (info.cloudScoped) {
      cloud = await resolveRef(tx, String(body.cloud_ref), 'cloud', tenant, 'cloud_ref', undefined, names);
      body.cloud_ref = cloud;
    }
    hooks?.defaults?.(body);
    const refs = await resolveRefs(tx, info, body, tenant, cloud || undefined, names);
    body.tenant_ref = tenant;
    refs.add(tenant);
    if (old) carryOver(info, body, old.body);
    const same = (await tx.headsByName(info.type, tenant, body.name, cloud)).find((r) => r.uuid !== uuid);
    if (same) throw conflict(`${info.model} object with name ${body.name} already exists${cloud ? ' in this cloud' : ''} (${same.uuid})`);
    if (!old && (await tx.head(uuid))) throw conflict(`an object with uuid ${uuid} already exists`);
    const c: WriteContext = { tx, info, tenant: caller.tenant, cloud, uuid, body, old, claims: [], refs, afterPut: [] };
    await hooks?.write?.(c);
    if (caller.system || (old && (await tx.claimOwner(CLAIM_SYSTEM(uuid))))) c.claims.push(CLAIM_SYSTEM(uuid));
    const stored: StoredObject = { uuid, name: body.name, ...body, _last_modified: nowMicros() };
    stored.uuid = uuid;
    refs.delete(uuid);
    const rec: ObjectRecord = { type: info.type, uuid, tenant, name: body.name, cloud, body: stored };
    await tx.put({ ...rec, refs: [...refs], claims: c.claims });
    names.set(uuid, body.name);
    rememberNames(stored, names);
    for (const f of c.afterPut) await f();
    return rec;
  }

  /** The tenant a new object goes to: its tenant_ref when given (must be the caller's unless internal), else the caller's. */
  private async objectTenant(tx: StoreTx, body: Record<string, any>, caller: Caller): Promise<string> {
    if (!body.tenant_ref) return caller.tenant;
    const t = await resolveRef(tx, String(body.tenant_ref), 'tenant', ADMIN, 'tenant_ref');
    if (t !== caller.tenant && !caller.internal) throw badRequest('tenant_ref: differs from the tenant of the request (X-Avi-Tenant)');
    return t;
  }

  async remove(type: string, uuid: string, caller: Caller): Promise<void> {
    await this.inTx((tx) => this.removeIn(tx, type, uuid, caller));
  }

  /** Deletes one object inside the caller's transaction (404/403/409 as for DELETE). */
  async removeIn(tx: StoreTx, type: string, uuid: string, caller: Caller): Promise<ObjectRecord> {
    const info = infoOr404(type);
    checkPrivilege(info, caller);
    if (info.singleton && !caller.internal) throw new ApiError(405, `${type} cannot be deleted`);
    const rec = await tx.get(uuid);
    if (!rec || rec.type !== type || !visibleFrom(rec, caller.tenant)) throw notFound(`${notFoundMessage(info)} (${uuid})`);
    if (rec.tenant !== caller.tenant && !caller.internal) throw forbidden(`${type} ${rec.name} belongs to tenant admin and is read-only here`);
    if (!caller.internal && (await tx.claimOwner(CLAIM_SYSTEM(uuid)))) throw forbidden(`${info.model} ${rec.name} is a system object and cannot be deleted`);
    const by = await tx.referrers(uuid);
    if (by.length) {
      const who = by.slice(0, 10).map((r) => `${typeInfo(r.type)?.model ?? r.type} ${r.name}`).join(', ');
      throw conflict(`Cannot delete ${info.model} ${rec.name}: it is referred to by ${who}${by.length > 10 ? ` and ${by.length - 10} more` : ''}`);
    }
    await typeHooks[type]?.remove?.(tx, rec);
    await tx.delete(uuid);
    return rec;
  }
}

/** RFC 6902 add / replace / remove (what newer Avi controllers accept as `json_patch`). */
function applyJsonPatch(body: Record<string, any>, p: unknown, at: string): void {
  if (!isObj(p) || typeof p.path !== 'string' || !p.path.startsWith('/')) throw badRequest(`${at}.path: expected a JSON pointer such as /servers/0`);
  const segs = p.path.slice(1).split('/').map((s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const leaf = segs.pop()!;
  let parent: any = body;
  for (const s of segs) {
    parent = parent?.[Array.isArray(parent) ? Number(s) : s];
    if (typeof parent !== 'object' || parent === null) throw badRequest(`${at}.path: ${p.path} does not exist`);
  }
  const index = Array.isArray(parent) ? (leaf === '-' ? parent.length : Number(leaf)) : undefined;
  if (index !== undefined && (!Number.isInteger(index) || index < 0 || index > parent.length)) throw badRequest(`${at}.path: bad array index in ${p.path}`);
  switch (p.op) {
    case 'add': if (index !== undefined) parent.splice(index, 0, p.value); else parent[leaf] = p.value; return;
    case 'replace': if (index !== undefined) parent[index] = p.value; else parent[leaf] = p.value; return;
    case 'remove': if (index !== undefined) parent.splice(index, 1); else delete parent[leaf]; return;
    default: throw badRequest(`${at}.op: ${JSON.stringify(p.op)} is not one of add, replace, remove`);
  }
}

function applyPatch(body: Record<string, any>, op: string, key: string, value: unknown): void {
  const cur = body[key];
  if (op === 'replace') { body[key] = value; return; }
  if (op === 'add') {
    if (Array.isArray(cur) && Array.isArray(value)) body[key] = [...cur, ...value];
    else if (isObj(cur) && isObj(value)) for (const [k, v] of Object.entries(value)) applyPatch(cur, 'add', k, v);
    else body[key] = value;
    return;
  }
  // delete: remove the listed array items (an item matches when every field it gives is equal), or the field.
  if (Array.isArray(cur) && Array.isArray(value)) body[key] = cur.filter((item) => !value.some((v) => matches(item, v)));
  else if (isObj(cur) && isObj(value) && Object.keys(value).length) for (const [k, v] of Object.entries(value)) applyPatch(cur, 'delete', k, v);
  else delete body[key];
}
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
function matches(item: unknown, pattern: unknown): boolean {
  if (isObj(item) && isObj(pattern)) return Object.entries(pattern).every(([k, v]) => matches(item[k], v));
  return JSON.stringify(item) === JSON.stringify(pattern);
}
