// The few controller calls `portico up` and `portico demo` make, with basic auth.
export class ApiClient {
  private readonly auth: string;

  constructor(readonly base: string, user: string, password: string) {
    this.auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: this.auth, 'content-type': 'application/json', 'x-avi-tenant': 'admin' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try { msg = JSON.parse(text).error ?? text; } catch { /* not JSON */ }
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${msg}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async ready(): Promise<boolean> {
    try {
      const r = await this.request('GET', '/api/cluster/runtime');
      return typeof r?.cluster_state?.state === 'string' && r.cluster_state.state.startsWith('CLUSTER_UP');
    } catch {
      return false;
    }
  }

  async byName(type: string, name: string): Promise<any | undefined> {
    const r = await this.request('GET', `/api/${type}?name=${encodeURIComponent(name)}`);
    return r.results?.[0];
  }

  /** A join token for the SE group's engines (long-lived: the supervisor restarts engines with it). */
  async joinToken(seGroup: string): Promise<string> {
    const seg = await this.byName('serviceenginegroup', seGroup);
    if (!seg) throw new Error(`SE group ${seGroup} not found`);
    const r = await this.request('POST', `/api/serviceenginegroup/${seg.uuid}/jointoken`, { ttl_seconds: 10 * 365 * 86400 });
    return r.token;
  }
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Polls `check` until it returns true; throws after `timeoutMs` naming what it waited for. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(500, delay * 2);
  }
}
