// sslkeyandcertificate objects → TLS secure contexts. One context per VS holds all of its
// certificates (RSA and EC): OpenSSL then serves the one the client's signature algorithms and
// ciphers allow. Contexts are cached by content, so an unchanged certificate keeps its context
// (and its session-ticket keys: resumption survives updates) and a changed one takes effect on
// the next handshake without a restart.
import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SnapshotIndex } from '../contracts.js';
import type { CompileWarning } from './policy.js';

type Obj = Record<string, any>;

export const SYSTEM_DEFAULT_CERT = 'System-Default-Cert';

/** A built context and what built it (the server's no-SNI default needs the options). */
export interface CertEntry {
  id: string;
  context: SecureContext;
  options: { cert: string[]; key: string[] };
}

export class CertContexts {
  private cache = new Map<string, CertEntry>();
  private used = new Set<string>();

  /** Builds (or reuses) a context for these certificates; undefined when none is usable. */
  contextFor(certs: Obj[], index: SnapshotIndex, warn: CompileWarning, where: string): CertEntry | undefined {
    const pems: string[] = [];
    const keys: string[] = [];
    for (const c of certs) {
      const pem = c?.certificate?.certificate;
      const key = c?.key;
      if (typeof pem !== 'string' || typeof key !== 'string' || pem === '' || key === '') {
        warn(`sslkeyandcertificate ${c?.name ?? c?.uuid} has no certificate or key`, where);
        continue;
      }
      pems.push(pem + chainOf(c, index));
      keys.push(key);
    }
    if (pems.length === 0) return undefined;
    const id = createHash('sha256').update(pems.join('\0')).update('\0\0').update(keys.join('\0')).digest('base64');
    this.used.add(id);
    const cached = this.cache.get(id);
    if (cached) return cached;
    try {
      const options = { cert: pems, key: keys };
      const entry: CertEntry = { id, context: createSecureContext({ ...options, minVersion: 'TLSv1.2' }), options };
      this.cache.set(id, entry);
      return entry;
    } catch (e) {
      // The message names the OpenSSL failure, never the key material.
      warn(`certificate or key rejected: ${(e as Error).message}`, where);
      return undefined;
    }
  }

  /** System-Default-Cert (and its -EC sibling) from the snapshot. */
  systemDefault(index: SnapshotIndex): CertEntry | undefined {
    const all = index.get('sslkeyandcertificate');
    if (!all) return undefined;
    const found: Obj[] = [];
    for (const c of all.values()) if (c.name === SYSTEM_DEFAULT_CERT || c.name === `${SYSTEM_DEFAULT_CERT}-EC`) found.push(c);
    return this.contextFor(found, index, () => undefined, SYSTEM_DEFAULT_CERT);
  }

  /** Call before building routes of a new snapshot. */
  beginUpdate(): void {
    this.used = new Set();
  }

  /** Drops contexts the last snapshot no longer uses. */
  endUpdate(): void {
    for (const id of this.cache.keys()) if (!this.used.has(id)) this.cache.delete(id);
  }
}

export function contextForVs(vs: Obj, index: SnapshotIndex, certs: CertContexts, warn: CompileWarning): CertEntry | undefined {
  const refs: unknown[] = Array.isArray(vs.ssl_key_and_certificate_refs) ? vs.ssl_key_and_certificate_refs : [];
  if (refs.length === 0) return undefined;
  const all = index.get('sslkeyandcertificate');
  const objs: Obj[] = [];
  for (const r of refs) {
    const c = all?.get(String(r));
    if (c) objs.push(c);
    else warn(`sslkeyandcertificate ${r} is not in the snapshot`, `virtualservice ${vs.name ?? vs.uuid}`);
  }
  return certs.contextFor(objs, index, warn, `virtualservice ${vs.name ?? vs.uuid}`);
}

function chainOf(c: Obj, index: SnapshotIndex): string {
  if (!Array.isArray(c.ca_certs)) return '';
  const all = index.get('sslkeyandcertificate');
  let chain = '';
  for (const ca of c.ca_certs) {
    const pem = all?.get(String(ca?.ca_ref))?.certificate?.certificate;
    if (typeof pem === 'string') chain += (chain.endsWith('\n') || chain === '' ? '' : '\n') + pem;
  }
  return chain === '' ? '' : '\n' + chain;
}
