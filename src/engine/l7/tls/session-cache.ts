// Server-side TLS session cache for clients that resume by session ID instead of a ticket
// (TLS 1.2 clients without ticket support). Node keeps no internal server cache
// (SSL_SESS_CACHE_NO_INTERNAL); a TLSSocket whose `server` option has 'newSession' and
// 'resumeSession' listeners asks them instead, as tls.Server does. Bounded and short-lived:
// sessions hold secrets and live only in memory.
import { EventEmitter } from 'node:events';

const MAX_SESSIONS = 10_000;
/** OpenSSL's default session lifetime. */
const LIFETIME_MS = 300_000;

export class SessionCache extends EventEmitter {
  private readonly sessions = new Map<string, { data: Buffer; at: number }>();

  constructor() {
    super();
    this.on('newSession', this.store);
    this.on('resumeSession', this.lookup);
  }

  get size(): number {
    return this.sessions.size;
  }

  private store = (id: Buffer, data: Buffer, done: () => void): void => {
    const key = id.toString('latin1');
    this.sessions.delete(key);
    this.sessions.set(key, { data, at: Date.now() });
    // Map order is insertion order: the first entries are the oldest.
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    done();
  };

  private lookup = (id: Buffer, cb: (err: Error | null, session: Buffer | null) => void): void => {
    const key = id.toString('latin1');
    const hit = this.sessions.get(key);
    const fresh = hit !== undefined && Date.now() - hit.at <= LIFETIME_MS;
    if (hit && !fresh) this.sessions.delete(key);
    cb(null, fresh ? hit.data : null);
  };
}
