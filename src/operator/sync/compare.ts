// Does the controller's copy already match what translation wants? Checksummed types compare
// their checksum (as AKO does); the others compare field by field, refs by type and name, with
// write-only fields (a certificate's key) left out.
import type { DesiredObject } from '../translate/types.js';

const CKSUM_FIELD: Partial<Record<string, string>> = {
  virtualservice: 'cloud_config_cksum', pool: 'cloud_config_cksum', poolgroup: 'cloud_config_cksum',
  httppolicyset: 'cloud_config_cksum', vsvip: 'vsvip_cloud_config_cksum',
};
const WRITE_ONLY = new Set(['key', 'password', 'key_passphrase']);
/** A ref: 1 type, 2 uuid, 3 `?name=` (URI-encoded), 4 `#name` (include_name). */
export const REF = /\/api\/([a-z0-9-]+)(?:\/([^?#]*))?(?:\/?\?name=([^&#]*))?(?:#(.*))?$/;

/** `/api/pool?name=x` and `https://c/api/pool/pool-1#x` both → `pool:x`. */
function refKey(s: string): string | undefined {
  const m = REF.exec(s);
  if (!m) return undefined;
  const name = m[3] !== undefined ? decodeURIComponent(m[3]) : m[4];
  return name !== undefined ? `${m[1]}:${name}` : `${m[1]}#${m[2] ?? ''}`;
}

/** Every field of `want` is present in `have` with the same value (the controller may add defaults). */
export function subsetEqual(want: unknown, have: unknown): boolean {
  if (want === have) return true;
  if (typeof want === 'string' && typeof have === 'string') {
    if (!want.startsWith('/api/')) return false;
    const a = refKey(want);
    return a !== undefined && a === refKey(have);
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => subsetEqual(w, have[i]));
  }
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object' || Array.isArray(have)) return false;
    for (const [k, v] of Object.entries(want)) {
      if (WRITE_ONLY.has(k)) continue;
      if (!subsetEqual(v, (have as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  return false;
}

export function upToDate(d: DesiredObject, held: Record<string, any>): boolean {
  const field = CKSUM_FIELD[d.type];
  if (field) return held[field] === d.cksum;
  return subsetEqual(d.body, held);
}
