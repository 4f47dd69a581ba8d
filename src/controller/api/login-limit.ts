// Login rate limit: failed password checks are counted per user name and per client address in
// fixed windows; past the limit, further attempts answer 429 until the window ends (a right
// password included, so guessing gains nothing). Memory is bounded: the oldest keys go first.
import { ApiError } from '../errors.js';

const WINDOW_MS = 60_000;
const PER_USER = 10;
const PER_CLIENT = 30;
const MAX_KEYS = 10_000;

interface Count { n: number; until: number }

export class LoginLimiter {
  private readonly counts = new Map<string, Count>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws 429 when the user or the client is over its limit. */
  check(username: string, client: string | undefined): void {
    this.over(`u:${username}`, PER_USER, `too many failed logins for user ${username}`);
    if (client) this.over(`c:${client}`, PER_CLIENT, `too many failed logins from ${client}`);
  }

  failed(username: string, client: string | undefined): void {
    this.bump(`u:${username}`);
    if (client) this.bump(`c:${client}`);
  }

  /** A right password clears the user's count (not the client's: one known account must not reset guessing at others). */
  succeeded(username: string): void {
    this.counts.delete(`u:${username}`);
  }

  private over(key: string, limit: number, what: string): void {
    const c = this.counts.get(key);
    if (!c) return;
    const left = c.until - this.now();
    if (left <= 0) { this.counts.delete(key); return; }
    if (c.n >= limit) throw new ApiError(429, `${what}: try again in ${Math.ceil(left / 1000)} s`);
  }

  private bump(key: string): void {
    const now = this.now();
    let c = this.counts.get(key);
    if (!c || c.until <= now) {
      if (this.counts.size >= MAX_KEYS) this.counts.delete(this.counts.keys().next().value!);
      this.counts.set(key, (c = { n: 0, until: now + WINDOW_MS }));
    }
    c.n++;
  }
}
