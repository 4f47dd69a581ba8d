// Pool members of a Service port: ready endpoints at the target port (ClusterIP mode) or node
// addresses at the nodePort (NodePort mode), as AKO picks them (ako-behaviour.md §3).
import type { V1EndpointSlice, V1Node, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';

export interface Server {
  ip: { type: 'V4' | 'V6'; addr: string };
  port: number;
  external_uuid: string;
  enabled?: boolean;
  server_node?: string;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** EndpointSlices and nodes indexed once per translation. */
export class EndpointIndex {
  private readonly slices = new Map<string, V1EndpointSlice[]>();
  private readonly nodes: V1Node[];

  constructor(snapshot: ClusterSnapshot, private readonly settings: OperatorSettings) {
    for (const slice of snapshot.endpointSlices.values()) {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) continue;
      const key = `${slice.metadata?.namespace ?? 'default'}/${svc}`;
      const list = this.slices.get(key);
      if (list) list.push(slice);
      else this.slices.set(key, [slice]);
    }
    const { key, value } = settings.nodePortSelector;
    this.nodes = [...snapshot.nodes.values()]
      .filter((n) => !key || n.metadata?.labels?.[key] === value)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  }

  /** NodePort mode applies to this Service (unless `skipnodeport.ako.vmware.com/enabled`). */
  nodePortMode(svc: V1Service): boolean {
    return this.settings.l7.serviceType === 'NodePort' && svc.metadata?.annotations?.['skipnodeport.ako.vmware.com/enabled'] !== 'true';
  }

  servers(svc: V1Service, port: V1ServicePort): Server[] {
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const slices = this.slices.get(`${ns}/${name}`) ?? [];
    if (this.nodePortMode(svc)) return this.nodeServers(svc, port, slices);
    return endpointServers(slices, svc, port);
  }

  private nodeServers(svc: V1Service, port: V1ServicePort, slices: V1EndpointSlice[]): Server[] {
    if (!port.nodePort) return [];
    let nodes = this.nodes;
    if (svc.spec?.externalTrafficPolicy === 'Local') {
      const withEndpoints = new Set<string>();
      for (const s of slices) for (const ep of s.endpoints ?? []) if (ep.conditions?.ready !== false && ep.nodeName) withEndpoints.add(ep.nodeName);
      nodes = nodes.filter((n) => withEndpoints.has(n.metadata?.name ?? ''));
    }
    const out: Server[] = [];
    for (const n of nodes) {
      const addr = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (!addr) continue;
      out.push(server(addr, port.nodePort, n.metadata?.name));
    }
    return out;
  }
}

function server(addr: string, port: number, node?: string): Server {
  const s: Server = { ip: { type: addr.includes(':') ? 'V6' : 'V4', addr }, port, external_uuid: `${addr}:${port}` };
  if (node) s.server_node = node;
  return s;
}

/** The slice port that serves a Service port: same name, or number == targetPort, or the only one. */
function slicePort(slices: V1EndpointSlice[], slice: V1EndpointSlice, port: V1ServicePort): number | undefined {
  const ports = slice.ports ?? [];
  const byName = ports.find((p) => (p.name ?? '') === (port.name ?? '') && p.port !== undefined);
  if (byName && (port.name || ports.length === 1)) return byName.port;
  const target = typeof port.targetPort === 'number' ? port.targetPort : port.targetPort === undefined ? port.port : Number.NaN;
  const byNumber = ports.find((p) => p.port === target);
  if (byNumber) return byNumber.port;
  if (slices.length === 1 && ports.length === 1) return ports[0]!.port;
  return undefined;
}

function endpointServers(slices: V1EndpointSlice[], svc: V1Service, port: V1ServicePort): Server[] {
  const seen = new Set<string>();
  const out: Server[] = [];
  const v6 = svc.spec?.ipFamilies?.[0] === 'IPv6';
  for (const slice of slices) {
    const family = slice.addressType === 'IPv6';
    if (slice.addressType && slice.addressType !== 'FQDN' && family !== v6) continue;
    const p = slicePort(slices, slice, port);
    if (!p) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const addr = ep.addresses?.[0];
      if (!addr) continue;
      const key = `${addr}:${p}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(server(addr, p, ep.nodeName));
    }
  }
  return out.sort((a, b) => (a.external_uuid < b.external_uuid ? -1 : a.external_uuid > b.external_uuid ? 1 : 0));
}
