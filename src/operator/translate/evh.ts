// Ingresses in EVH mode (AKOSettings.enableEVH, ako-behaviour.md §2.4, §4 "EVH"): Enhanced Virtual
// Hosting parents (`Shared-L7-EVH-N` by host hash, `Shared-L7-EVH-NS-<ns>` with vipPerNamespace,
// one per host when DEDICATED) and one child per host, secure or not, chosen by `vh_matches`
// (host, every path). Per host/path routing, certificates and redirects are SNI mode's pieces
// (ingress.ts): the child's httppolicysets route by the Ingress v1 path rules. Names go through
// AKO's Encode: `P + hex(sha1(name))`.
import type { OwnedType } from './types.js';
import { ref } from './objects.js';
import { Names, pathPart, sha1Name } from './names.js';
import { nameTooLong, pushTo, warn } from './common.js';
import type { ParsedIngress } from './ingress-parse.js';
import { addChildVs, byHostName, defaultBackendPool, hostCertRefs, sharedParentVs, pool, poolGroupOf, redirectRule, routeRules, routesByNamespace, type Ctx, type HostPlan } from './ingress.js';

/** `Encode(s)` with EVH on: `<cluster>--` + 40 hex digits of sha1(s) (`s` already starts with the prefix). */
export function evhEncode(names: Names, s: string): string {
  return sha1Name(names.cluster, s);
}

/** EVH names (§2.4), from the SNI ones so an AviInfraSetting's `<infra>-` lands where it does there. */
export const evhNames = {
  /** `P + "Shared-L7-EVH-" + [<infra>-] + key` (not encoded); key = shard number or `NS-<namespace>`. */
  parent: (names: Names, key: number | string): string => `${names.sharedL7(0).slice(0, -1).replace('--Shared-L7-', '--Shared-L7-EVH-')}${key}`,
  dedicated: (names: Names, host: string): string => `${evhEncode(names, names.dedicatedVs(host))}-EVH`,
  child: (names: Names, host: string): string => evhEncode(names, names.sniChild(host)),
  poolGroup: (names: Names, ns: string, host: string, path: string, ing: string): string => evhEncode(names, `${names.prefix}${ns}-${host}${pathPart(path)}-${ing}`),
  pool: (names: Names, ns: string, host: string, path: string, ing: string, svc: string): string =>
    evhEncode(names, `${names.prefix}${ns}-${host}${pathPart(path)}-${ing}-${svc}`),
  policy: (names: Names, ns: string, host: string): string => evhEncode(names, names.sniPolicy(ns, host)),
  cert: (names: Names, host: string): string => evhEncode(names, names.tlsCert(host)),
};

/** Every path of a host reaches its child; the child's policies do the path routing. */
const EVERY_PATH = [{ match_criteria: 'BEGINS_WITH', match_str: ['/'] }];

type Served = Map<string, { vsvip: string; vs: string }>;

/**
 * `L7Settings.fqdnReusePolicy: Strict` (§4 EVH): walking the Ingresses oldest first, the first to
 * name a host claims it for its namespace; an Ingress of another namespace that names a claimed
 * host is not served at all (routes, TLS and default backend dropped) and its status says why. A
 * rejected Ingress claims nothing. Claims follow the Ingresses that exist now, so a host is free
 * again once the Ingresses that claimed it are gone (AKO hands it over only on a later resync).
 */
export function claimHostsStrictly(parsed: ParsedIngress[]): void {
  const claims = new Map<string, string>();
  for (const p of parsed) {
    const hosts = new Set([...p.routes.map((r) => r.host), ...p.tlsHosts.keys()]);
    const taken = [...hosts].filter((h) => (claims.get(h) ?? p.ns) !== p.ns).sort();
    if (taken.length > 0) {
      const which = taken.map((h) => `${h} (namespace ${claims.get(h)})`).join(', ');
      warn(p.out, 'HostAlreadyClaimed', `host${taken.length > 1 ? 's' : ''} already claimed by another namespace: ${which}; with L7Settings.fqdnReusePolicy Strict the ingress is not served`);
      p.routes = [];
      p.tlsHosts = new Map();
      p.hosts = [];
      delete p.defaultBackend;
      continue;
    }
    for (const h of hosts) claims.set(h, p.ns);
  }
}

/**
 * Builds the EVH parents and children for the planned hosts (status goes into `served`).
 * Returns the parent that serves `defaultOwner`'s spec.defaultBackend, if any.
 */
export function buildEvh(ctx: Ctx, plans: Map<string, HostPlan>, parsed: ParsedIngress[], served: Served, subdomain: string | undefined,
  defaultOwner: ParsedIngress | undefined): string | undefined {
  const { names, settings } = ctx;
  const dedicated = settings.l7.shardVSSize === 'DEDICATED';
  const perNamespace = settings.vipPerNamespace && !dedicated;
  // vipPerNamespace: a host belongs to the namespace of the oldest Ingress that names it.
  const hostNs = new Map<string, string>();
  if (perNamespace) for (const p of parsed) for (const h of [...p.routes.map((r) => r.host), ...p.tlsHosts.keys()]) if (!hostNs.has(h)) hostNs.set(h, p.ns);
  const parentOf = (h: HostPlan): string =>
    dedicated ? evhNames.dedicated(names, h.host) : perNamespace ? evhNames.parent(names, `NS-${hostNs.get(h.host)}`) : evhNames.parent(names, h.shard);

  const groups = new Map<string, HostPlan[]>();
  for (const h of byHostName(plans)) {
    if (h.blocked || (h.routes.length === 0 && !h.cert)) continue;
    const parent = parentOf(h);
    if (nameTooLong('virtualservice', parent, h.routes)) continue;
    pushTo(groups, parent, h);
  }
  let defaultParent: string | undefined;
  let defaultPool: string | undefined;
  if (defaultOwner && dedicated) warn(defaultOwner.out, 'UnsupportedBackend', 'spec.defaultBackend needs a shared parent VS: not served with shardVSSize DEDICATED');
  else if (defaultOwner) {
    defaultParent = perNamespace ? evhNames.parent(names, `NS-${defaultOwner.ns}`) : evhNames.parent(names, 0);
    if (!groups.has(defaultParent)) groups.set(defaultParent, []);
    defaultPool = defaultBackendPool(ctx, defaultOwner, defaultOwner.out);
  }
  for (const parent of [...groups.keys()].sort()) {
    const hosts = groups.get(parent)!;
    for (const h of hosts) {
      const child = buildEvhChild(ctx, h, parent);
      if (child) served.set(h.host, { vsvip: parent, vs: child });
    }
    buildEvhParent(ctx, parent, hosts, served, dedicated || perNamespace ? undefined : subdomain, parent === defaultParent ? defaultPool : undefined);
  }
  return defaultParent;
}

function buildEvhParent(ctx: Ctx, parent: string, hosts: HostPlan[], served: Served, autoFqdnDomain: string | undefined, defaultPool: string | undefined): void {
  const vs = sharedParentVs(ctx, parent, hosts, served, autoFqdnDomain, { vh_type: 'VS_TYPE_VH_ENHANCED' });
  const deps: Array<[OwnedType, string]> = [['vsvip', parent]];
  if (defaultPool) { vs.pool_ref = ref('pool', defaultPool); deps.push(['pool', defaultPool]); }
  vs.service_metadata = JSON.stringify({ hostnames: hosts.map((h) => h.host).filter((h) => served.has(h)) });
  ctx.set.add('virtualservice', parent, vs, [], deps);
}

/** One EVH child per host: its certificate and redirect when secure, one policy set per namespace routing its paths. */
function buildEvhChild(ctx: Ctx, h: HostPlan, parent: string): string | undefined {
  const { names, set } = ctx;
  const child = evhNames.child(names, h.host);
  const vsDeps: Array<[OwnedType, string]> = [['virtualservice', parent]];
  const certRefs = hostCertRefs(ctx, h, evhNames.cert(names, h.host), vsDeps);
  const policies: string[] = [];
  for (const [ns, routes] of routesByNamespace(h.routes)) {
    const policy = evhNames.policy(names, ns, h.host);
    const rules: unknown[] = [];
    const deps: Array<[OwnedType, string]> = [];
    // The child answers on 80 and 443: plain HTTP to a secure host is redirected.
    if (h.cert) rules.push(redirectRule(policy, 0));
    routeRules(ctx, policy, routes, rules, false, (r) => {
      const svc = r.backend.svc.metadata?.name ?? '';
      let pg = evhNames.poolGroup(names, r.ns, r.host, r.path, r.ing);
      let poolName = evhNames.pool(names, r.ns, r.host, r.path, r.ing, svc);
      // `/a` Exact and `/a` Prefix in one Ingress would share names: the later one says which it is.
      if (set.has('poolgroup', pg)) {
        const kind = r.pathType.toLowerCase();
        pg = evhNames.poolGroup(names, r.ns, r.host, `${r.path}-${kind}`, r.ing);
        poolName = evhNames.pool(names, r.ns, r.host, `${r.path}-${kind}`, r.ing, svc);
      }
      pool(ctx, poolName, r.backend, r);
      return poolGroupOf(ctx, pg, poolName, r);
    }, deps);
    set.add('httppolicyset', policy, { http_request_policy: { rules }, http_security_policy: {} }, [{ key: 'Namespace', values: [ns] }, { key: 'Host', values: [h.host] }], deps);
    policies.push(policy);
    vsDeps.push(['httppolicyset', policy]);
  }
  addChildVs(ctx, h, child, parent, { vh_type: 'VS_TYPE_VH_ENHANCED', vh_matches: [{ host: h.host, path: EVERY_PATH }], min_pools_up: 1 }, certRefs, policies, vsDeps);
  return child;
}
