// Status of each handled Service/Ingress after a sync pass: VIPs from the VsVips the controller
// allocated, hostnames, AKO's annotations, and Events (Synced, or a Warning saying why not).
import type { ObjectOutcome } from '../translate/types.js';
import type { ControllerState } from '../sync/state.js';
import type { SyncFailure } from '../sync/sync.js';
import type { LoadBalancerIngress, ObjectStatus, StatusEvent } from './types.js';

function failureEvent(f: SyncFailure): StatusEvent {
  if (f.errorClass === 'ip-exhausted') return { type: 'Warning', reason: 'NoFreeIP', message: `no VIP could be allocated for ${f.name}: ${f.message}` };
  return { type: 'Warning', reason: 'SyncFailed', message: `${f.type} ${f.name}: ${f.message}` };
}

export function computeStatus(o: ObjectOutcome, state: ControllerState, failed: Map<string, SyncFailure>, tenant: string, clusterUuid?: string): ObjectStatus {
  const events: StatusEvent[] = [...o.warnings];
  const ingress: LoadBalancerIngress[] = [];
  const seen = new Set<string>();
  const addEvent = (e: StatusEvent) => { if (!events.some((x) => x.reason === e.reason && x.message === e.message)) events.push(e); };
  for (const v of o.vips) {
    const vs = v.hostname && o.hostVs[v.hostname] ? o.hostVs[v.hostname]! : o.virtualServices[0];
    const vsFailure = vs ? failed.get(`virtualservice/${vs}`) : undefined;
    const vipFailure = failed.get(`vsvip/${v.vsvip}`);
    if (vipFailure) { addEvent(failureEvent(vipFailure)); continue; }
    if (vsFailure) { addEvent(failureEvent(vsFailure)); continue; }
    const ip = state.vip(v.vsvip);
    if (!ip || (vs && !state.get('virtualservice', vs))) continue;
    const k = `${ip}\n${v.hostname ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    ingress.push(v.hostname ? { ip, hostname: v.hostname } : { ip });
  }
  const synced = o.virtualServices.filter((vs) => state.get('virtualservice', vs));
  if (ingress.length > 0) {
    const what = `${o.ref.namespace}/${o.ref.name}`;
    events.unshift({ type: 'Normal', reason: 'Synced', message: `Added virtualservice ${synced.join(', ')} for ${what}` });
  }
  const annotations: Record<string, string> = {};
  const map: Record<string, string> = {};
  for (const [fqdn, vs] of Object.entries(o.hostVs)) {
    const uuid = state.get('virtualservice', vs)?.uuid;
    if (uuid && ingress.some((i) => i.hostname === fqdn)) map[fqdn] = uuid;
  }
  if (Object.keys(map).length) {
    annotations['ako.vmware.com/host-fqdn-vs-uuid-map'] = JSON.stringify(map);
    if (clusterUuid) annotations['ako.vmware.com/controller-cluster-uuid'] = clusterUuid;
    annotations['ako.vmware.com/tenant-name'] = tenant;
  }
  return {
    ref: o.ref,
    ingress,
    virtualServices: synced,
    events,
    ...(Object.keys(annotations).length ? { annotations } : {}),
  };
}

/** The `portico status -o json` item for one status (INTERFACES.md). */
export function statusItem(s: ObjectStatus): Record<string, unknown> {
  return {
    kind: s.ref.kind, namespace: s.ref.namespace, name: s.ref.name,
    loadBalancer: { ingress: s.ingress }, virtualServices: s.virtualServices, events: s.events,
  };
}
