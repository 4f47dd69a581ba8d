// 32-bit FNV-1a and a weighted rendezvous (highest random weight) score: consistent hashing
// without a ring, so adding or removing one server moves only that server's share of keys.

export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit hashes (murmur3 finalizer) into a uniform value in (0, 1). */
export function unitMix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) + 1) / 4294967298;
}

/** Weighted rendezvous score: the server with the highest score for a key wins. */
export function rendezvousScore(keyHash: number, serverHash: number, weight: number): number {
  return -weight / Math.log(unitMix(keyHash, serverHash));
}
