// Who is calling: session cookies from POST /login (with a CSRF token for writes) or HTTP basic
// auth on any call. Sessions live in this process's memory: a restarted controller answers 401
// and clients log in again (as Avi clients do). Verified basic credentials are cached briefly
// (by a hash of the header) so scrypt does not run on every request.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { Store } from '../store/types.js';
import { ApiError, forbidden } from '../errors.js';
import { ADMIN, findByName } from './refs.js';
import { typeInfo } from '../../model/registry.js';
import { verifyPassword } from './passwords.js';
import { LoginLimiter } from './login-limit.js';
import { UserTokens } from './user-tokens.js';

export interface Principal {
  userUuid: string;
  username: string;
  superuser: boolean;
  /** Tenant UUIDs the user may act in (superusers: all). */
  tenants: Set<string>;
  /** Tenants where the user's role only reads (a role named like Read-Only). */
  readOnly: Set<string>;
  /** Reads every tenant (all_tenants with a read-only role), writes none. */
  readAll: boolean;
  defaultTenant: string;
}

export interface RequestAuth {
  principal: Principal;
  /** UUID of the tenant the request acts in (X-Avi-Tenant). */
  tenant: string;
  tenantName: string;
}

interface Session { id: string; csrf: string; userUuid: string; expires: number }

const SESSION_TTL_MS = 24 * 3600_000;
const BASIC_TTL_MS = 60_000;
const MAX_SESSIONS = 50_000;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Roles: admin (is_superuser, or all_tenants), tenant-admin (any other role on a tenant), read-only (a role named *Read-Only*). */
const READ_ONLY_ROLE = /read[-_ ]?only/i;
const roleName = (ref: unknown) => {
  const s = String(ref ?? '');
  const m = /[?&]name=([^&#]*)/.exec(s);
  try { return decodeURIComponent(m ? m[1]! : s.slice(s.lastIndexOf('/') + 1)); } catch { return s; }
};

export class Auth {
  private readonly sessions = new Map<string, Session>();
  private readonly basic = new Map<string, { userUuid: string; until: number }>();
  /** Users and tenants read per request, cached until one of them changes. */
  private readonly principals = new Map<string, Principal>();
  private readonly tenants = new Map<string, { uuid: string; name: string }>();
  private readonly limiter = new LoginLimiter();
  readonly tokens: UserTokens;

  constructor(private readonly store: Store) {
    this.tokens = new UserTokens(store);
    // A changed or deleted user or tenant must not keep working from a cache.
    store.onChange((type) => {
      if (type === 'user') { this.basic.clear(); this.principals.clear(); }
      if (type === 'tenant') this.tenants.clear();
    });
  }

  private async principal(userUuid: string): Promise<Principal | undefined> {
    let p = this.principals.get(userUuid);
    if (!p) {
      p = await this.loadPrincipal(userUuid);
      if (p) this.principals.set(userUuid, p);
    }
    return p;
  }

  private async loadPrincipal(userUuid: string): Promise<Principal | undefined> {
    const rec = await this.store.get(userUuid);
    if (!rec || rec.type !== 'user' || rec.body.is_active === false) return undefined;
    const b = rec.body as Record<string, any>;
    const tenants = new Set<string>();
    const readOnly = new Set<string>();
    let all = !!b.is_superuser;
    let readAll = false;
    for (const a of (b.access ?? []) as any[]) {
      const ro = READ_ONLY_ROLE.test(roleName(a.role_ref));
      if (a.all_tenants) { if (ro) readAll = true; else all = true; }
      if (a.tenant_ref) { tenants.add(a.tenant_ref); if (ro) readOnly.add(a.tenant_ref); }
    }
    if (b.default_tenant_ref) tenants.add(b.default_tenant_ref);
    const defaultTenant = b.default_tenant_ref ?? (all || readAll ? ADMIN : [...tenants][0] ?? ADMIN);
    tenants.add(defaultTenant);
    return { userUuid, username: rec.name, superuser: all, tenants, readOnly, readAll: readAll && !all, defaultTenant };
  }

  /** The user's UUID when the password is right; 429 past the failed-login limit (per user and per client). */
  async checkPassword(username: string, password: string, client?: string): Promise<string | undefined> {
    this.limiter.check(username, client);
    const rec = await findByName(this.store, typeInfo('user')!, username, ADMIN);
    const ok = !!rec && await verifyPassword(password, rec.body.password_hash as string | undefined);
    if (!ok) { this.limiter.failed(username, client); return undefined; }
    this.limiter.succeeded(username);
    return rec.uuid;
  }

  /** The user's UUID when `token` is one of its live API tokens; counted by the same login limit as passwords. */
  async checkToken(username: string, token: string, client?: string): Promise<string | undefined> {
    this.limiter.check(username, client);
    const rec = await findByName(this.store, typeInfo('user')!, username, ADMIN);
    const ok = !!rec && rec.body.is_active !== false && this.tokens.matches(rec.body, token);
    if (!ok) { this.limiter.failed(username, client); return undefined; }
    this.limiter.succeeded(username);
    return rec.uuid;
  }

  /** A session for the user when the password (or, with `{token}`, the API token) is right. */
  async login(username: string, secret: string | { token: string }, client?: string): Promise<Session | undefined> {
    const userUuid = typeof secret === 'string' ? await this.checkPassword(username, secret, client) : await this.checkToken(username, secret.token, client);
    if (!userUuid) return undefined;
    const s: Session = { id: randomBytes(24).toString('hex'), csrf: randomBytes(24).toString('hex'), userUuid, expires: Date.now() + SESSION_TTL_MS };
    if (this.sessions.size >= MAX_SESSIONS) this.prune();
    this.sessions.set(s.id, s);
    return s;
  }

  /** Drops expired sessions, then the oldest ones, so logins cannot grow memory without bound. */
  private prune(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
    for (const id of this.sessions.keys()) {
      if (this.sessions.size < MAX_SESSIONS * 0.9) break;
      this.sessions.delete(id);
    }
  }

  logout(sessionId: string | undefined): void {
    if (sessionId) this.sessions.delete(sessionId);
  }

  /** Authenticates a request and picks its tenant; throws 401/403. */
  async authenticate(req: FastifyRequest): Promise<RequestAuth> {
    const userUuid = await this.user(req);
    const principal = userUuid ? await this.principal(userUuid) : undefined;
    if (!principal) throw new ApiError(401, 'authentication required: log in (POST /login) or use basic auth');
    const t = await this.tenant(req, principal);
    if (!SAFE.has(req.method) && !principal.superuser && (principal.readOnly.has(t.tenant) || !principal.tenants.has(t.tenant))) {
      throw forbidden(`user ${principal.username} has read-only access to tenant ${t.tenantName}`);
    }
    return { principal, ...t };
  }

  private async user(req: FastifyRequest): Promise<string | undefined> {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const key = createHash('sha256').update(header).digest('base64');
      const hit = this.basic.get(key);
      if (hit && hit.until > Date.now()) return hit.userUuid;
      const text = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon < 0) throw new ApiError(401, 'Authorization: malformed basic credentials');
      const userUuid = await this.checkPassword(text.slice(0, colon), text.slice(colon + 1), req.ip);
      if (!userUuid) throw new ApiError(401, 'invalid username or password');
      if (this.basic.size > 10_000) this.basic.clear();
      this.basic.set(key, { userUuid, until: Date.now() + BASIC_TTL_MS });
      return userUuid;
    }
    const sid = req.cookies?.sessionid ?? req.cookies?.['avi-sessionid'];
    if (!sid) return undefined;
    const s = this.sessions.get(sid);
    if (!s || s.expires < Date.now()) { if (s) this.sessions.delete(sid); throw new ApiError(401, 'session expired or unknown: log in again'); }
    s.expires = Date.now() + SESSION_TTL_MS;
    if (!SAFE.has(req.method)) {
      const token = req.headers['x-csrftoken'];
      if (!token) throw new ApiError(401, 'X-CSRFToken header missing (send the csrftoken cookie value)');
      if (token !== s.csrf) throw new ApiError(403, 'X-CSRFToken does not match the session');
    }
    return s.userUuid;
  }

  private async tenant(req: FastifyRequest, p: Principal): Promise<{ tenant: string; tenantName: string }> {
    const byUuid = req.headers['x-avi-tenant-uuid'];
    const byName = req.headers['x-avi-tenant'];
    const key = typeof byUuid === 'string' && byUuid ? `u:${byUuid}` : typeof byName === 'string' && byName ? `n:${byName}` : `u:${p.defaultTenant}`;
    let rec = this.tenants.get(key);
    if (!rec) {
      const found = key.startsWith('u:') ? await this.store.get(key.slice(2)) : (await this.store.byName('tenant', ADMIN, key.slice(2)))[0];
      if (found?.type === 'tenant') { rec = { uuid: found.uuid, name: found.name }; if (this.tenants.size < 10_000) this.tenants.set(key, rec); }
    }
    if (!rec) throw new ApiError(404, `X-Avi-Tenant: no tenant ${key.slice(2)}`);
    if (!p.superuser && !p.readAll && !p.tenants.has(rec.uuid)) throw forbidden(`user ${p.username} has no access to tenant ${rec.name}`);
    return { tenant: rec.uuid, tenantName: rec.name };
  }

  /** Sets the session cookies after a login. */
  static setCookies(reply: FastifyReply, s: Session, secure: boolean): void {
    reply.setCookie('sessionid', s.id, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    reply.setCookie('avi-sessionid', s.id, { path: '/', httpOnly: true, sameSite: 'lax', secure });
    reply.setCookie('csrftoken', s.csrf, { path: '/', sameSite: 'lax', secure });
  }
}
