// Helpers shared by the L4 and L7 builders: grouping into lists, namespace filtering, the VsVip, FQDN sub-domains, and
// per-object outcomes.
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { StatusEvent } from '../status/types.js';
import type { Infra, ObjectOutcome } from './types.js';
import { ObjectSet, ref } from './objects.js';

/** Appends `value` to the list under `key`, starting it when there is none. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Namespace accepted: not in `blockedNamespaceList` and matching `namespaceSelector` (when set). */
export function namespaceFilter(snapshot: ClusterSnapshot, settings: OperatorSettings): (ns: string) => boolean {
  const blocked = new Set(settings.blockedNamespaceList);
  const { labelKey, labelValue } = settings.namespaceSelector;
  return (ns) => {
    if (blocked.has(ns)) return false;
    if (!labelKey) return true;
    return snapshot.namespaces.get(ns)?.metadata?.labels?.[labelKey] === labelValue;
  };
}

/** The DNS sub-domain for automatic FQDNs: defaultDomain when it is one of the cloud's, else the first sorted. */
export function fqdnSubdomain(infra: Infra, settings: OperatorSettings): string | undefined {
  if (infra.dnsDomains.length === 0) return undefined;
  const want = settings.network.defaultDomain.replace(/^\./, '');
  const domains = infra.dnsDomains.map((d) => d.replace(/^\./, ''));
  if (want && domains.includes(want)) return want;
  return [...domains].sort()[0];
}

/** A host inside one of the cloud DNS profile's domains gets a DNS record (others are served all the same). */
export function inDnsDomains(host: string, infra: Infra): boolean {
  return infra.dnsDomains.some((d) => {
    const dom = d.replace(/^\./, '');
    return host === dom || host.endsWith(`.${dom}`);
  });
}

export function vsvipFields(set: ObjectSet, fqdns: string[], ip?: string): Record<string, unknown> {
  const net = set.infra.vipNetworks[0];
  const vip: Record<string, unknown> = { vip_id: '0', auto_allocate_ip: true };
  if (ip) vip.ip_address = { type: ip.includes(':') ? 'V6' : 'V4', addr: ip };
  if (net) {
    vip.ipam_network_subnet = net.subnet
      ? { network_ref: ref('network', net.name), subnet: { ip_addr: { type: 'V4', addr: net.subnet.addr }, mask: net.subnet.mask } }
      : { network_ref: ref('network', net.name) };
  }
  const fields: Record<string, unknown> = { vrf_context_ref: set.vrfRef, east_west_placement: false };
  if (fqdns.length) fields.dns_info = fqdns.map((fqdn) => ({ fqdn }));
  fields.vip = [vip];
  return fields;
}

export function outcome(kind: string, ns: string, name: string, uid?: string): ObjectOutcome {
  return { ref: { kind, namespace: ns, name, ...(uid ? { uid } : {}) }, vips: [], virtualServices: [], hostVs: {}, warnings: [] };
}

export function warn(o: ObjectOutcome, reason: string, message: string): void {
  const e: StatusEvent = { type: 'Warning', reason, message };
  if (!o.warnings.some((w) => w.reason === reason && w.message === message)) o.warnings.push(e);
}

export function tooLongMessage(type: string, name: string): string {
  return `${type} name ${name.slice(0, 60)}… is ${name.length} characters, over the controller's limit of 255: not created`;
}

/** True when `name` is over the controller's limit; then each outcome (one, or each route's) gets a NameTooLong Warning. */
export function nameTooLong(type: string, name: string, who: ObjectOutcome | readonly { out: ObjectOutcome }[]): boolean {
  if (!ObjectSet.tooLong(name)) return false;
  if (Array.isArray(who)) for (const r of who) warn(r.out, 'NameTooLong', tooLongMessage(type, name));
  else warn(who as ObjectOutcome, 'NameTooLong', tooLongMessage(type, name));
  return true;
}

export function byKey<T>(map: Map<string, T>): Array<[string, T]> {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
