// Boot-time status clean-up, as AKO's SyncObjectStatuses: once the first pass as leader is done,
// Services and Ingresses that an earlier run served (they carry its status or annotations) but that
// this run does not serve (the namespace is now blocked, layer7Only turned on, the Ingress class or
// rules changed while the operator was down, deleteConfig) lose that stale status. Objects served
// now were already refreshed by the pass itself (the sink compares with what the object holds).
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import { AVI_LB_CLASS } from '../translate/l4.js';
import { aviClasses } from '../translate/ingress-parse.js';
import { AKO_ANNOTATIONS } from './kubernetes.js';
import { statusKey } from './memory.js';
import type { ObjectRef, StatusSink } from './types.js';

const CLUSTER_UUID = 'ako.vmware.com/controller-cluster-uuid';

type Served = V1Service | V1Ingress;

function hasAkoMarks(o: Served, clusterUuid: string | undefined): boolean | undefined {
  const ann = o.metadata?.annotations ?? {};
  // Written by an operator of another controller: not ours to clear.
  if (clusterUuid && ann[CLUSTER_UUID] && ann[CLUSTER_UUID] !== clusterUuid) return false;
  return AKO_ANNOTATIONS.some((k) => k in ann) || undefined;
}

const hasIngress = (o: Served) => (o.status?.loadBalancer?.ingress?.length ?? 0) > 0;

/**
 * Services and Ingresses not in `served` whose status an earlier run of this operator wrote: they
 * carry AKO's annotations, or a status while their class is this operator's (a LoadBalancer
 * Service of class `ako.vmware.com/avi-lb` or none with defaultLBController, an Ingress of an
 * IngressClass of `ako.vmware.com/avi-lb`): no other controller writes those.
 */
export function staleStatusRefs(snapshot: ClusterSnapshot, served: Set<string>, settings: OperatorSettings, clusterUuid?: string): ObjectRef[] {
  const out: ObjectRef[] = [];
  const add = (kind: string, o: Served, ourClass: boolean) => {
    const ref = { kind, namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '' };
    if (served.has(statusKey(ref))) return;
    const marks = hasAkoMarks(o, clusterUuid);
    if (marks === false) return;
    if (marks || (ourClass && hasIngress(o))) out.push(o.metadata?.uid ? { ...ref, uid: o.metadata.uid } : ref);
  };
  for (const svc of snapshot.services.values()) {
    const cls = svc.spec?.loadBalancerClass;
    add('Service', svc, svc.spec?.type === 'LoadBalancer' && (cls ? cls === AVI_LB_CLASS : settings.l4.defaultLBController));
  }
  const classes = aviClasses(snapshot);
  for (const ing of snapshot.ingresses.values()) {
    const cls = ing.spec?.ingressClassName;
    add('Ingress', ing, cls ? classes.names.has(cls) : classes.hasDefault);
  }
  return out;
}

/** Clears the stale statuses; returns the objects cleared. A failure on one is reported and the rest go on. */
export async function sweepStaleStatuses(
  snapshot: ClusterSnapshot, served: Iterable<ObjectRef>, sink: StatusSink, settings: OperatorSettings,
  clusterUuid: string | undefined, onError: (ref: ObjectRef, err: Error) => void,
): Promise<ObjectRef[]> {
  if (!sink.clearStale) return [];
  const keys = new Set<string>();
  for (const r of served) keys.add(statusKey(r));
  const stale = staleStatusRefs(snapshot, keys, settings, clusterUuid);
  const cleared: ObjectRef[] = [];
  for (const ref of stale) {
    try {
      await sink.clearStale(ref);
      cleared.push(ref);
    } catch (err) {
      onError(ref, err as Error);
    }
  }
  return cleared;
}
