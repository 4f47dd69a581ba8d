// TLS material for secure Ingress hosts: the secret's `tls.crt` / `tls.key` checked the way the
// controller would (PEM parses, key matches), so a bad secret is a Warning, not a failed write.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';

export type CertResult = { ok: true; cert: string; key: string } | { ok: false; reason: string };

// Secrets rarely change: parse each object once (a new object comes with every change).
const checked = new WeakMap<V1Secret, CertResult>();

function field(secret: V1Secret, name: string): string | undefined {
  const b64 = secret.data?.[name];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return secret.stringData?.[name];
}

export function certFromSecret(secret: V1Secret): CertResult {
  const hit = checked.get(secret);
  if (hit) return hit;
  const r = check(secret);
  checked.set(secret, r);
  return r;
}

function check(secret: V1Secret): CertResult {
  const cert = field(secret, 'tls.crt');
  const key = field(secret, 'tls.key');
  if (!cert || !key) return { ok: false, reason: `has no ${!cert ? 'tls.crt' : 'tls.key'}` };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return { ok: false, reason: 'tls.crt is not a PEM certificate' };
  }
  try {
    const k = createPrivateKey(key);
    if (!x509.checkPrivateKey(k)) return { ok: false, reason: 'tls.key does not match tls.crt' };
  } catch {
    return { ok: false, reason: 'tls.key is not a PEM private key' };
  }
  return { ok: true, cert, key };
}
