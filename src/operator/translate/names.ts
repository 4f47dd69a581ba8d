// Object names, exactly AKO's formulas (ako-behaviour.md §2; with EVH on, L4 names are Encode'd).
import { createHash } from 'node:crypto';
import type { ShardSize } from '../settings/types.js';

/** The longest name the controller accepts; longer → the object is skipped, never truncated. */
export const MAX_NAME_LENGTH = 255;

/** FNV-1a 32-bit over the UTF-8 bytes of s (ASCII hashed straight from the string: no buffer per call). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return fnvBytes(h, Buffer.from(s.slice(i), 'utf8'));
    h = Math.imul(h ^ c, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const PRIME = 0x01000193;

/** Continues an FNV-1a hash over a string's UTF-16 code units (for checksums, not names). */
function feed(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), PRIME);
  return h;
}

/**
 * FNV-1a over a JSON-like walk of a value: the checksum of a desired object, without building
 * its JSON text (tens of thousands of objects per translation: no garbage strings).
 * Key order matters, as in JSON.stringify; undefined fields are skipped.
 */
export function fnvValue(v: unknown, h = 0x811c9dc5): number {
  if (v === null) return feed(h, 'n');
  switch (typeof v) {
    case 'string': return Math.imul(feed(Math.imul(h ^ 0x22, PRIME), v) ^ 0x22, PRIME);
    case 'number': return feed(h, `#${v}`);
    case 'boolean': return feed(h, v ? 't' : 'f');
    case 'object': {
      if (Array.isArray(v)) {
        h = Math.imul(h ^ 0x5b, PRIME);
        for (const x of v) h = Math.imul(fnvValue(x, h) ^ 0x2c, PRIME);
        return Math.imul(h ^ 0x5d, PRIME);
      }
      h = Math.imul(h ^ 0x7b, PRIME);
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        h = Math.imul(fnvValue(x, Math.imul(feed(h, k) ^ 0x3a, PRIME)) ^ 0x2c, PRIME);
      }
      return Math.imul(h ^ 0x7d, PRIME);
    }
    default: return h;
  }
}

function fnvBytes(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

/** LARGE 8, MEDIUM 4, SMALL 1, DEDICATED 0 (one VS per host). */
export function shardCount(size: ShardSize): number {
  return size === 'LARGE' ? 8 : size === 'MEDIUM' ? 4 : size === 'SMALL' ? 1 : 0;
}

/** `Bkt(key, n) = FNV-1a-32(key) & (n-1)`. */
export function shardOf(key: string, count: number): number {
  return count <= 1 ? 0 : fnv1a32(key) & (count - 1);
}

/** `/foo/bar` → `_foo_bar` (every "/" of a path in a name). */
const SLASHES = /\//g;
export function pathPart(path: string): string {
  return path.replace(SLASHES, '_');
}

/** AKO's `Encode` with EVH on (§2.1): `<cluster>--` + hex(sha1(s)), `s` already starting with the prefix. */
export function sha1Name(cluster: string, s: string): string {
  return `${cluster}--${createHash('sha1').update(s).digest('hex')}`;
}

export class Names {
  readonly prefix: string;
  /** `evh`: AKOSettings.enableEVH, under which AKO encodes the L4 names too (L7 EVH names: evh.ts). */
  constructor(readonly cluster: string, readonly evh = false) {
    this.prefix = `${cluster}--`;
  }
  private l4(s: string): string { return this.evh ? sha1Name(this.cluster, s) : s; }
  l4Vs(ns: string, svc: string): string { return this.l4(`${this.prefix}${ns}-${svc}`); }
  l4Pool(ns: string, svc: string, protocol: string, port: number): string { return this.l4(`${this.prefix}${ns}-${svc}-${protocol}-${port}`); }
  sharedVipVs(ns: string, key: string): string { return this.l4(`${this.prefix}${ns}-${key}`); }
  sharedVipPool(ns: string, svc: string, key: string, protocol: string, port: number): string {
    return this.l4(`${this.prefix}${ns}-${svc}-${key}-${protocol}-${port}`);
  }
  sharedL7(n: number): string { return `${this.prefix}Shared-L7-${n}`; }
  sharedPassthrough(n: number): string { return `${this.cluster}--Shared-Passthrough-${n}`; }
  insecurePool(host: string, path: string, ns: string, ing: string): string { return `${this.prefix}${host}${pathPart(path)}-${ns}-${ing}`; }
  sniChild(host: string): string { return `${this.prefix}${host}`; }
  sniPool(ns: string, host: string, path: string, ing: string): string { return `${this.prefix}${ns}-${host}${pathPart(path)}-${ing}`; }
  sniPolicy(ns: string, host: string): string { return `${this.prefix}${ns}-${host}`; }
  tlsCert(host: string): string { return `${this.prefix}${host}`; }
  defaultCert(): string { return `${this.prefix}router-certs-default`; }
  dedicatedVs(host: string): string { return `${this.prefix}${host}-L7-dedicated`; }
  /** The pool of an Ingress `spec.defaultBackend` (Portico: AKO does not serve it). */
  defaultBackendPool(ns: string, ing: string): string { return `${this.prefix}${ns}-${ing}-default-backend`; }
  createdBy(): string { return `ako-${this.cluster}`; }
}
