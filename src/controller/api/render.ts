// Stored objects → API responses: refs become absolute URLs (`#name` with include_name), `url`
// is added, write-only and internal fields are dropped, `fields=` keeps only what was asked.
import type { TypeInfo } from '../../model/registry.js';
import { visitPath, deletePath } from '../../model/paths.js';
import type { StoreReader } from '../store/types.js';
import type { StoredObject } from '../engines/host.js';

export interface RenderOptions {
  /** `https://host:port` of the request. */
  base: string;
  includeName: boolean;
  fields?: Set<string>;
}

const ALWAYS = new Set(['name', 'url', 'uuid']);

/** Names a write learnt while resolving the refs of the object it returns: its answer need not read them again. */
const namesFromWrite = new WeakMap<StoredObject, ReadonlyMap<string, string>>();
export function rememberNames(obj: StoredObject, names: ReadonlyMap<string, string>): void {
  namesFromWrite.set(obj, names);
}

/** Renders objects of one type (batching the name look-ups for include_name). */
export async function renderAll(r: StoreReader, info: TypeInfo, objs: StoredObject[], o: RenderOptions): Promise<Record<string, unknown>[]> {
  let names: Map<string, string> | undefined;
  // The ref fields kept (fields=), filtered once for every object.
  const refs = keptRefs(info, o);
  if (o.includeName) {
    const uuids = new Set<string>();
    const known = new Map<string, string>();
    let learnt: ReadonlyMap<string, string> | undefined;
    const want = (u: unknown) => {
      if (typeof u !== 'string') return;
      const n = learnt?.get(u);
      if (n === undefined) uuids.add(u); else known.set(u, n);
    };
    for (const obj of objs) {
      learnt = namesFromWrite.get(obj);
      want(obj.uuid);
      for (const f of refs) visitPath(obj, f.segs, want);
    }
    names = uuids.size ? await r.names(uuids) : new Map();
    for (const [u, n] of known) names.set(u, n);
  }
  return objs.map((obj) => renderOne(info, refs, obj, o, names));
}

export function refUrl(base: string, target: string, uuid: string, names?: Map<string, string>): string {
  const name = names?.get(uuid);
  return `${base}/api/${target}/${uuid}${name !== undefined ? `#${name}` : ''}`;
}

/** The ref fields an answer keeps (`fields=` drops the others: no names to look up, no URLs to build). */
function keptRefs(info: TypeInfo, o: RenderOptions): TypeInfo['refs'] {
  const fields = o.fields;
  return fields ? info.refs.filter((f) => ALWAYS.has(f.segs[0]!) || fields.has(f.segs[0]!)) : info.refs;
}

function renderOne(info: TypeInfo, refs: TypeInfo['refs'], obj: StoredObject, o: RenderOptions, names?: Map<string, string>): Record<string, unknown> {
  for (const f of refs) {
    visitPath(obj, f.segs, (v, parent, key) => {
      if (typeof v === 'string') (parent as any)[key] = refUrl(o.base, f.target, v, names);
    });
  }
  for (const f of info.writeOnly) deletePath(obj, f.segs);
  for (const f of info.internal) deletePath(obj, f.segs);
  const out: Record<string, unknown> = { url: refUrl(o.base, info.type, obj.uuid, names), ...obj };
  if (o.fields) for (const k of Object.keys(out)) if (!ALWAYS.has(k) && !o.fields.has(k)) delete out[k];
  return out;
}

