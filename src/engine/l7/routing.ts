// Snapshot → the routing table of one L7 listener: the owning VS, its SNI children by domain
// (exact, then one-label wildcard), each VS's compiled policies, default pool, limits and TLS
// context. Built once per update(); requests only read it.
import type { SnapshotIndex, L7ListenerSpec } from '../contracts.js';
import { compileMatch, compilePolicies, type CompiledResponseRule, type CompiledRule, type CompileWarning, type MatchInput } from './policy.js';
import { type CertContexts, type CertEntry, contextForVs } from './certificates.js';
import { childDatascriptError } from '../l4/passthrough.js';
import { poolsOfVs } from '../runtime/min-pools-up.js';

type Obj = Record<string, any>;

export interface HttpLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  /** Whole request head must arrive within this (slowloris). */
  headerTimeoutMs: number;
  /** A keep-alive connection with no request in flight is closed after this. */
  keepaliveTimeoutMs: number;
  /** No body bytes for this long while a request body is expected → close. */
  bodyTimeoutMs: number;
  /** 0 = unlimited. */
  maxConnections: number;
  websockets: boolean;
  xff: boolean;
  xfp: boolean;
  httpToHttps: boolean;
}

export interface VsRoute {
  uuid: string;
  name: string;
  rules: CompiledRule[];
  /** http_response_policy rules (header actions on server responses); empty for most VSes. */
  responseRules: CompiledResponseRule[];
  defaultPool: string | undefined;
  defaultPoolGroup: string | undefined;
  /** Certificates of this VS (TLS listeners), undefined when it has none. */
  certificate: CertEntry | undefined;
}

/** An EVH child for one `vh_matches` entry: its paths (OR), none = every path. */
export interface EvhMatch {
  route: VsRoute;
  path: ((m: MatchInput) => boolean) | undefined;
  /** Longest match_str of its paths: more specific entries are tried first. */
  weight: number;
}

export interface ListenerRoutes {
  vs: VsRoute;
  /** EVH parent (vh_type VS_TYPE_VH_ENHANCED): children by Host + path (`evhChildFor`); `exact`/`wildcard` then only pick certificates. */
  evh: { exact: Map<string, EvhMatch[]>; wildcard: Map<string, EvhMatch[]> } | undefined;
  limits: HttpLimits;
  exact: Map<string, VsRoute>;
  /** Key: the domain without its first label (`*.example.com` → `example.com`). */
  wildcard: Map<string, VsRoute>;
  /** Parent's certificate, else System-Default-Cert. */
  fallback: CertEntry | undefined;
  /** Pool UUID → `server_timeout` (ms) for pools these routes use that set one. */
  serverTimeouts: Map<string, number>;
}

/** A pool's server_timeout of 0 (the default) means 60 minutes, as on Avi. */
export const DEFAULT_SERVER_TIMEOUT_MS = 3_600_000;

/** How long a server may stay silent during an exchange before the client gets 504. */
export function serverTimeoutMs(routes: ListenerRoutes, poolUuid: string | undefined): number {
  return (poolUuid !== undefined && routes.serverTimeouts.get(poolUuid)) || DEFAULT_SERVER_TIMEOUT_MS;
}

const DEFAULT_LIMITS: HttpLimits = {
  maxHeaderBytes: 12 * 1024,
  maxHeaderCount: 256,
  headerTimeoutMs: 10_000,
  keepaliveTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 0,
  websockets: true,
  xff: true,
  xfp: true,
  httpToHttps: false,
};

export function buildRoutes(spec: L7ListenerSpec, index: SnapshotIndex, certs: CertContexts, warn: CompileWarning): ListenerRoutes {
  const vss = index.get('virtualservice');
  const vsObj = vss?.get(spec.vsUuid);
  if (!vsObj) throw new Error(`virtualservice ${spec.vsUuid} is not in the snapshot`);
  const vs = compileVs(vsObj, index, spec.tls, certs, warn);
  const exact = new Map<string, VsRoute>();
  const wildcard = new Map<string, VsRoute>();
  const serverTimeouts = new Map<string, number>();
  const evh = vsObj.vh_type === 'VS_TYPE_VH_ENHANCED' ? { exact: new Map<string, EvhMatch[]>(), wildcard: new Map<string, EvhMatch[]>() } : undefined;
  collectTimeouts(vsObj, index, serverTimeouts);
  for (const child of vss!.values()) {
    if (child.type !== 'VS_TYPE_VH_CHILD' || child.vh_parent_vs_ref !== spec.vsUuid || child.enabled === false) continue;
    // A child whose datascripts cannot run is not served (its state says why): never served without them.
    if (childDatascriptError(index, child)) continue;
    const route = compileVs(child, index, spec.tls, certs, warn);
    collectTimeouts(child, index, serverTimeouts);
    const names: string[] = [...(child.vh_domain_name ?? []), ...(child.vh_matches ?? []).map((m: Obj) => m?.host)];
    for (const raw of names) {
      if (typeof raw !== 'string' || raw === '') continue;
      const name = raw.toLowerCase();
      // The first child of a name gives the certificate for its SNI (EVH: Host and path pick the child).
      if (name.startsWith('*.')) { if (!evh || !wildcard.has(name.slice(2))) wildcard.set(name.slice(2), route); }
      else if (!evh || !exact.has(name)) exact.set(name, route);
    }
    if (evh) addEvhMatches(evh, child, route, index, warn);
  }
  if (evh) for (const m of [evh.exact, evh.wildcard]) for (const list of m.values()) list.sort((a, b) => b.weight - a.weight);
  return {
    vs,
    evh,
    limits: limitsFor(vsObj, index),
    exact,
    wildcard,
    fallback: spec.tls ? (vs.certificate ?? certs.systemDefault(index)) : undefined,
    serverTimeouts,
  };
}

/** server_timeout of every pool the VS can send to (the pools min_pools_up counts). */
function collectTimeouts(vs: Obj, index: SnapshotIndex, out: Map<string, number>): void {
  const pools = index.get('pool');
  for (const uuid of poolsOfVs(vs, index)) {
    const t = pools?.get(uuid)?.server_timeout;
    if (typeof t === 'number' && Number.isFinite(t) && t > 0) out.set(uuid, t);
  }
}

function compileVs(vs: Obj, index: SnapshotIndex, tls: boolean, certs: CertContexts, warn: CompileWarning): VsRoute {
  const policies = compilePolicies(vs, index, warn);
  return {
    uuid: String(vs.uuid),
    name: String(vs.name ?? vs.uuid),
    rules: policies.rules,
    responseRules: policies.responseRules,
    defaultPool: vs.pool_ref ? String(vs.pool_ref) : undefined,
    defaultPoolGroup: vs.pool_group_ref ? String(vs.pool_group_ref) : undefined,
    certificate: tls ? contextForVs(vs, index, certs, warn) : undefined,
  };
}

/** An EVH child's `vh_matches` (host + `path` PathMatch list; `vh_domain_name` hosts match every path). */
function addEvhMatches(evh: NonNullable<ListenerRoutes['evh']>, child: Obj, route: VsRoute, index: SnapshotIndex, warn: CompileWarning): void {
  const add = (raw: unknown, match: EvhMatch) => {
    if (typeof raw !== 'string' || raw === '') return;
    const name = raw.toLowerCase();
    const map = name.startsWith('*.') ? evh.wildcard : evh.exact;
    const key = name.startsWith('*.') ? name.slice(2) : name;
    const list = map.get(key);
    if (list) list.push(match);
    else map.set(key, [match]);
  };
  for (const d of child.vh_domain_name ?? []) add(d, { route, path: undefined, weight: 0 });
  for (const m of (child.vh_matches ?? []) as Obj[]) {
    const paths: Obj[] = Array.isArray(m?.path) ? m.path : m?.path ? [m.path] : [];
    if (paths.length === 0) { add(m?.host, { route, path: undefined, weight: 0 }); continue; }
    const preds = paths.map((p) => compileMatch({ path: p }, index, warn, `${route.name} vh_matches`)).filter((p) => p !== undefined);
    // A path we cannot evaluate never matches (fail closed rather than route everything).
    if (preds.length === 0) continue;
    const weight = Math.max(...paths.flatMap((p) => (Array.isArray(p.match_str) ? p.match_str : []).map((x: unknown) => String(x).length)), 0);
    add(m.host, { route, path: preds.length === 1 ? preds[0] : (x) => preds.some((p) => p(x)), weight });
  }
}

/** EVH: the child for a Host (without port, lower case) and the request path; undefined → the parent serves it. */
export function evhChildFor(routes: ListenerRoutes, host: string, m: MatchInput): VsRoute | undefined {
  const evh = routes.evh!;
  let list = host === '' ? undefined : evh.exact.get(host);
  if (!list && evh.wildcard.size > 0) {
    const dot = host.indexOf('.');
    if (dot > 0) list = evh.wildcard.get(host.slice(dot + 1));
  }
  if (!list) return undefined;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (!e.path || e.path(m)) return e.route;
  }
  return undefined;
}

/** The child VS for a host name (SNI or Host without port, lower case), or undefined. */
export function childFor(routes: ListenerRoutes, host: string): VsRoute | undefined {
  if (host === '') return undefined;
  const exact = routes.exact.get(host);
  if (exact) return exact;
  if (routes.wildcard.size === 0) return undefined;
  const dot = host.indexOf('.');
  // One label only: `a.example.com` matches `*.example.com`, `a.b.example.com` does not.
  return dot > 0 ? routes.wildcard.get(host.slice(dot + 1)) : undefined;
}

function limitsFor(vs: Obj, index: SnapshotIndex): HttpLimits {
  const profile = vs.application_profile_ref ? index.get('applicationprofile')?.get(String(vs.application_profile_ref)) : undefined;
  const hp: Obj = profile?.http_profile ?? {};
  const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : d);
  const perf: Obj = vs.performance_limits ?? profile?.performance_limits ?? {};
  return {
    maxHeaderBytes: hp.client_max_header_size ? num(hp.client_max_header_size, 12) * 1024 : DEFAULT_LIMITS.maxHeaderBytes,
    maxHeaderCount: num(hp.max_header_count, DEFAULT_LIMITS.maxHeaderCount),
    headerTimeoutMs: num(hp.client_header_timeout, DEFAULT_LIMITS.headerTimeoutMs),
    keepaliveTimeoutMs: num(hp.keepalive_timeout, DEFAULT_LIMITS.keepaliveTimeoutMs),
    bodyTimeoutMs: num(hp.client_body_timeout, DEFAULT_LIMITS.bodyTimeoutMs),
    maxConnections: typeof perf.max_concurrent_connections === 'number' ? perf.max_concurrent_connections : 0,
    websockets: hp.websockets_enabled !== false,
    xff: hp.xff_enabled !== false,
    xfp: hp.x_forwarded_proto_enabled !== false,
    httpToHttps: hp.http_to_https === true,
  };
}
