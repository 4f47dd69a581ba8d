// One request → what to do with it: the VS (child by SNI or Host), its policies in order, then
// its default pool or pool group, else 404; for a pool, the server. Shared by HTTP/1.1 and
// HTTP/2. `Decision` objects are reused per connection/session to avoid churn.
import { performance } from 'node:perf_hooks';
import type { PickContext, PoolRegistry, PoolRuntime, Upstream, VsMetrics } from '../contracts.js';
import type { UpstreamConn, UpstreamPool } from './upstream-pool.js';
import { cookieValue, redirectLocation, rewrittenHost, rewrittenTarget, type HeaderAction, type ResponseInput, type Terminal } from './policy.js';
import type { VariableSource } from './header-actions.js';
import { childFor, evhChildFor, serverTimeoutMs, type ListenerRoutes, type VsRoute } from './routing.js';
import { textResponse, type LocalResponse } from './responses.js';

export const enum DecisionKind {
  Proxy,
  Local,
  Close,
}

export class Decision {
  kind = DecisionKind.Local;
  vs!: VsRoute;
  pool: PoolRuntime | undefined;
  upstream: Upstream | undefined;
  headers: HeaderAction[] | undefined;
  /** rewrite_url_action: the target (origin-form) and Host the server gets instead of the client's. */
  rewriteTarget: string | undefined;
  rewriteHost: string | undefined;
  response: LocalResponse | undefined;
  /** Set-Cookie line for cookie persistence, when the client has no (valid) cookie yet. */
  setCookie: string | undefined;
  /** Proxy: how long the server may stay silent before the client gets 504 (pool's server_timeout). */
  timeoutMs = 0;

  /** Header actions of the VS's response rules matching this request and response; undefined when none. */
  responseHeaders(facts: RequestFacts, response: ResponseInput): HeaderAction[] | undefined {
    const rules = this.vs?.responseRules;
    if (rules === undefined || rules.length === 0) return undefined;
    let out: HeaderAction[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (r.headers.length > 0 && r.matches(facts, response)) out = out ? out.concat(r.headers) : r.headers;
    }
    return out;
  }

  /** Ends the use of `up`: back to the pool when reusable, else closed; the pick is done. */
  releaseUpstream(up: UpstreamConn, upstreams: UpstreamPool, reuse: boolean): void {
    if (reuse) upstreams.release(up);
    else up.destroy();
    this.pool?.done(up.upstream);
  }

  /** One finished response, counted on the VS that served it. */
  record(metrics: VsMetrics, listenerVs: string, status: number, startedAt: number, bytesIn: number, bytesOut: number, facts?: RequestFacts): void {
    const vs = this.vs?.uuid ?? listenerVs;
    const ms = performance.now() - startedAt;
    metrics.request(vs, status, ms, bytesIn, bytesOut, this.pool?.uuid, this.upstream?.key);
    if (facts) metrics.sample?.(vs, status, ms, facts.clientIp, facts.method, facts.target, this.upstream?.key ?? '');
  }
}

/** Per-request facts; `header` reads the current request. `sni` is lower case. */
export interface RequestFacts extends VariableSource {
  target: string;
}

const NOT_FOUND = textResponse(404, 'no route for this request');

/** Splits an origin-form or absolute-form target into path and query; for absolute-form also returns the authority. */
export function splitTarget(target: string, facts: { path: string; query: string }): string | undefined {
  let authority: string | undefined;
  let t = target;
  if (t.charCodeAt(0) !== 47 /* '/' */) {
    if (t === '*') {
      facts.path = '*';
      facts.query = '';
      return undefined;
    }
    const scheme = t.indexOf('://');
    if (scheme > 0) {
      let slash = t.indexOf('/', scheme + 3);
      const q = t.indexOf('?', scheme + 3);
      if (q >= 0 && (slash < 0 || q < slash)) slash = q;
      authority = t.slice(scheme + 3, slash < 0 ? t.length : slash);
      t = slash < 0 ? '/' : t.charCodeAt(slash) === 63 /* '?' */ ? '/' + t.slice(slash) : t.slice(slash);
    }
  }
  const q = t.indexOf('?');
  if (q < 0) {
    facts.path = t;
    facts.query = '';
  } else {
    facts.path = t.slice(0, q);
    facts.query = t.slice(q + 1);
  }
  return authority;
}

/** `Host` value → host name without port, lower case. */
export function hostName(host: string | undefined): string {
  if (!host) return '';
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* '[' */) {
    const close = host.indexOf(']');
    return (close > 0 ? host.slice(0, close + 1) : host).toLowerCase();
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) end = colon;
  return host.slice(0, end).toLowerCase();
}

export function decide(routes: ListenerRoutes, facts: RequestFacts, pools: PoolRegistry, pick: PickContext, out: Decision): Decision {
  out.kind = DecisionKind.Local;
  out.pool = undefined;
  out.upstream = undefined;
  out.headers = undefined;
  out.rewriteTarget = out.rewriteHost = undefined;
  out.response = undefined;
  out.setCookie = undefined;
  facts.requestId = undefined;
  const parent = routes.vs;
  let child: VsRoute | undefined;
  let terminal: Terminal | undefined;
  if (facts.secure) {
    // TLS: the SNI name picks the child; the parent's policies do not apply to it, but they do
    // to requests the parent (or a normal VS) serves itself.
    // EVH: Host and path pick the child (the SNI name only picked the certificate).
    child = routes.evh ? evhChildFor(routes, facts.host, facts) : childFor(routes, facts.sni !== '' ? facts.sni : facts.host);
    if (!child) terminal = runRules(parent, facts, out);
  } else {
    if (routes.limits.httpToHttps) {
      out.vs = parent;
      out.response = redirect(302, `https://${facts.host}${facts.path}${facts.query === '' ? '' : '?' + facts.query}`);
      return out;
    }
    // Plain HTTP: the parent's policies first (AKO's HTTP→HTTPS redirects live there), then the Host's child.
    child = routes.evh ? evhChildFor(routes, facts.host, facts) : childFor(routes, facts.host);
    terminal = runRules(parent, facts, out);
  }
  const vs = child ?? parent;
  out.vs = vs;
  if (!terminal && child) terminal = runRules(child, facts, out);
  if (!terminal) {
    const poolUuid = vs.defaultPool ?? (vs.defaultPoolGroup ? undefined : parent.defaultPool);
    const groupUuid = vs.defaultPoolGroup ?? (vs.defaultPool ? undefined : parent.defaultPoolGroup);
    if (poolUuid) terminal = { kind: 'pool', pool: poolUuid };
    else if (groupUuid) terminal = { kind: 'poolgroup', poolGroup: groupUuid };
    else {
      out.response = NOT_FOUND;
      return out;
    }
  }
  switch (terminal.kind) {
    case 'local':
      out.response = { status: terminal.status, contentType: terminal.contentType, body: terminal.body };
      return out;
    case 'redirect': {
      const r = terminal.redirect;
      out.response = redirect(r.status, redirectLocation(r, facts, facts.port));
      return out;
    }
    case 'close':
      out.kind = DecisionKind.Close;
      return out;
    case 'pool':
      out.pool = pools.pool(terminal.pool);
      break;
    case 'poolgroup':
      pick.persistenceCookie = undefined;
      out.pool = pools.poolGroup(terminal.poolGroup)?.pickPool(pick);
      break;
  }
  const pool = out.pool;
  if (!pool) {
    out.response = textResponse(503, 'no pool available');
    return out;
  }
  const cookieName = pool.persistenceCookieName;
  pick.persistenceCookie = cookieName ? cookieValue(facts.header('cookie'), cookieName) : undefined;
  const u = pool.pick(pick);
  if (!u) {
    out.response = textResponse(503, 'no server available');
    out.pool = undefined;
    return out;
  }
  if (cookieName && pool.persistenceCookieValue) {
    const value = pool.persistenceCookieValue(u);
    if (value !== pick.persistenceCookie) out.setCookie = `Set-Cookie: ${cookieName}=${value}; Path=/; HttpOnly`;
  }
  out.kind = DecisionKind.Proxy;
  out.upstream = u;
  out.timeoutMs = serverTimeoutMs(routes, pool.uuid);
  return out;
}

function runRules(vs: VsRoute, facts: RequestFacts, out: Decision): Terminal | undefined {
  const rules = vs.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    // Captures belong to the rule that matched (redirect REGEX / STRING_GROUP tokens).
    facts.pathCaptures = facts.queryCaptures = facts.groupValue = undefined;
    if (!r.matches(facts)) continue;
    if (r.allow) {
      // ALLOW: no further security rule applies; request rules still do.
      while (i + 1 < rules.length && rules[i + 1].security) i++;
      continue;
    }
    if (r.headers.length > 0) out.headers = out.headers ? out.headers.concat(r.headers) : r.headers;
    if (r.rewrite) {
      // Computed now: the path/query captures belong to this rule. The first rewrite wins.
      if (out.rewriteTarget === undefined) {
        out.rewriteTarget = rewrittenTarget(r.rewrite, facts);
        out.rewriteHost = rewrittenHost(r.rewrite, facts);
      }
    }
    if (r.terminal) return r.terminal;
  }
  return undefined;
}

function redirect(status: number, location: string): LocalResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body: Buffer.alloc(0), headers: [`Location: ${location}`] };
}
