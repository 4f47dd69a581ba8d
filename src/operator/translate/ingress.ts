// Ingresses in SNI mode (ako-behaviour.md §4, with the "better than AKO" rules): shared
// parent VSes by host hash (or one VS per host when DEDICATED), insecure routing by an
// httppolicyset on the parent, one SNI child per secure host with its certificate and policies.
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { ObjectOutcome, OwnedType } from './types.js';
import { ObjectSet, ref, type Marker } from './objects.js';
import { Names, shardCount, shardOf } from './names.js';
import { EndpointIndex } from './members.js';
import { fqdnSubdomain, inDnsDomains, nameTooLong, pushTo, vsvipFields, warn } from './common.js';
import { eligibleIngresses, parseIngress, type Backend, type HostCert, type ParsedIngress, type Route } from './ingress-parse.js';
import { buildPassthrough, isPassthrough } from './passthrough.js';
import { buildEvh, claimHostsStrictly } from './evh.js';

export interface HostPlan {
  host: string;
  shard: number;
  cert?: HostCert;
  /** TLS configured but no usable certificate: the host is not served. */
  blocked?: string;
  routes: Route[];
  /** Wildcard or secure hosts get a child VS (the SE matches `*.x` on exactly one label). */
  child: boolean;
}

export interface Ctx {
  settings: OperatorSettings;
  set: ObjectSet;
  names: Names;
  endpoints: EndpointIndex;
}

/** Host plans in host name order (names are unique keys). */
export function byHostName<T extends { host: string }>(plans: Map<string, T>): T[] {
  return [...plans.values()].sort((a, b) => (a.host < b.host ? -1 : 1));
}

const byLengthThenExact = (a: Route, b: Route) =>
  b.match.length - a.match.length || (a.pathType === b.pathType ? 0 : a.pathType === 'Exact' ? -1 : 1) || (a.match < b.match ? -1 : a.match > b.match ? 1 : 0);

/** Path matches per the Ingress v1 spec: Exact is byte-exact; Prefix matches whole path elements. */
function pathMatches(r: Route): Array<Record<string, unknown>> {
  if (r.pathType === 'Exact') return [{ match_criteria: 'EQUALS', match_case: 'SENSITIVE', match_str: [r.match] }];
  if (r.match === '/') return [{ match_criteria: 'BEGINS_WITH', match_case: 'SENSITIVE', match_str: ['/'] }];
  return [
    { match_criteria: 'EQUALS', match_case: 'SENSITIVE', match_str: [r.match] },
    { match_criteria: 'BEGINS_WITH', match_case: 'SENSITIVE', match_str: [`${r.match}/`] },
  ];
}

export function redirectRule(name: string, index: number, hosts?: string[]): Record<string, unknown> {
  const match: Record<string, unknown> = {};
  if (hosts) match.host_hdr = { match_criteria: 'HDR_EQUALS', match_case: 'INSENSITIVE', value: hosts };
  match.vs_port = { match_criteria: 'IS_IN', ports: [80] };
  return {
    name: `${name}-${index}`, index, enable: true, match,
    redirect_action: { protocol: 'HTTPS', port: 443, status_code: 'HTTP_REDIRECT_STATUS_CODE_302', keep_query: true },
  };
}

export function pool(ctx: Ctx, name: string, b: Backend, r: { ns: string; ing: string; host?: string; path?: string; out?: ObjectOutcome }): void {
  const markers: Marker[] = [{ key: 'Namespace', values: [r.ns] }, { key: 'IngressName', values: [r.ing] }];
  if (r.host) markers.push({ key: 'Host', values: [r.host] });
  if (r.path) markers.push({ key: 'Path', values: [r.path] });
  markers.push({ key: 'ServiceName', values: [b.svc.metadata?.name ?? ''] });
  ctx.set.add('pool', name, {
    vrf_ref: ctx.set.vrfRef,
    graceful_disable_timeout: 1,
    service_metadata: JSON.stringify({ namespace_ingress_name: [`${r.ns}/${r.ing}`], hostnames: r.host ? [r.host] : [] }),
    servers: ctx.endpoints.servers(b.svc, b.port, r.out),
  }, markers, []);
}

/** A pool group of one pool (SNI child and EVH routes) and the switching action that selects it. */
export function poolGroupOf(ctx: Ctx, pg: string, poolName: string, r: Route): { action: Record<string, unknown>; deps: Array<[OwnedType, string]> } {
  ctx.set.add('poolgroup', pg, { members: [{ pool_ref: ref('pool', poolName), ratio: 100 }], implicit_priority_labels: false },
    [{ key: 'Namespace', values: [r.ns] }, { key: 'Host', values: [r.host] }, { key: 'IngressName', values: [r.ing] }], [['pool', poolName]]);
  return { action: { action: 'HTTP_SWITCHING_SELECT_POOLGROUP', pool_group_ref: ref('poolgroup', pg) }, deps: [['poolgroup', pg]] };
}

/** The service_metadata of a VS serving one host: the host and the Ingresses routing it. */
function hostMetadata(h: HostPlan): string {
  return JSON.stringify({ hostnames: [h.host], namespace_ingress_name: [...new Set(h.routes.map((r) => `${r.ns}/${r.ing}`))].sort() });
}

/** The pool of `owner`'s spec.defaultBackend, or undefined when its name is too long; `out` gets its members' Warnings. */
export function defaultBackendPool(ctx: Ctx, owner: ParsedIngress, out: ObjectOutcome | undefined): string | undefined {
  const name = ctx.names.defaultBackendPool(owner.ns, owner.name);
  if (nameTooLong('pool', name, owner.out)) return undefined;
  pool(ctx, name, owner.defaultBackend!, { ns: owner.ns, ing: owner.name, out });
  return name;
}

/** Plans every host: which Ingress routes it keeps, its certificate, its shard. */
export function planHosts(parsed: ParsedIngress[], count: number, scheme: 'hostname' | 'namespace'): Map<string, HostPlan> {
  const plans = new Map<string, HostPlan>();
  const plan = (host: string, ns: string): HostPlan => {
    let p = plans.get(host);
    if (!p) {
      p = { host, shard: shardOf(scheme === 'namespace' ? ns : host, count), routes: [], child: host.startsWith('*.') };
      plans.set(host, p);
    }
    return p;
  };
  // Certificates: the oldest Ingress with a usable one wins; TLS with none usable blocks the host.
  const tlsOwner = new Map<string, string>();
  for (const pi of parsed) {
    for (const [host, c] of pi.tlsHosts) {
      const p = plan(host, pi.ns);
      p.child = true;
      if (c.kind === 'error') {
        warn(pi.out, c.reasonCode, `host ${host}: ${c.reason}; it is not served until the secret is fixed`);
        if (!p.cert) p.blocked = c.reason;
      } else if (!p.cert) {
        p.cert = c;
        delete p.blocked;
        tlsOwner.set(host, `${pi.ns}/${pi.name}`);
      }
    }
  }
  // Routes: a host+path+pathType taken by an older Ingress is a duplicate.
  const seen = new Map<string, Route>();
  for (const pi of parsed) {
    for (const r of pi.routes) {
      const k = `${r.host}\n${r.pathType}\n${r.match}`;
      const first = seen.get(k);
      if (first) {
        if (first.ns !== r.ns || first.ing !== r.ing) warn(r.out, 'DuplicateHostPath', `host ${r.host} path ${r.path} (${r.pathType}) is already served by ingress ${first.ns}/${first.ing}`);
        continue;
      }
      seen.set(k, r);
      plan(r.host, r.ns).routes.push(r);
    }
  }
  for (const p of plans.values()) {
    if (p.blocked) for (const r of p.routes) if (!r.out.warnings.some((w) => w.message.startsWith(`host ${p.host}:`))) {
      warn(r.out, 'SecretNotFound', `host ${p.host}: TLS is configured but no usable certificate (${p.blocked}); it is not served`);
    }
    p.routes.sort(byLengthThenExact);
  }
  return plans;
}

export function buildIngresses(snapshot: ClusterSnapshot, settings: OperatorSettings, set: ObjectSet, names: Names, endpoints: EndpointIndex, outcomes: ObjectOutcome[]): void {
  const eligible = eligibleIngresses(snapshot, settings);
  // Passthrough Ingresses get their own L4 VSes (passthrough.ts).
  const ingresses = eligible.filter((i) => !isPassthrough(i));
  if (ingresses.length < eligible.length) buildPassthrough(snapshot, settings, { settings, set, names, endpoints }, eligible.filter(isPassthrough), outcomes);
  if (ingresses.length === 0) return;
  const subdomain = fqdnSubdomain(set.infra, settings);
  const parsed = ingresses.map((i) => parseIngress(snapshot, settings, i, subdomain));
  for (const p of parsed) outcomes.push(p.out);
  if (settings.enableEVH && settings.l7.fqdnReusePolicy === 'Strict') claimHostsStrictly(parsed);
  const ctx: Ctx = { settings, set, names, endpoints };
  const count = shardCount(settings.l7.shardVSSize);
  const plans = planHosts(parsed, count, settings.l7.shardScheme);
  // The oldest Ingress with spec.defaultBackend wins; the others are told.
  const withDefault = parsed.filter((p) => p.defaultBackend);
  for (const p of withDefault.slice(1)) warn(p.out, 'DefaultBackendConflict', `spec.defaultBackend ignored: ingress ${withDefault[0]!.ns}/${withDefault[0]!.name} (older) already sets it`);
  const defaultOwner = withDefault[0];

  /** Which VS serves each host (for status): host → [vsvip, vs]. */
  const served = new Map<string, { vsvip: string; vs: string }>();
  // The parent VS that serves spec.defaultBackend (EVH: evh.ts picks it).
  let defaultParent = count > 0 ? names.sharedL7(0) : undefined;
  if (settings.enableEVH) defaultParent = buildEvh(ctx, plans, parsed, served, subdomain, defaultOwner);
  else if (count === 0) {
    buildDedicated(ctx, plans, served);
    if (defaultOwner) warn(defaultOwner.out, 'UnsupportedBackend', 'spec.defaultBackend needs a shared parent VS: not served with shardVSSize DEDICATED');
  }
  else buildShared(ctx, plans, served, subdomain, defaultOwner);

  for (const p of parsed) {
    const hosts = new Set<string>();
    for (const r of p.routes) hosts.add(r.host);
    for (const h of p.tlsHosts.keys()) hosts.add(h);
    for (const h of [...hosts].sort()) {
      const s = served.get(h);
      const plan = plans.get(h);
      if (!s || !plan || plan.blocked) continue;
      // A host this Ingress names is listed only when one of its own routes (or its TLS) made it.
      if (!plan.routes.some((r) => r.ns === p.ns && r.ing === p.name) && !p.tlsHosts.has(h)) continue;
      p.out.vips.push({ vsvip: s.vsvip, hostname: h });
      p.out.hostVs[h] = s.vs;
      if (!p.out.virtualServices.includes(s.vs)) p.out.virtualServices.push(s.vs);
    }
    if (p === defaultOwner && defaultParent) {
      const parent = defaultParent;
      if (p.out.vips.length === 0) p.out.vips.push({ vsvip: parent });
      if (!p.out.virtualServices.includes(parent)) p.out.virtualServices.push(parent);
    }
  }
}

/** Path rules that switch to one pool (or poolgroup) per route. */
export function routeRules(ctx: Ctx, policy: string, routes: Route[], rules: unknown[], hostMatch: boolean,
  target: (r: Route) => { action: Record<string, unknown>; deps: Array<[OwnedType, string]> } | undefined, deps: Array<[OwnedType, string]>): void {
  for (const r of routes) {
    const t = target(r);
    if (!t) continue;
    deps.push(...t.deps);
    for (const path of pathMatches(r)) {
      const match: Record<string, unknown> = {};
      if (hostMatch) match.host_hdr = { match_criteria: 'HDR_EQUALS', match_case: 'INSENSITIVE', value: [r.host] };
      match.path = path;
      rules.push({ name: `${policy}-${rules.length}`, index: rules.length, enable: true, match, switching_action: t.action });
    }
  }
}

function buildShared(ctx: Ctx, plans: Map<string, HostPlan>, served: Map<string, { vsvip: string; vs: string }>, subdomain: string | undefined,
  defaultOwner: ParsedIngress | undefined): void {
  const { names, set, settings } = ctx;
  const shards = new Map<number, HostPlan[]>();
  for (const p of byHostName(plans)) {
    if (p.blocked || (p.routes.length === 0 && !p.cert)) continue;
    pushTo(shards, p.shard, p);
  }
  if (defaultOwner && !shards.has(0)) shards.set(0, []);
  const defaultPool = defaultOwner ? defaultBackendPool(ctx, defaultOwner, defaultOwner.out) : undefined;
  for (const [n, hosts] of [...shards.entries()].sort((a, b) => a[0] - b[0])) {
    const parent = names.sharedL7(n);
    const rules: unknown[] = [];
    const deps: Array<[OwnedType, string]> = [];
    const secure = hosts.filter((h) => h.cert && !h.host.startsWith('*.')).map((h) => h.host);
    if (secure.length) rules.push(redirectRule(parent, 0, secure));
    for (const h of hosts.filter((x) => !x.child)) {
      routeRules(ctx, parent, h.routes, rules, true, (r) => {
        let name = names.insecurePool(r.host, r.path, r.ns, r.ing);
        // `/a` Exact and `/a` Prefix in one Ingress would share a name: the later one says which it is.
        if (set.has('pool', name)) name += `-${r.pathType.toLowerCase()}`;
        if (nameTooLong('pool', name, r.out)) return undefined;
        pool(ctx, name, r.backend, r);
        return { action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: ref('pool', name) }, deps: [['pool', name]] };
      }, deps);
      served.set(h.host, { vsvip: parent, vs: parent });
    }
    const children: string[] = [];
    for (const h of hosts.filter((x) => x.child)) {
      const child = buildChild(ctx, h, parent);
      if (child) { children.push(child); served.set(h.host, { vsvip: parent, vs: child }); }
    }
    if (rules.length) set.add('httppolicyset', parent, { http_request_policy: { rules }, http_security_policy: {} }, [], deps);
    const vs = sharedParentVs(ctx, parent, hosts, served, subdomain, {});
    const vsDeps: Array<[OwnedType, string]> = [['vsvip', parent]];
    if (rules.length) { vs.http_policies = [{ index: 11, http_policy_set_ref: ref('httppolicyset', parent) }]; vsDeps.push(['httppolicyset', parent]); }
    if (defaultPool) { vs.pool_ref = ref('pool', defaultPool); vsDeps.push(['pool', defaultPool]); }
    vs.service_metadata = JSON.stringify({ hostnames: hosts.map((h) => h.host).filter((h) => served.has(h)) });
    set.add('virtualservice', parent, vs, [], vsDeps);
  }
}

/** A child's certificate refs: a secret's PEM becomes the object `certName` (a dependency); a HostRule ref is used as is. */
export function hostCertRefs(ctx: Ctx, h: HostPlan, certName: string, vsDeps: Array<[OwnedType, string]>): string[] {
  if (h.cert?.kind === 'pem') {
    ctx.set.add('sslkeyandcertificate', certName, { type: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', certificate: { certificate: h.cert.cert }, key: h.cert.key }, [{ key: 'Host', values: [h.host] }], []);
    vsDeps.push(['sslkeyandcertificate', certName]);
    return [ref('sslkeyandcertificate', certName)];
  }
  return h.cert?.kind === 'ref' ? [ref('sslkeyandcertificate', h.cert.name)] : [];
}

/** A host's routes by namespace (each namespace gets its own policy set), namespaces in order. */
export function routesByNamespace(routes: Route[]): Array<[string, Route[]]> {
  const byNs = new Map<string, Route[]>();
  for (const r of routes) {
    pushTo(byNs, r.ns, r);
  }
  return [...byNs.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * A shared parent's VsVip (its auto FQDN when `subdomain` is given, and the DNS names of the hosts it
 * serves) and the start of its VS body (`kind`: EVH's vh_type).
 */
export function sharedParentVs(ctx: Ctx, parent: string, hosts: HostPlan[], served: Map<string, unknown>, subdomain: string | undefined,
  kind: Record<string, unknown>): Record<string, unknown> {
  const { set, settings } = ctx;
  const fqdns: string[] = [];
  if (subdomain && settings.l4.autoFQDN !== 'disabled') {
    const tenant = set.infra.tenant.toLowerCase().replace(/_/g, '-');
    fqdns.push(settings.l4.autoFQDN === 'flat' ? `${parent}-${tenant}.${subdomain}` : `${parent}.${tenant}.${subdomain}`);
  }
  for (const h of hosts) if (!h.host.startsWith('*.') && inDnsDomains(h.host, set.infra) && served.has(h.host)) fqdns.push(h.host);
  set.add('vsvip', parent, vsvipFields(set, [...new Set(fqdns)].sort()), [], []);
  return {
    type: 'VS_TYPE_VH_PARENT',
    ...kind,
    enabled: true,
    se_group_ref: ref('serviceenginegroup', set.infra.seGroup),
    vrf_context_ref: set.vrfRef,
    application_profile_ref: ref('applicationprofile', 'System-HTTP'),
    network_profile_ref: ref('networkprofile', 'System-TCP-Proxy'),
    vsvip_ref: ref('vsvip', parent),
    services: [{ port: 80, port_range_end: 80, enable_ssl: false }, { port: 443, port_range_end: 443, enable_ssl: true }],
  };
}

/** One SNI child (secure or wildcard host): certificate, per-namespace policies, pools/poolgroups. Returns the child VS name. */
function buildChild(ctx: Ctx, h: HostPlan, parent: string): string | undefined {
  const { names, set, settings } = ctx;
  const child = names.sniChild(h.host);
  if (nameTooLong('virtualservice', child, h.routes)) return undefined;
  const vsDeps: Array<[OwnedType, string]> = [['virtualservice', parent]];
  const certRefs = hostCertRefs(ctx, h, names.tlsCert(h.host), vsDeps);
  // One policy set per namespace using the host.
  const policies: string[] = [];
  for (const [ns, routes] of routesByNamespace(h.routes)) {
    const policy = names.sniPolicy(ns, h.host);
    if (nameTooLong('httppolicyset', policy, routes)) continue;
    const rules: unknown[] = [];
    const deps: Array<[OwnedType, string]> = [];
    // Plain HTTP reaching the child by Host header is redirected too (the parent rule covers exact hosts).
    if (h.cert) rules.push(redirectRule(policy, 0));
    routeRules(ctx, policy, routes, rules, false, (r) => {
      let poolName = names.sniPool(r.ns, r.host, r.path, r.ing);
      if (set.has('pool', poolName) || set.has('pool', `${poolName}--policy-to-pool`)) poolName += `-${r.pathType.toLowerCase()}`;
      if (settings.l7.noPGForSNI) poolName += '--policy-to-pool';
      if (nameTooLong('pool', poolName, r.out)) return undefined;
      pool(ctx, poolName, r.backend, r);
      if (settings.l7.noPGForSNI) return { action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: ref('pool', poolName) }, deps: [['pool', poolName]] };
      return poolGroupOf(ctx, poolName, poolName, r);
    }, deps);
    set.add('httppolicyset', policy, { http_request_policy: { rules }, http_security_policy: {} }, [{ key: 'Namespace', values: [ns] }, { key: 'Host', values: [h.host] }], deps);
    policies.push(policy);
    vsDeps.push(['httppolicyset', policy]);
  }
  addChildVs(ctx, h, child, parent, { vh_domain_name: [h.host] }, certRefs, policies, vsDeps);
  return child;
}

/** The child VS of a host; `matching` says how the parent picks it (SNI: vh_domain_name; EVH: vh_type + vh_matches). */
export function addChildVs(ctx: Ctx, h: HostPlan, child: string, parent: string, matching: Record<string, unknown>, certRefs: string[], policies: string[],
  vsDeps: Array<[OwnedType, string]>): void {
  const { set } = ctx;
  const vs: Record<string, unknown> = {
    type: 'VS_TYPE_VH_CHILD',
    enabled: true,
    vh_parent_vs_ref: ref('virtualservice', parent),
    ...matching,
    se_group_ref: ref('serviceenginegroup', set.infra.seGroup),
    vrf_context_ref: set.vrfRef,
    application_profile_ref: ref('applicationprofile', h.cert ? 'System-Secure-HTTP' : 'System-HTTP'),
    network_profile_ref: ref('networkprofile', 'System-TCP-Proxy'),
    ign_pool_net_reach: false,
    east_west_placement: false,
  };
  if (certRefs.length) vs.ssl_key_and_certificate_refs = certRefs;
  if (policies.length) vs.http_policies = policies.map((p, i) => ({ index: 11 + i, http_policy_set_ref: ref('httppolicyset', p) }));
  vs.service_metadata = hostMetadata(h);
  set.add('virtualservice', child, vs, [{ key: 'Host', values: [h.host] }], vsDeps);
}

/** DEDICATED: one normal VS per host, with its own VIP; 443 and a certificate when secure. */
function buildDedicated(ctx: Ctx, plans: Map<string, HostPlan>, served: Map<string, { vsvip: string; vs: string }>): void {
  const { names, set } = ctx;
  for (const h of byHostName(plans)) {
    if (h.blocked || h.routes.length === 0) continue;
    const vsName = names.dedicatedVs(h.host);
    if (nameTooLong('virtualservice', vsName, h.routes)) continue;
    const rules: unknown[] = [];
    const deps: Array<[OwnedType, string]> = [];
    if (h.cert) rules.push(redirectRule(vsName, 0));
    routeRules(ctx, vsName, h.routes, rules, false, (r) => {
      let poolName = `${names.sniPool(r.ns, r.host, r.path, r.ing)}-L7-dedicated`;
      if (set.has('pool', poolName)) poolName += `-${r.pathType.toLowerCase()}`;
      if (nameTooLong('pool', poolName, r.out)) return undefined;
      pool(ctx, poolName, r.backend, r);
      return { action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: ref('pool', poolName) }, deps: [['pool', poolName]] };
    }, deps);
    set.add('httppolicyset', vsName, { http_request_policy: { rules }, http_security_policy: {} }, [{ key: 'Host', values: [h.host] }], deps);
    const fqdns = !h.host.startsWith('*.') && inDnsDomains(h.host, set.infra) ? [h.host] : [];
    set.add('vsvip', vsName, vsvipFields(set, fqdns), [{ key: 'Host', values: [h.host] }], []);
    const vsDeps: Array<[OwnedType, string]> = [['vsvip', vsName], ['httppolicyset', vsName]];
    const vs: Record<string, unknown> = {
      type: 'VS_TYPE_NORMAL',
      enabled: true,
      se_group_ref: ref('serviceenginegroup', set.infra.seGroup),
      vrf_context_ref: set.vrfRef,
      application_profile_ref: ref('applicationprofile', h.cert ? 'System-Secure-HTTP' : 'System-HTTP'),
      network_profile_ref: ref('networkprofile', 'System-TCP-Proxy'),
      vsvip_ref: ref('vsvip', vsName),
      services: h.cert ? [{ port: 80, port_range_end: 80, enable_ssl: false }, { port: 443, port_range_end: 443, enable_ssl: true }] : [{ port: 80, port_range_end: 80, enable_ssl: false }],
    };
    const certRefs = hostCertRefs(ctx, h, names.tlsCert(h.host), vsDeps);
    if (certRefs.length) vs.ssl_key_and_certificate_refs = certRefs;
    vs.http_policies = [{ index: 11, http_policy_set_ref: ref('httppolicyset', vsName) }];
    vs.service_metadata = hostMetadata(h);
    set.add('virtualservice', vsName, vs, [{ key: 'Host', values: [h.host] }], vsDeps);
    served.set(h.host, { vsvip: vsName, vs: vsName });
  }
}
