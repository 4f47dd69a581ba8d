// Passthrough Ingresses (`passthrough.ako.vmware.com/enabled: "true"`, ako-behaviour.md §2.3, §4):
// every host goes to passthrough handling and TLS is ignored (the backends terminate it). Per
// shard N (FNV-1a of the host masked to passthroughShardSize): a shared L4 VS
// `P + "Shared-Passthrough-" + N` on 443 whose vsdatascriptset selects the pool group `P + <sni>`,
// its vsvip, per host a pool group `P + <host>` with pools `P + <host> + "-" + <svc>`, and an
// insecure companion VS `<name>-insecure` on 80 sharing the vsvip, redirecting each host to HTTPS.
import type { V1Ingress } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { ObjectOutcome, OwnedType } from './types.js';
import { ref } from './objects.js';
import { shardCount, shardOf } from './names.js';
import { inDnsDomains, nameTooLong, pushTo, vsvipFields, warn } from './common.js';
import { parseIngress, type Route } from './ingress-parse.js';
import { byHostName, pool, redirectRule, type Ctx } from './ingress.js';
import { akoPassthroughScript } from '../../engine/l4/passthrough.js';

export const A_PASSTHROUGH = 'passthrough.ako.vmware.com/enabled';

export function isPassthrough(ing: V1Ingress): boolean {
  return ing.metadata?.annotations?.[A_PASSTHROUGH] === 'true';
}

const NO_HOST = /^(rules\[\d+\]) has no host\b.*$/;

interface HostPlan { host: string; routes: Route[] }

/** Builds the passthrough objects of `ingresses` (eligible, oldest first) and their outcomes. */
export function buildPassthrough(snapshot: ClusterSnapshot, settings: OperatorSettings, ctx: Ctx, ingresses: V1Ingress[], outcomes: ObjectOutcome[]): void {
  // The oldest Ingress naming a host serves it; paths are meaningless (TLS is not terminated), so every backend of the host joins its pool group.
  const hosts = new Map<string, HostPlan & { owner: string }>();
  const parsed = ingresses.map((ing) => {
    // No generated host name: passthrough routes by the SNI name the client asks for.
    const p = parseIngress(snapshot, settings, ing, undefined);
    for (const w of p.out.warnings) if (w.reason === 'InvalidHost') w.message = w.message.replace(NO_HOST, '$1 has no host: a passthrough Ingress is routed by the TLS SNI host name');
    if (p.defaultBackend) warn(p.out, 'UnsupportedBackend', 'spec.defaultBackend is not used by a passthrough Ingress: connections are routed by SNI host only');
    outcomes.push(p.out);
    const owner = `${p.ns}/${p.name}`;
    for (const r of p.routes) {
      if (r.host.startsWith('*.')) { warn(r.out, 'InvalidHost', `host ${r.host}: a passthrough Ingress routes by the exact SNI name; wildcard hosts are not served`); continue; }
      const h = hosts.get(r.host);
      if (!h) hosts.set(r.host, { host: r.host, routes: [r], owner });
      else if (h.owner === owner) h.routes.push(r);
      else warn(r.out, 'DuplicateHost', `passthrough host ${r.host} is already served by ingress ${h.owner}`);
    }
    return p;
  });
  const count = Math.max(1, shardCount(settings.l7.passthroughShardSize));
  const shards = new Map<number, HostPlan[]>();
  for (const h of byHostName(hosts)) {
    const n = shardOf(h.host, count);
    pushTo(shards, n, h);
  }
  /** host → the passthrough VS serving it. */
  const served = new Map<string, string>();
  for (const [n, list] of [...shards.entries()].sort((a, b) => a[0] - b[0])) buildShard(ctx, ctx.names.sharedPassthrough(n), list, served);
  for (const p of parsed) {
    for (const host of [...new Set(p.routes.map((r) => r.host))].sort()) {
      const vs = served.get(host);
      if (!vs || hosts.get(host)?.owner !== `${p.ns}/${p.name}`) continue;
      p.out.vips.push({ vsvip: vs, hostname: host });
      p.out.hostVs[host] = vs;
      if (!p.out.virtualServices.includes(vs)) p.out.virtualServices.push(vs);
    }
  }
}

/** One shard: pool groups and pools per host, then the datascript set, vsvip, the L4 VS and its insecure companion. */
function buildShard(ctx: Ctx, vsName: string, hosts: HostPlan[], served: Map<string, string>): void {
  const { set, names } = ctx;
  if (hosts.some((h) => nameTooLong('virtualservice', `${vsName}-insecure`, h.routes))) return;
  const groups: string[] = [];
  const shardHosts: string[] = [];
  for (const h of hosts) {
    const pg = `${names.prefix}${h.host}`;
    if (nameTooLong('poolgroup', pg, h.routes)) continue;
    const members: Array<Record<string, unknown>> = [];
    const deps: Array<[OwnedType, string]> = [];
    for (const r of h.routes) {
      const poolName = `${pg}-${r.backend.svc.metadata?.name ?? ''}`;
      if (set.has('pool', poolName) || nameTooLong('pool', poolName, h.routes)) continue;
      pool(ctx, poolName, r.backend, { ns: r.ns, ing: r.ing, host: r.host, out: r.out });
      members.push({ pool_ref: ref('pool', poolName), ratio: 100 });
      deps.push(['pool', poolName]);
    }
    if (members.length === 0) continue;
    const r0 = h.routes[0]!;
    set.add('poolgroup', pg, { members, implicit_priority_labels: false },
      [{ key: 'Namespace', values: [r0.ns] }, { key: 'Host', values: [h.host] }, { key: 'IngressName', values: [r0.ing] }], deps);
    groups.push(pg);
    shardHosts.push(h.host);
    served.set(h.host, vsName);
  }
  if (groups.length === 0) return;
  set.add('vsdatascriptset', vsName, {
    datascript: [{ evt: 'VS_DATASCRIPT_EVT_L4_REQUEST', script: akoPassthroughScript(names.prefix) }],
    pool_group_refs: groups.map((g) => ref('poolgroup', g)),
    protocol_parser_refs: [ref('protocolparser', 'Default-TLS')],
  }, [], groups.map((g) => ['poolgroup', g] as [OwnedType, string]));
  set.add('vsvip', vsName, vsvipFields(set, shardHosts.filter((h) => inDnsDomains(h, set.infra))), [], []);
  const metadata = JSON.stringify({ hostnames: shardHosts });
  // Both VSes share the vsvip: 443 passes TLS through, 80 redirects every host to HTTPS.
  const vs = (name: string, app: string, port: number, fields: Record<string, unknown>, dep: [OwnedType, string]) => set.add('virtualservice', name, {
    type: 'VS_TYPE_NORMAL', enabled: true, se_group_ref: ref('serviceenginegroup', set.infra.seGroup), vrf_context_ref: set.vrfRef,
    application_profile_ref: ref('applicationprofile', app),
    network_profile_ref: ref('networkprofile', 'System-TCP-Proxy'),
    vsvip_ref: ref('vsvip', vsName),
    services: [{ port, port_range_end: port, enable_ssl: false }],
    ...fields,
    service_metadata: metadata,
  }, [], [['vsvip', vsName], dep]);
  vs(vsName, 'System-L4-Application', 443, { vs_datascripts: [{ index: 0, vs_datascript_set_ref: ref('vsdatascriptset', vsName) }] }, ['vsdatascriptset', vsName]);
  const insecure = `${vsName}-insecure`;
  set.add('httppolicyset', insecure, { http_request_policy: { rules: [redirectRule(insecure, 0, shardHosts)] }, http_security_policy: {} }, [], []);
  vs(insecure, 'System-HTTP', 80, { http_policies: [{ index: 11, http_policy_set_ref: ref('httppolicyset', insecure) }] }, ['httppolicyset', insecure]);
}
