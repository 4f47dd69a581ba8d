// The operator's only way to the controller: its REST API (avi-api.md §1). Session login with
// CSRF (as AKO does) or basic auth, X-Avi-Tenant, paged lists that follow `next`, and errors
// turned into ControllerError with a class that decides the retry.
import { Agent, request, type Dispatcher } from 'undici';
import { ControllerError, classify } from './errors.js';

export interface ControllerClientOptions {
  /** `http(s)://host:port`, or several (`URL,URL,…`, replicated controllers): a network error moves to the next. */
  url: string;
  username: string;
  password?: string;
  /** Token login (`{username, token}`) instead of a password, as AKO's authtoken. */
  token?: string;
  tenant?: string;
  /** `session` (POST /login, cookies + X-CSRFToken; the default) or `basic`. */
  auth?: 'session' | 'basic';
  /** PEM CA for https; without it a self-signed controller certificate is accepted only when `insecure`. */
  ca?: string;
  insecure?: boolean;
  /** Concurrent connections to the controller. */
  connections?: number;
  /**
   * Requests sent on one connection before the first is answered (HTTP/1.1 pipelining; default
   * 2): the controller starts the next one as it answers, not a round trip and the operator's
   * own turn later. Writes are pipelined too: a create sent again after a lost connection meets
   * 409 "already exists", which the sync adopts.
   */
  pipelining?: number;
  timeoutMs?: number;
  version?: string;
  /** With token login: how often a fresh 240 h token is fetched and used for later logins (AKO: every 12 h). */
  tokenRefreshMs?: number;
  /** Told each refreshed token (e.g. to store it where the next start reads credentials). */
  onTokenRefreshed?: (token: string, expiresAt: string) => void;
  onTokenRefreshFailed?: (err: Error) => void;
}

const TOKEN_REFRESH_MS = 12 * 3600_000;
const TOKEN_HOURS = '240';

export interface ListResult<T = Record<string, any>> { count: number; results: T[] }

type Json = Record<string, any>;

export class ControllerClient {
  private readonly origins: string[];
  private current = 0;
  /** The controller answering now. */
  get origin(): string { return this.origins[this.current]!; }
  readonly tenant: string;
  private readonly agent: Dispatcher;
  private cookies = '';
  private csrf = '';
  private loggingIn: Promise<void> | undefined;
  private readonly basic: string;
  private token: string | undefined;
  private readonly tokenTimer: NodeJS.Timeout | undefined;

  /** Requests per connection at once (see ControllerClientOptions.pipelining). */
  readonly pipelining: number;

  constructor(private readonly opts: ControllerClientOptions) {
    this.pipelining = Math.max(1, Math.floor(opts.pipelining ?? 2));
    this.token = opts.token;
    // A token dies after its lifetime: a long-running client swaps it for a fresh one in time, as AKO does.
    if (opts.token && !opts.password && opts.auth !== 'basic') {
      this.tokenTimer = setInterval(() => void this.refreshToken().catch((e: Error) => opts.onTokenRefreshFailed?.(e)), opts.tokenRefreshMs ?? TOKEN_REFRESH_MS);
      this.tokenTimer.unref();
    }
    this.origins = opts.url.split(',').map((x) => x.trim()).filter(Boolean).map((x) => new URL(x).origin);
    const u = new URL(this.origins[0] ?? opts.url);
    this.tenant = opts.tenant ?? 'admin';
    this.basic = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    this.agent = new Agent({
      connections: opts.connections ?? 8,
      pipelining: this.pipelining,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs ?? 30_000,
      bodyTimeout: opts.timeoutMs ?? 30_000,
      connect: u.protocol === 'https:' ? { ca: opts.ca, rejectUnauthorized: !opts.insecure } : {},
    });
  }

  async close(): Promise<void> {
    clearInterval(this.tokenTimer);
    await this.agent.close();
  }

  /** POST /api/user-token for a new 240 h token; later logins use it. */
  async refreshToken(): Promise<void> {
    const made = (await this.call<{ token?: string; expires_at?: string }>('POST', '/api/user-token', { hours: TOKEN_HOURS }, undefined)).data;
    if (typeof made.token !== 'string' || !made.token) throw new Error('POST /api/user-token: the answer holds no token');
    this.token = made.token;
    this.opts.onTokenRefreshed?.(made.token, made.expires_at ?? '');
  }

  private headers(method: string, tenant: string | undefined): Record<string, string> {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      'x-avi-tenant': tenant ?? this.tenant,
      'x-avi-version': this.opts.version ?? '30.2.1',
      'x-avi-useragent': 'portico-operator',
      referer: `${this.origin}/`,
    };
    if (this.opts.auth === 'basic') h.authorization = this.basic;
    else {
      if (this.cookies) h.cookie = this.cookies;
      if (this.csrf && method !== 'GET') h['x-csrftoken'] = this.csrf;
    }
    return h;
  }

  /** POST /login: keeps the sessionid and csrftoken cookies. */
  async login(): Promise<void> {
    if (this.opts.auth === 'basic') return;
    if (!this.loggingIn) {
      this.loggingIn = this.doLogin().finally(() => { this.loggingIn = undefined; });
    }
    return this.loggingIn;
  }

  /** Runs `attempt` on the active controller; on a network error on the next ones (each once). */
  private async failover<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tried = 1; ; tried++) {
      const at = this.current;
      try {
        return await attempt();
      } catch (err) {
        if (tried >= this.origins.length || !(err instanceof ControllerError) || err.errorClass !== 'network') throw err;
        if (this.current !== at) continue; // a concurrent call moved on already
        this.current = (at + 1) % this.origins.length;
        this.cookies = ''; // sessions live in one controller: log in again there
        this.csrf = '';
      }
    }
  }

  private doLogin(): Promise<void> {
    return this.failover(() => this.loginOnce());
  }

  private async loginOnce(): Promise<void> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.origin}/login`, {
        method: 'POST', dispatcher: this.agent,
        headers: { 'content-type': 'application/json', referer: `${this.origin}/` },
        body: JSON.stringify(this.opts.password || !this.token
          ? { username: this.opts.username, password: this.opts.password }
          : { username: this.opts.username, token: this.token }),
      });
    } catch (err) {
      throw new ControllerError(0, (err as Error).message, 'POST', '/login', 'network');
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      const detail = errorText(text, res.statusCode);
      const cls = res.statusCode === 401 ? 'bad-credentials' : classify(res.statusCode, detail);
      throw new ControllerError(res.statusCode, detail, 'POST', '/login', cls);
    }
    const setCookie = res.headers['set-cookie'];
    const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    const jar = new Map<string, string>();
    for (const c of list) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    this.csrf = jar.get('csrftoken') ?? '';
    this.cookies = [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One call; a 401 in a session triggers one new login and one retry. */
  async call<T = Json>(method: string, path: string, body?: unknown, tenant?: string): Promise<{ status: number; data: T }> {
    if (this.opts.auth !== 'basic' && !this.cookies) await this.login();
    let r = await this.once(method, path, body, tenant);
    if (r.status === 401 && this.opts.auth !== 'basic') {
      await this.login();
      r = await this.once(method, path, body, tenant);
    }
    // AKO's SDK: a 403 on GET or PUT in another tenant is tried again as admin (a user whose
    // access is through the admin tenant); if that fails too, the first answer is the error.
    if (r.status === 403 && (method === 'GET' || method === 'PUT') && (tenant ?? this.tenant) !== 'admin') {
      const again = await this.once(method, path, body, 'admin');
      if (again.status < 400) r = again;
    }
    if (r.status >= 400) {
      const detail = errorText(r.text, r.status);
      throw new ControllerError(r.status, detail, method, path, classify(r.status, detail));
    }
    return { status: r.status, data: (r.text ? JSON.parse(r.text) : {}) as T };
  }

  private once(method: string, path: string, body: unknown, tenant: string | undefined): Promise<{ status: number; text: string }> {
    return this.failover(async () => {
      if (this.opts.auth !== 'basic' && !this.cookies && path !== '/login') await this.loginOnce();
      return this.onceHere(method, path, body, tenant);
    });
  }

  private async onceHere(method: string, path: string, body: unknown, tenant: string | undefined): Promise<{ status: number; text: string }> {
    try {
      const res = await request(this.origin + path, {
        method: method as Dispatcher.HttpMethod, dispatcher: this.agent, headers: this.headers(method, tenant),
        body: body === undefined ? undefined : JSON.stringify(body), idempotent: this.pipelining > 1 || undefined,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      throw new ControllerError(0, (err as Error).message, method, path, 'network');
    }
  }

  get<T = Json>(path: string, tenant?: string): Promise<T> {
    return this.call<T>('GET', path, undefined, tenant).then((r) => r.data);
  }

  /** Every object of a collection query, following `next` (page_size 100, as AKO asks). */
  async list<T = Json>(type: string, query: Record<string, string> = {}, tenant?: string, pageSize = 100): Promise<T[]> {
    const q = new URLSearchParams({ page_size: String(pageSize), ...query });
    let path: string | undefined = `/api/${type}?${q.toString()}`;
    const out: T[] = [];
    for (let guard = 0; path && guard < 100_000; guard++) {
      const page: { count?: number; results?: T[]; next?: string } = await this.get(path, tenant);
      out.push(...(page.results ?? []));
      path = page.next ? nextPath(page.next, type) : undefined;
    }
    return out;
  }

  /** The one object of that name, or undefined. */
  async byName<T = Json>(type: string, name: string, extra: Record<string, string> = {}, tenant?: string): Promise<T | undefined> {
    const q = new URLSearchParams({ name, include_name: 'true', ...extra });
    const r: { results?: T[] } = await this.get(`/api/${type}?${q.toString()}`, tenant);
    return r.results?.[0];
  }

  /** `fields`: only these fields in the answer (`fields=a,b`), where the caller keeps no more. */
  async create<T = Json>(type: string, body: unknown, tenant?: string, fields?: string): Promise<T> {
    // include_name: refs come back with `#name`, so the copy kept compares with what is wanted.
    return (await this.call<T>('POST', `/api/${type}?include_name=true${fields ? `&fields=${fields}` : ''}`, body, tenant)).data;
  }

  async replace<T = Json>(type: string, uuid: string, body: unknown, tenant?: string, fields?: string): Promise<T> {
    return (await this.call<T>('PUT', `/api/${type}/${uuid}?include_name=true${fields ? `&fields=${fields}` : ''}`, body, tenant)).data;
  }

  /** DELETE; an object already gone counts as deleted. */
  async remove(type: string, uuid: string, tenant?: string): Promise<void> {
    try {
      await this.call('DELETE', `/api/${type}/${uuid}`, undefined, tenant);
    } catch (err) {
      if (err instanceof ControllerError && err.status === 404) return;
      throw err;
    }
  }
}

/** AKO splits `next` on `/api/<type>` and keeps what follows. */
function nextPath(next: string, type: string): string {
  const marker = `/api/${type}`;
  const i = next.indexOf(marker);
  return i >= 0 ? next.slice(i) : new URL(next).pathname + new URL(next).search;
}

function errorText(text: string, status: number): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; detail?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.detail === 'string') return j.detail;
  } catch { /* not JSON */ }
  return text.slice(0, 300) || `HTTP ${status}`;
}
