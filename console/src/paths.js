// Dotted paths into plain JSON objects (`internal_profile.usable_networks`), immutable updates.

export function getPath(obj, path) {
  let cur = obj;
  for (const k of path.split('.')) {
    if (cur == null) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A copy of `obj` with `path` set to `value` (`undefined` removes the leaf). */
export function setPath(obj, path, value) {
  const [head, ...rest] = path.split('.');
  const base = Array.isArray(obj) ? [...obj] : { ...(obj ?? {}) };
  if (rest.length === 0) {
    if (value === undefined) delete base[head];
    else base[head] = value;
    return base;
  }
  base[head] = setPath(base[head], rest.join('.'), value);
  return base;
}

/** Drops empty strings, empty objects and undefined, so optional fields left blank take defaults. */
export function prune(value) {
  if (Array.isArray(value)) return value.map(prune).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === '' || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return undefined;
  return value;
}
