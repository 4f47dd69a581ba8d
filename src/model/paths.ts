// Field paths inside objects: `members[].pool_ref` = the pool_ref of every element of members.
// The registry derives them from the schemas; the controller uses them to rewrite refs, drop
// write-only fields and find addresses without knowing each type's shape.

export interface FieldPath {
  /** Dotted form, `[]` marking "every element": `vip[].ipam_network_subnet.network_ref`. */
  path: string;
  segs: string[];
}

export function fieldPath(segs: string[]): FieldPath {
  return { path: segs.join('.').replace(/\.\[\]/g, '[]'), segs };
}

type Visitor = (value: unknown, parent: Record<string, unknown> | unknown[], key: string | number, at: string) => void;

/** Calls `fn` for every value present at `segs` (`at` is the concrete path, e.g. `members[2].pool_ref`). */
export function visitPath(obj: unknown, segs: readonly string[], fn: Visitor, i = 0, at = ''): void {
  if (obj === null || typeof obj !== 'object') return;
  const seg = segs[i]!;
  const last = i === segs.length - 1;
  if (seg === '[]') {
    if (!Array.isArray(obj)) return;
    for (let k = 0; k < obj.length; k++) {
      const here = `${at}[${k}]`;
      if (last) fn(obj[k], obj, k, here);
      else visitPath(obj[k], segs, fn, i + 1, here);
    }
    return;
  }
  if (Array.isArray(obj)) return;
  const rec = obj as Record<string, unknown>;
  if (!(seg in rec)) return;
  const here = at ? `${at}.${seg}` : seg;
  if (last) fn(rec[seg], rec, seg, here);
  else visitPath(rec[seg], segs, fn, i + 1, here);
}

/** Removes the fields at `segs` wherever present. */
export function deletePath(obj: unknown, segs: readonly string[]): void {
  visitPath(obj, segs, (_v, parent, key) => {
    if (!Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  });
}
