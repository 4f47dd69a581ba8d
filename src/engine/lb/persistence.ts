// Session persistence (applicationpersistenceprofile): client IP (a table with an idle timeout)
// and HTTP cookie (the cookie value names the server, so no table is needed).
import { fnv1a } from './hash.js';

export type PersistenceConfig =
  | { type: 'CLIENT_IP'; timeoutMs: number }
  | { type: 'HTTP_COOKIE'; cookieName: string };

/** Reads an applicationpersistenceprofile object; undefined for types this SE does not implement. */
export function persistenceFromProfile(profile: Record<string, any> | undefined, poolUuid: string): PersistenceConfig | undefined {
  if (!profile) return undefined;
  const type = String(profile.persistence_type ?? '');
  if (type === 'PERSISTENCE_TYPE_CLIENT_IP_ADDRESS') {
    const minutes = Number(profile.ip_persistence_profile?.ip_persistent_timeout ?? 5);
    return { type: 'CLIENT_IP', timeoutMs: Math.max(1, minutes) * 60_000 };
  }
  if (type === 'PERSISTENCE_TYPE_HTTP_COOKIE') {
    const name = profile.http_cookie_persistence_profile?.cookie_name;
    return { type: 'HTTP_COOKIE', cookieName: typeof name === 'string' && name ? name : `PORTICO_${fnv1a(poolUuid).toString(36).toUpperCase()}` };
  }
  return undefined;
}

/** Client IP → server key, forgotten after `timeoutMs` without use. */
export class ClientIpTable {
  private readonly entries = new Map<string, { key: string; expires: number }>();
  private lastSweep = 0;
  constructor(public timeoutMs: number) {}

  get(ip: string, now: number): string | undefined {
    const e = this.entries.get(ip);
    if (!e) return undefined;
    if (e.expires < now) {
      this.entries.delete(ip);
      return undefined;
    }
    e.expires = now + this.timeoutMs;
    return e.key;
  }

  set(ip: string, key: string, now: number): void {
    this.entries.set(ip, { key, expires: now + this.timeoutMs });
    // Sweep at most once per timeout period so the table cannot grow without bound.
    if (now - this.lastSweep > this.timeoutMs) {
      this.lastSweep = now;
      for (const [k, v] of this.entries) if (v.expires < now) this.entries.delete(k);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The cookie value that pins a client to a server of a pool: opaque, stable, not the address. */
export function cookieValueFor(poolUuid: string, serverKey: string): string {
  return fnv1a(serverKey, fnv1a(poolUuid)).toString(36) + fnv1a(poolUuid, fnv1a(serverKey)).toString(36);
}
