// Passwords are stored as scrypt hashes: `scrypt$<N>$<salt b64>$<hash b64>`.
import { scrypt as scryptCb, randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const KEYLEN = 32;
const scrypt = (pw: string, salt: Buffer, opts: ScryptOptions) =>
  new Promise<Buffer>((res, rej) => scryptCb(pw, salt, KEYLEN, opts, (e, k) => (e ? rej(e) : res(k))));

export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(pw, salt, { N });
  return `scrypt$${N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(pw: string, stored: string | undefined): Promise<boolean> {
  const [kind, n, salt, hash] = (stored ?? '').split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const key = await scrypt(pw, Buffer.from(salt, 'base64'), { N: Number(n) });
  const want = Buffer.from(hash, 'base64');
  return want.length === key.length && timingSafeEqual(want, key);
}
