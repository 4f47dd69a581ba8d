// Services of type LoadBalancer → one L4 virtual service each (or one per shared-VIP key), with its
// VsVip, one pool per port and an L4PolicySet (ako-behaviour.md §3, avi-api.md §3.1).
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { ObjectOutcome } from './types.js';
import { ObjectSet, ref, type Marker } from './objects.js';
import { Names } from './names.js';
import { EndpointIndex } from './members.js';
import { nplRefusesSctp } from './npl.js';
import { buildInNamespaceTenant } from './tenants.js';
import { byKey, fqdnSubdomain, namespaceFilter, outcome, tooLongMessage, vsvipFields, warn } from './common.js';

export const AVI_LB_CLASS = 'ako.vmware.com/avi-lb';
const A_SHARED_VIP = 'ako.vmware.com/enable-shared-vip';
const A_LB_IP = 'ako.vmware.com/load-balancer-ip';
const A_DISABLE_TRAFFIC = 'ako.vmware.com/disable-traffic';
const A_APP_PROFILE = 'ako.vmware.com/application-profile';
const A_EXTERNAL_DNS = 'external-dns.alpha.kubernetes.io/hostname';

const MONITOR: Record<string, string> = { TCP: 'System-TCP', UDP: 'System-UDP', SCTP: 'System-SCTP' };
const PROTOCOL_ENUM: Record<string, string> = { TCP: 'PROTOCOL_TCP', UDP: 'PROTOCOL_UDP', SCTP: 'PROTOCOL_SCTP' };

/** The Service is one AKO's L4 layer handles. */
export function l4Eligible(svc: V1Service, settings: OperatorSettings, nsOk: (ns: string) => boolean): boolean {
  if (svc.spec?.type !== 'LoadBalancer' || settings.layer7Only) return false;
  if (!nsOk(svc.metadata?.namespace ?? 'default')) return false;
  const cls = svc.spec.loadBalancerClass;
  return cls ? cls === AVI_LB_CLASS : settings.l4.defaultLBController;
}

function preferredIp(svc: V1Service): string | undefined {
  return svc.spec?.loadBalancerIP || svc.metadata?.annotations?.[A_LB_IP] || undefined;
}

/** RFC 1035 label fix-up: a label must start with a letter. */
function label(s: string, prefix: string): string {
  return /^[0-9]/.test(s) ? `${prefix}${s}` : s;
}

function autoFqdns(svc: V1Service, settings: OperatorSettings, subdomain: string | undefined): string[] {
  if (settings.l4.autoFQDN === 'disabled') return [];
  const ext = svc.metadata?.annotations?.[A_EXTERNAL_DNS];
  if (ext) return ext.split(',').map((h) => h.trim()).filter(Boolean);
  if (!subdomain) return [];
  const name = label(svc.metadata?.name ?? '', 's');
  const ns = label(svc.metadata?.namespace ?? 'default', 'n');
  if (settings.l4.autoFQDN === 'flat') return [`${`${name}-${ns}`.slice(0, 63)}.${subdomain}`];
  return [`${name}.${ns}.${subdomain}`];
}

interface PortUse { svc: V1Service; port: V1ServicePort; protocol: string }

function networkProfile(protocols: Set<string>, licenseTier: string): string {
  const tcp = licenseTier === 'ENTERPRISE' || licenseTier === 'ENTERPRISE_WITH_CLOUD_SERVICES' ? 'System-TCP-Proxy' : 'System-TCP-Fast-Path';
  if (protocols.has('TCP')) return tcp;
  if (protocols.has('UDP')) return 'System-UDP-Fast-Path';
  return 'System-SCTP-Proxy';
}
const PROFILE_OF: Record<string, (tcp: string) => string> = { TCP: (tcp) => tcp, UDP: () => 'System-UDP-Fast-Path', SCTP: () => 'System-SCTP-Proxy' };

/** The L4 virtual service a Service belongs to: its own, or its namespace's shared-VIP one. */
export function l4GroupOf(svc: V1Service, names: Names): { vsName: string; sharedKey?: string } {
  const ns = svc.metadata?.namespace ?? 'default';
  const shared = svc.metadata?.annotations?.[A_SHARED_VIP];
  return shared ? { vsName: names.sharedVipVs(ns, shared), sharedKey: shared } : { vsName: names.l4Vs(ns, svc.metadata?.name ?? '') };
}

export function buildL4(snapshot: ClusterSnapshot, settings: OperatorSettings, set: ObjectSet, names: Names, endpoints: EndpointIndex, outcomes: ObjectOutcome[]): void {
  const nsOk = namespaceFilter(snapshot, settings);
  const subdomain = fqdnSubdomain(set.infra, settings);
  // Group: one VS per Service, or per (namespace, shared-VIP key); a group's shared key is its first Service's.
  const groups = new Map<string, { vsName: string; sharedKey?: string; services: V1Service[] }>();
  for (const [, svc] of byKey(snapshot.services)) {
    if (!l4Eligible(svc, settings, nsOk)) continue;
    const { vsName, sharedKey } = l4GroupOf(svc, names);
    const g = groups.get(vsName);
    if (g) g.services.push(svc);
    else groups.set(vsName, { vsName, ...(sharedKey ? { sharedKey } : {}), services: [svc] });
  }
  for (const g of groups.values()) {
    buildInNamespaceTenant(snapshot, set, g.services[0]!.metadata?.namespace ?? 'default', outcomes,
      (into, out) => buildGroup(g.vsName, g.sharedKey, g.services, settings, into, names, endpoints, subdomain, out));
  }
}

/** One L4 virtual service and what it needs, for `services` (key order) grouped under `vsName`. */
export function buildGroup(vsName: string, sharedKey: string | undefined, services: V1Service[], settings: OperatorSettings, set: ObjectSet,
  names: Names, endpoints: EndpointIndex, subdomain: string | undefined, outcomes: ObjectOutcome[]): void {
  const outs = services.map((svc) => {
    const o = outcome('Service', svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? '', svc.metadata?.uid);
    outcomes.push(o);
    return o;
  });
  const ns = services[0]!.metadata?.namespace ?? 'default';
  if (ObjectSet.tooLong(vsName)) {
    for (const o of outs) warn(o, 'NameTooLong', tooLongMessage('virtualservice', vsName));
    return;
  }
  if (nplRefusesSctp(services, outs, settings)) return;
  const ips = new Set(services.map(preferredIp).filter((x): x is string => !!x));
  if (ips.size > 1) {
    for (const o of outs) warn(o, 'SharedVipConflict', `services sharing VIP ${sharedKey} ask for different IPs (${[...ips].sort().join(', ')}): no virtual service is built`);
    return;
  }
  // Ports, in Service order; a (port, protocol) already taken in a shared VIP is refused.
  const uses: PortUse[] = [];
  const taken = new Map<string, string>();
  services.forEach((svc, i) => {
    const svcName = svc.metadata?.name ?? '';
    for (const port of svc.spec?.ports ?? []) {
      const protocol = (port.protocol || 'TCP').toUpperCase();
      if (!MONITOR[protocol]) { warn(outs[i]!, 'UnsupportedProtocol', `port ${port.port}: protocol ${protocol} is not supported`); continue; }
      const k = `${protocol}/${port.port}`;
      const owner = taken.get(k);
      if (owner !== undefined) { warn(outs[i]!, 'SharedVipConflict', `port ${protocol}/${port.port} is already used by service ${owner} on shared VIP ${sharedKey}`); continue; }
      taken.set(k, svcName);
      uses.push({ svc, port, protocol });
    }
  });
  if (uses.length === 0) {
    for (const o of outs) warn(o, 'NoPorts', 'the service has no usable port: no virtual service is built');
    return;
  }
  const protocols = new Set(uses.map((u) => u.protocol));
  const tcpProfile = networkProfile(new Set(['TCP']), set.infra.licenseTier);
  const vsProfile = networkProfile(protocols, set.infra.licenseTier);

  // Pools and the L4 policy set rules.
  const rules: unknown[] = [];
  const poolDeps: Array<['pool', string]> = [];
  for (const u of uses) {
    const svcName = u.svc.metadata?.name ?? '';
    const poolName = sharedKey ? names.sharedVipPool(ns, svcName, sharedKey, u.protocol, u.port.port) : names.l4Pool(ns, svcName, u.protocol, u.port.port);
    if (ObjectSet.tooLong(poolName)) { warn(outs[services.indexOf(u.svc)]!, 'NameTooLong', tooLongMessage('pool', poolName)); continue; }
    const markers: Marker[] = [{ key: 'Namespace', values: [ns] }, { key: 'ServiceName', values: [svcName] }, { key: 'Port', values: [String(u.port.port)] }, { key: 'Protocol', values: [u.protocol] }];
    set.add('pool', poolName, {
      vrf_ref: set.vrfRef,
      graceful_disable_timeout: 1,
      sni_enabled: false,
      service_metadata: JSON.stringify({ namespace_svc_name: [`${ns}/${svcName}`] }),
      health_monitor_refs: [ref('healthmonitor', MONITOR[u.protocol]!)],
      servers: endpoints.servers(u.svc, u.port, outs[services.indexOf(u.svc)]),
    }, markers, []);
    poolDeps.push(['pool', poolName]);
    rules.push({
      name: poolName, index: rules.length,
      match: { port: { match_criteria: 'IS_IN', ports: [u.port.port] }, protocol: { match_criteria: 'IS_IN', protocol: PROTOCOL_ENUM[u.protocol] } },
      action: { select_pool: { action_type: 'L4_RULE_ACTION_SELECT_POOL', pool_ref: ref('pool', poolName) } },
    });
  }
  const svcMarkers: Marker[] = [{ key: 'Namespace', values: [ns] }];
  if (!sharedKey) svcMarkers.push({ key: 'ServiceName', values: [services[0]!.metadata?.name ?? ''] });
  set.add('l4policyset', vsName, { l4_connection_policy: { rules } }, svcMarkers, poolDeps);

  const fqdns = [...new Set(services.flatMap((s) => autoFqdns(s, settings, subdomain)))];
  set.add('vsvip', vsName, vsvipFields(set, fqdns, [...ips][0]), svcMarkers, []);

  const annotations = services[0]!.metadata?.annotations ?? {};
  const vs: Record<string, unknown> = {
    type: 'VS_TYPE_NORMAL',
    enabled: true,
    traffic_enabled: !services.some((s) => s.metadata?.annotations?.[A_DISABLE_TRAFFIC] === 'true'),
    se_group_ref: ref('serviceenginegroup', set.infra.seGroup),
    vrf_context_ref: set.vrfRef,
    application_profile_ref: ref('applicationprofile', annotations[A_APP_PROFILE] || 'System-L4-Application'),
    network_profile_ref: ref('networkprofile', vsProfile),
    vsvip_ref: ref('vsvip', vsName),
    services: uses.map((u) => {
      const entry: Record<string, unknown> = { port: u.port.port, port_range_end: u.port.port, enable_ssl: false, enable_http2: false };
      const own = PROFILE_OF[u.protocol]!(tcpProfile);
      if (own !== vsProfile) entry.override_network_profile_ref = ref('networkprofile', own);
      return entry;
    }),
    l4_policies: [{ index: 0, l4_policy_set_ref: ref('l4policyset', vsName) }],
    remove_listening_port_on_vs_down: true,
    service_metadata: JSON.stringify({ namespace_svc_name: services.map((s) => `${ns}/${s.metadata?.name ?? ''}`) }),
  };
  set.add('virtualservice', vsName, vs, svcMarkers, [['vsvip', vsName], ['l4policyset', vsName], ...poolDeps]);
  outs.forEach((o, i) => {
    o.ports = uses.filter((u) => u.svc === services[i]).map((u) => `${u.protocol}/${u.port.port}`);
  });
  for (const o of outs) {
    o.vips.push({ vsvip: vsName, ...(fqdns[0] ? { hostname: fqdns[0] } : {}) });
    o.virtualServices.push(vsName);
    for (const f of fqdns) o.hostVs[f] = vsName;
  }
}
