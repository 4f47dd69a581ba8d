// sslkeyandcertificate objects → TLS secure contexts, one per certificate, kept apart by key
// type (the listener serves EC or RSA by what the ClientHello offers). Contexts are cached by
// content, so an unchanged certificate keeps its context (and its session-ticket keys:
// resumption survives updates) and a changed one takes effect on the next handshake (its old
// tickets no longer resume).
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SnapshotIndex } from '../contracts.js';
import type { CompileWarning } from './policy.js';
import { TicketKeys } from './tls/ticket-keys.js';

type Obj = Record<string, any>;

export const SYSTEM_DEFAULT_CERT = 'System-Default-Cert';

/** The contexts of one VS: at most one RSA and one EC certificate. */
export interface CertEntry {
  rsa: SecureContext | undefined;
  ec: SecureContext | undefined;
}

/** The context to serve: EC when the client accepts ECDSA and the VS has one, else RSA, else what there is. */
export function pickContext(entry: CertEntry, ecdsa: boolean): SecureContext | undefined {
  return ecdsa ? (entry.ec ?? entry.rsa) : (entry.rsa ?? entry.ec);
}

export class CertContexts {
  private cache = new Map<string, { ctx: SecureContext; ec: boolean }>();
  private used = new Set<string>();

  /** Builds (or reuses) contexts for these certificates; undefined when none is usable. */
  contextFor(certs: Obj[], index: SnapshotIndex, warn: CompileWarning, where: string): CertEntry | undefined {
    const entry: CertEntry = { rsa: undefined, ec: undefined };
    for (const c of certs) {
      const pem = c?.certificate?.certificate;
      const key = c?.key;
      if (typeof pem !== 'string' || typeof key !== 'string' || pem === '' || key === '') {
        warn(`sslkeyandcertificate ${c?.name ?? c?.uuid} has no certificate or key`, where);
        continue;
      }
      const chain = pem + chainOf(c, index);
      const id = createHash('sha256').update(chain).update('\0').update(key).digest('base64');
      this.used.add(id);
      let built = this.cache.get(id);
      if (!built) {
        try {
          const ec = createPrivateKey(key).asymmetricKeyType === 'ec';
          built = { ctx: createSecureContext({ cert: chain, key, minVersion: 'TLSv1.2' }), ec };
          // Tickets renewed on every resumption (TLS 1.3 clients use each ticket once).
          new TicketKeys().install(built.ctx);
          // Sessions resume only on the certificate that made them (cached IDs are per listener, shared by its children).
          (built.ctx as unknown as { context: { setSessionIdContext(s: string): void } }).context.setSessionIdContext(randomBytes(16).toString('hex'));
          this.cache.set(id, built);
        } catch (e) {
          // The message names the OpenSSL failure, never the key material.
          warn(`sslkeyandcertificate ${c?.name ?? c?.uuid} rejected: ${(e as Error).message}`, where);
          continue;
        }
      }
      if (built.ec) entry.ec ??= built.ctx;
      else entry.rsa ??= built.ctx;
    }
    return entry.rsa || entry.ec ? entry : undefined;
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
