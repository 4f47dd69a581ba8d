// The patch formats clients send: JSON patch (RFC 6902, client-node's default content type),
// JSON merge patch (RFC 7386), strategic merge patch (merge patch plus lists of named objects
// merged by `name`, `$patch` directives) and server-side apply (treated as a merge of the intent).

export class PatchError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Keys by which strategic merge patch merges lists of objects (the ones Kubernetes declares). */
const MERGE_KEYS = ['name', 'containerPort', 'port', 'type'];

function mergeKeyOf(list: Json[]): string | undefined {
  if (list.length === 0 || !list.every(isObject)) return undefined;
  return MERGE_KEYS.find((k) => (list as JsonObject[]).every((o) => k in o));
}

export function strategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $retainKeys, $setElementOrder: ordering hints, not data
    if (v === null) { delete out[k]; continue; }
    const cur = out[k];
    if (Array.isArray(v) && Array.isArray(cur)) {
      const key = mergeKeyOf(v) ?? mergeKeyOf(cur);
      if (key) { out[k] = mergeList(cur as JsonObject[], v, key); continue; }
      out[k] = v;
      continue;
    }
    out[k] = strategicMergePatch(cur, v);
  }
  return out;
}

function mergeList(cur: JsonObject[], patch: Json[], key: string): Json[] {
  const out = cur.map((e) => ({ ...e }));
  for (const p of patch) {
    if (!isObject(p)) continue;
    const i = out.findIndex((e) => e[key] === p[key]);
    if (p.$patch === 'delete') { if (i >= 0) out.splice(i, 1); continue; }
    if (i >= 0) out[i] = strategicMergePatch(out[i], p) as JsonObject;
    else out.push(strategicMergePatch(undefined, p) as JsonObject);
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescape);
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: JsonObject | Json[]; last: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = null;
    if (cur === undefined || cur === null || typeof cur !== 'object') throw new PatchError(`path "${path}" does not exist`);
  }
  return { parent: cur as JsonObject | Json[], last: tokens[tokens.length - 1] };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const t of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (cur === undefined) throw new PatchError(`path "${path}" does not exist`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new PatchError(`path "${path}" does not exist`);
    return parent.splice(i, 1)[0];
  }
  if (!(last in parent)) throw new PatchError(`path "${path}" does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw new PatchError(`index out of range in "${path}"`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    if (replace && !(last in parent)) throw new PatchError(`path "${path}" does not exist`);
    parent[last] = value;
  }
  return doc;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = structuredClone(target);
  for (const [i, raw] of ops.entries()) {
    const op = raw as { op?: string; path?: string; from?: string; value?: Json };
    if (typeof op?.path !== 'string') throw new PatchError(`operation ${i}: "path" is required`);
    switch (op.op) {
      case 'add': doc = addAt(doc, op.path, structuredClone(op.value ?? null), false); break;
      case 'replace': doc = addAt(doc, op.path, structuredClone(op.value ?? null), true); break;
      case 'remove': removeAt(doc, op.path); break;
      case 'move': doc = addAt(doc, op.path, removeAt(doc, op.from ?? ''), false); break;
      case 'copy': doc = addAt(doc, op.path, structuredClone(getAt(doc, op.from ?? '')), false); break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`operation ${i}: test failed at "${op.path}"`);
        break;
      default: throw new PatchError(`operation ${i}: unknown op "${String(op.op)}"`);
    }
  }
  return doc;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (ct) {
    case 'application/json-patch+json': return 'json';
    case 'application/merge-patch+json': return 'merge';
    case 'application/strategic-merge-patch+json': return 'strategic';
    case 'application/apply-patch+yaml': return 'apply';
    default: return undefined;
  }
}

export function applyPatch(type: PatchType, target: Json, patch: Json): Json {
  switch (type) {
    case 'json': return jsonPatch(target, patch);
    case 'merge': return mergePatch(target, patch);
    case 'strategic':
    case 'apply': return strategicMergePatch(target, patch);
  }
}
