// Pod CIDRs from the CNI's own objects, as AKO reads them for static routes (ako-behaviour.md §1,
// "Static routes"): with its own IPAM a CNI does not use node.spec.podCIDRs, so the routes must
// follow what it allocated. Calico (and canal): BlockAffinity `spec.node` → `spec.cidr` for
// confirmed blocks; Cilium: CiliumNode `spec.ipam.podCIDRs`; OpenShift SDN: HostSubnet `host` →
// `subnet`; OVN-Kubernetes: the node annotation `k8s.ovn.org/node-subnets`. Pure functions of the
// objects the sources put in the snapshot.
import type { V1Node } from '@kubernetes/client-node';

/** A cluster-scoped kind of the CNI's API group that the Kubernetes source watches when it is served. */
export interface CniKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
}

const CALICO: CniKind = { kind: 'BlockAffinity', group: 'crd.projectcalico.org', version: 'v1', plural: 'blockaffinities' };
const CILIUM: CniKind = { kind: 'CiliumNode', group: 'cilium.io', version: 'v2', plural: 'ciliumnodes' };
const OPENSHIFT: CniKind = { kind: 'HostSubnet', group: 'network.openshift.io', version: 'v1', plural: 'hostsubnets' };
/** The API versions a manifest folder may hold these kinds in. */
export const CNI_API_VERSIONS: Record<string, string> = {
  BlockAffinity: 'crd.projectcalico.org/v1',
  CiliumNode: 'cilium.io/v2',
  HostSubnet: 'network.openshift.io/v1',
};

export const OVN_SUBNETS_ANNOTATION = 'k8s.ovn.org/node-subnets';

/** The kind to watch for `cniPlugin`, if that CNI keeps Pod CIDRs in objects of its own. */
export function cniKind(cniPlugin: string): CniKind | undefined {
  switch (cniPlugin.toLowerCase()) {
    case 'calico':
    case 'canal':
      return CALICO;
    case 'cilium':
      return CILIUM;
    case 'openshift':
      return OPENSHIFT;
    default:
      return undefined;
  }
}

type Obj = { metadata?: { name?: string }; spec?: Record<string, unknown>; [k: string]: unknown };

/**
 * Node name → Pod CIDRs from the CNI's objects, or undefined when `cniPlugin` takes them from the
 * node itself (spec.podCIDRs). Each node's CIDRs come sorted, so the routes do not depend on the
 * order objects were listed in.
 */
export function cniPodCidrs(cniPlugin: string, custom: ReadonlyMap<string, ReadonlyMap<string, unknown>>): Map<string, string[]> | undefined {
  const kind = cniKind(cniPlugin);
  if (!kind) return undefined;
  const out = new Map<string, string[]>();
  const add = (node: unknown, cidr: unknown): void => {
    if (typeof node !== 'string' || !node || typeof cidr !== 'string' || !cidr) return;
    let list = out.get(node);
    if (!list) out.set(node, (list = []));
    if (!list.includes(cidr)) list.push(cidr);
  };
  for (const o of (custom.get(kind.kind)?.values() ?? []) as Iterable<Obj>) {
    if (kind === CALICO) {
      // Blocks being claimed or released are not routed yet / any more.
      const s = o.spec ?? {};
      if (s.state === 'confirmed' && String(s.deleted ?? 'false') !== 'true') add(s.node, s.cidr);
    } else if (kind === CILIUM) {
      const cidrs = (o.spec?.ipam as { podCIDRs?: unknown } | undefined)?.podCIDRs;
      if (Array.isArray(cidrs)) for (const c of cidrs) add(o.metadata?.name, c);
    } else {
      add(o.host, o.subnet);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** OVN-Kubernetes: `{"default":"10.128.0.0/23"}` or `{"default":["10.128.0.0/23", …]}`; undefined when absent or unreadable. */
export function ovnNodeSubnets(node: V1Node): string[] | undefined {
  const raw = node.metadata?.annotations?.[OVN_SUBNETS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const v = (JSON.parse(raw) as { default?: unknown }).default;
    const list = Array.isArray(v) ? v : [v];
    return list.every((c) => typeof c === 'string') ? (list as string[]) : undefined;
  } catch {
    return undefined;
  }
}
