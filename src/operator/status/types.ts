// Where the operator reports back: the Kubernetes API (status subresource + Events) or, in
// manifest mode, an in-memory view that `portico status` reads.

export interface ObjectRef {
  kind: 'Service' | 'Ingress' | string;
  namespace: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

export interface LoadBalancerIngress {
  ip: string;
  hostname?: string;
}

export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What the operator decided for one handled Kubernetes object. */
export interface ObjectStatus {
  ref: ObjectRef;
  /** `status.loadBalancer.ingress`: empty when the object could not be served. */
  ingress: LoadBalancerIngress[];
  /** Controller virtual services that serve this object. */
  virtualServices: string[];
  /** Events that still apply (a Warning that was fixed is gone). */
  events: StatusEvent[];
  /** Annotations AKO writes on the object (e.g. `ako.vmware.com/host-fqdn-vs-uuid-map`). */
  annotations?: Record<string, string>;
}

export interface StatusSink {
  /** Replaces the status of one object (idempotent: unchanged status → no write). */
  set(status: ObjectStatus): Promise<void>;
  /** The object is no longer handled (deleted, other class): clear its status. */
  clear(ref: ObjectRef): Promise<void>;
  /** Records an Event on the object (Kubernetes) or in the view (manifests). */
  event(ref: ObjectRef, event: StatusEvent): Promise<void>;
  /**
   * Boot clean-up (AKO's status sync): removes `status.loadBalancer.ingress` and AKO's annotations
   * from an object a previous run served and this one does not, although this sink did not write them.
   */
  clearStale?(ref: ObjectRef): Promise<void>;
  /** Merge-patches annotations of a Service (`null` removes one); Kubernetes only (status/npl.ts uses it). */
  annotateService?(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}
