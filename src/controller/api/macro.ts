// The macro API (POST/DELETE /api/macro): an object tree in one transaction, all or nothing.
// A child is written inline as `<ref field>_data` next to (or instead of) its ref, e.g.
// `pool_ref_data: {...}` in a virtual service or `health_monitor_refs_data: [{...}]` in a pool;
// the response lists the created objects, children first.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allTypes, typeInfo, type TypeInfo } from '../../model/registry.js';
import { visitPath } from '../../model/paths.js';
import type { Store, StoreTx } from '../store/types.js';
import type { ObjectService, Caller } from '../objects.js';
import { badRequest, notFound } from '../errors.js';
import { renderAll } from './render.js';
import { auth, baseUrl, callerOf } from './routes.js';
import { findByName } from './refs.js';
import { CLAIM_SYSTEM } from '../hooks.js';

/** Types a macro DELETE never removes with the tree (shared infrastructure). */
const KEEP = new Set(['tenant', 'cloud', 'serviceengine', 'network', 'vrfcontext', 'serviceenginegroup', 'ipamdnsproviderprofile', 'user']);

function modelType(model: unknown): TypeInfo {
  const m = String(model ?? '').toLowerCase();
  const info = allTypes.find((t) => t.model.toLowerCase() === m || t.type === m);
  if (!info || info.internalOnly || info.singleton) throw badRequest(`model_name: ${JSON.stringify(model)} is not an object type`);
  return info;
}

interface Prepared { info: TypeInfo; uuid: string; body: Record<string, any> }

/** Turns every `<field>_data` of `data` into prepared children (depth first) and points the ref at them. */
async function expand(objects: ObjectService, info: TypeInfo, data: Record<string, any>, caller: Caller, at: string, out: Prepared[]): Promise<void> {
  for (const f of info.refs) {
    const many = f.segs[f.segs.length - 1] === '[]';
    const field = many ? f.segs[f.segs.length - 2]! : f.segs[f.segs.length - 1]!;
    const parentSegs = f.segs.slice(0, many ? -2 : -1);
    const parents: Array<[Record<string, any>, string]> = [];
    if (parentSegs.length === 0) parents.push([data, at]);
    else visitPath(data, parentSegs, (v, _p, _k, where) => { if (v && typeof v === 'object' && !Array.isArray(v)) parents.push([v as Record<string, any>, `${at}.${where}`]); });
    for (const [parent, where] of parents) {
      const inline = parent[`${field}_data`];
      if (inline === undefined) continue;
      delete parent[`${field}_data`];
      const target = typeInfo(f.target)!;
      const children = many ? inline : [inline];
      if (!Array.isArray(children)) throw badRequest(`${where}.${field}_data: expected ${many ? 'an array of objects' : 'an object'}`);
      const uuids: string[] = [];
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        const cat = `${where}.${field}_data${many ? `[${i}]` : ''}`;
        if (typeof child !== 'object' || child === null || Array.isArray(child)) throw badRequest(`${cat}: expected an object`);
        await expand(objects, target, child, caller, cat, out);
        const p = await objects.prepareCreate(target.type, child, caller).catch((e: Error & { status?: number }) => { e.message = `${cat}: ${e.message}`; throw e; });
        out.push(p);
        uuids.push(p.uuid);
      }
      const refs = uuids.map((u) => `/api/${target.type}/${u}`);
      if (many) parent[field] = [...((parent[field] as string[] | undefined) ?? []), ...refs];
      else parent[field] = refs[0];
    }
  }
}

/** Deletes `uuid` and then whatever it referred to that nothing else uses any more. */
async function removeTree(tx: StoreTx, objects: ObjectService, uuid: string, caller: Caller, removed: string[]): Promise<void> {
  const rec = await tx.get(uuid);
  if (!rec) return;
  await objects.removeIn(tx, rec.type, uuid, caller);
  removed.push(uuid);
  const info = typeInfo(rec.type)!;
  const children = new Map<string, string>();
  for (const f of info.refs) visitPath(rec.body, f.segs, (v) => { if (typeof v === 'string' && !KEEP.has(f.target)) children.set(v, f.target); });
  for (const child of children.keys()) {
    const c = await tx.get(child);
    if (!c || c.tenant !== caller.tenant || (await tx.claimOwner(CLAIM_SYSTEM(child))) || (await tx.referrers(child)).length > 0) continue;
    await removeTree(tx, objects, child, caller, removed);
  }
}

export function registerMacro(app: FastifyInstance, store: Store, objects: ObjectService): void {
  const body = (req: FastifyRequest) => {
    const b = req.body as { model_name?: unknown; data?: unknown } | undefined;
    if (!b || typeof b !== 'object' || typeof b.data !== 'object' || b.data === null || Array.isArray(b.data)) throw badRequest('(body): expected {"model_name": "<Type>", "data": {...}}');
    return { info: modelType(b.model_name), data: structuredClone(b.data) as Record<string, any> };
  };

  app.post('/api/macro', async (req) => {
    const { info, data } = body(req);
    const caller: Caller = callerOf(auth(req));
    const prepared: Prepared[] = [];
    await expand(objects, info, data, caller, 'data', prepared);
    prepared.push(await objects.prepareCreate(info.type, data, caller));
    const recs = await objects.inTx(async (tx) => {
      const out = [];
      for (const p of prepared) out.push(await objects.writeIn(tx, p.info, p.uuid, p.body, caller, undefined, undefined));
      return out;
    });
    const o = { base: baseUrl(req), includeName: false };
    return Promise.all(recs.map(async (r) => (await renderAll(store, typeInfo(r.type)!, [r.body], o))[0]));
  });

  app.delete('/api/macro', async (req, reply) => {
    const { info, data } = body(req);
    const a = auth(req);
    const caller: Caller = callerOf(a);
    const uuid = typeof data.uuid === 'string' ? data.uuid : typeof data.name === 'string' ? (await findByName(store, info, data.name, a.tenant))?.uuid : undefined;
    if (!uuid) throw notFound(`${info.model} object not found!`);
    const rec = await store.get(uuid);
    if (!rec || rec.type !== info.type) throw notFound(`${info.model} object not found! (${uuid})`);
    const removed: string[] = [];
    await objects.inTx((tx) => removeTree(tx, objects, uuid, caller, removed));
    return reply.code(200).send({ deleted: removed });
  });
}
