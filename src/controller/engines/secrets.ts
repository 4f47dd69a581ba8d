// Opaque credentials of the SE protocol: join tokens and SE secrets are 32 random bytes,
// shown once, stored as SHA-256 (they carry full entropy, so a slow hash adds nothing).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function secretMatches(secret: string, hash: unknown): boolean {
  if (typeof hash !== 'string' || hash.length !== 64) return false;
  return timingSafeEqual(Buffer.from(hashSecret(secret), 'hex'), Buffer.from(hash, 'hex'));
}

/** The bearer secret of a request, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}
