// Pool members of a Service port: ready endpoints at the target port (ClusterIP mode) or node
// addresses at the nodePort (NodePort mode), as AKO picks them (ako-behaviour.md §3).
import type { V1EndpointSlice, V1Node, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { PodSummary } from '../source/pods.js';
import type { ObjectOutcome } from './types.js';
import { NplIndex, nplMode } from './npl.js';
import { pushTo } from './common.js';

export interface Server {
  ip: { type: 'V4' | 'V6'; addr: string };
  port: number;
  external_uuid: string;
  enabled?: boolean;
  server_node?: string;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The EndpointSlices of one Service (`ns/name`), in name order (map order must not change members). */
export type SlicesOf = (serviceKey: string) => V1EndpointSlice[];

/** The `ns/name` of the Service an EndpointSlice belongs to (its service-name label). */
export function sliceServiceKey(slice: V1EndpointSlice): string | undefined {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata?.namespace ?? 'default'}/${svc}` : undefined;
}

const byName = (a: V1EndpointSlice, b: V1EndpointSlice) => {
  const x = a.metadata?.name ?? '';
  const y = b.metadata?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Sorts a Service's slices by name (the one order both the full and the incremental translation use). */
export function sortSlices(list: V1EndpointSlice[]): V1EndpointSlice[] {
  return list.sort(byName);
}

/** EndpointSlices and nodes indexed once per translation (or handed in by the incremental translator). */
export class EndpointIndex {
  private readonly slicesOf: SlicesOf;
  private readonly nodes: V1Node[];
  private pods: Map<string, PodSummary>;
  private npl: NplIndex | undefined;

  constructor(snapshot: ClusterSnapshot, private readonly settings: OperatorSettings, slicesOf?: SlicesOf) {
    if (slicesOf) this.slicesOf = slicesOf;
    else {
      const slices = new Map<string, V1EndpointSlice[]>();
      for (const slice of snapshot.endpointSlices.values()) {
        const key = sliceServiceKey(slice);
        if (!key) continue;
        pushTo(slices, key, slice);
      }
      for (const list of slices.values()) sortSlices(list);
      this.slicesOf = (key) => slices.get(key) ?? [];
    }
    this.pods = snapshot.pods;
    const { key, value } = settings.nodePortSelector;
    this.nodes = [...snapshot.nodes.values()]
      .filter((n) => !key || n.metadata?.labels?.[key] === value)
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  }

  /** NodePort mode applies to this Service (unless `skipnodeport.ako.vmware.com/enabled`). */
  nodePortMode(svc: V1Service): boolean {
    return this.settings.l7.serviceType === 'NodePort' && svc.metadata?.annotations?.['skipnodeport.ako.vmware.com/enabled'] !== 'true';
  }

  /** Pods changed (incremental translation): the NodePortLocal index follows them instead of being built again. */
  podsChanged(prev: Map<string, PodSummary>, now: Map<string, PodSummary>, keys: string[]): void {
    this.npl?.update(prev, now, keys);
    this.pods = now;
  }

  /** `out` is told what keeps members away (NodePortLocal not enabled, a bad pod annotation). */
  servers(svc: V1Service, port: V1ServicePort, out?: ObjectOutcome): Server[] {
    if (nplMode(this.settings)) return (this.npl ??= new NplIndex(this.pods)).servers(svc, port, out);
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const slices = this.slicesOf(`${ns}/${name}`);
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
