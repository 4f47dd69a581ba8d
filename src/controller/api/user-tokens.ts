// API tokens (Avi's /api/user-token): `POST /login {username, token}` logs in with one, as AKO does
// with `avicredentials.authtoken`. Tokens are 160-bit random strings shown once, when created;
// the user record keeps only their SHA-256 (high-entropy secrets need no slow hash) and expiry,
// so tokens survive a restart and replicate with the store like the password hash does.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.js';
import { auth } from './routes.js';
import { ApiError, badRequest, notFound } from '../errors.js';

interface StoredToken { uuid: string; token_hash: string; created_at: string; expires_at: string; hours: number }

/** Avi's default lifetime is 24 h; AKO asks for 240 h and refreshes every 12 h. */
const DEFAULT_HOURS = 24;
const MAX_HOURS = 24 * 365;
/** Per user: enough for one refreshing client per cluster, bounded so the user record cannot grow without end. */
const MAX_TOKENS = 100;

const hashOf = (token: string) => createHash('sha256').update(token).digest();

export function tokenHours(input: unknown): number {
  const raw = (input as { hours?: unknown } | undefined)?.hours;
  if (raw === undefined || raw === null || raw === '') return DEFAULT_HOURS;
  const hours = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS) {
    throw badRequest(`hours: expected a number of hours from 1 to ${MAX_HOURS}, got ${JSON.stringify(raw)}`);
  }
  return hours;
}

export class UserTokens {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /** A new token for the user; the only time its value is returned. */
  async create(userUuid: string, hours: number): Promise<{ uuid: string; token: string; expires_at: string; created_at: string; hours: number }> {
    const token = randomBytes(20).toString('hex');
    const now = this.now();
    const entry: StoredToken = {
      uuid: `usertoken-${randomUUID()}`, token_hash: hashOf(token).toString('base64'),
      created_at: new Date(now).toISOString(), expires_at: new Date(now + hours * 3600_000).toISOString(), hours,
    };
    await this.update(userUuid, (list) => {
      const live = list.filter((t) => Date.parse(t.expires_at) > now);
      // The oldest go first past the cap, as a refreshing client no longer uses them.
      return [...live.slice(Math.max(0, live.length - MAX_TOKENS + 1)), entry];
    });
    const { token_hash: _h, ...shown } = entry;
    return { ...shown, token };
  }

  /** The user's tokens without their values (they are not stored). */
  async list(userUuid: string): Promise<Array<Omit<StoredToken, 'token_hash'> & { expired: boolean }>> {
    const rec = await this.store.get(userUuid);
    const now = this.now();
    return tokensOf(rec?.body).map(({ token_hash: _h, ...t }) => ({ ...t, expired: Date.parse(t.expires_at) <= now }));
  }

  async remove(userUuid: string, tokenUuid: string): Promise<void> {
    // Thrown inside the transaction: an unknown token writes nothing (the user record keeps its revision).
    await this.update(userUuid, (list) => {
      const next = list.filter((t) => t.uuid !== tokenUuid);
      if (next.length === list.length) throw notFound(`user-token ${tokenUuid} not found for this user`);
      return next;
    });
  }

  /** True when `token` is a live token of the user record `body`. */
  matches(body: Record<string, unknown> | undefined, token: string): boolean {
    const want = hashOf(token);
    const now = this.now();
    let ok = false;
    // Compare against every entry in constant time each, so timing tells nothing about which matched.
    for (const t of tokensOf(body)) {
      const have = Buffer.from(t.token_hash, 'base64');
      if (have.length === want.length && timingSafeEqual(have, want) && Date.parse(t.expires_at) > now) ok = true;
    }
    return ok;
  }

  private async update(userUuid: string, change: (list: StoredToken[]) => StoredToken[]): Promise<void> {
    await this.store.transact(async (tx) => {
      const rec = await tx.get(userUuid);
      if (!rec || rec.type !== 'user') throw new ApiError(401, 'tokens belong to a user: log in as one');
      const next = change(tokensOf(rec.body));
      if (next.length) rec.body.access_tokens = next; else delete rec.body.access_tokens;
      await tx.put(rec);
    });
  }
}

function tokensOf(body: Record<string, unknown> | undefined): StoredToken[] {
  const list = body?.access_tokens;
  return Array.isArray(list) ? (list as StoredToken[]) : [];
}

/** GET/POST /api/user-token and DELETE /api/user-token/<uuid>: the calling user's own tokens. */
export function registerUserTokenRoutes(app: FastifyInstance, tokens: UserTokens): void {
  app.get('/api/user-token', async (req) => {
    const results = await tokens.list(auth(req).principal.userUuid);
    return { count: results.length, results };
  });
  app.post('/api/user-token', async (req, reply) => {
    const created = await tokens.create(auth(req).principal.userUuid, tokenHours(req.body));
    return reply.code(201).send(created);
  });
  app.delete('/api/user-token/:uuid', async (req, reply) => {
    await tokens.remove(auth(req).principal.userUuid, (req.params as { uuid: string }).uuid);
    return reply.code(204).send();
  });
}
