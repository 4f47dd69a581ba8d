// The operator's input: one snapshot of the Kubernetes objects it cares about, the same whether
// it comes from a cluster (informers) or from a manifest folder. Providers fill it; the pure
// translator (src/operator/translate) reads it.
import type {
  V1Service, V1EndpointSlice, V1Ingress, V1IngressClass, V1Secret, V1Namespace, V1Node,
} from '@kubernetes/client-node';
import type { PodSummary } from './pods.js';

/** An object of an ako.vmware.com CRD (HostRule, HTTPRule, AviInfraSetting, L4Rule, …), untyped. */
export interface CustomObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; generation?: number; creationTimestamp?: string | Date; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Objects are keyed `namespace/name` (cluster-scoped kinds: `name`). */
export interface ClusterSnapshot {
  services: Map<string, V1Service>;
  /** EndpointSlices (manifest-folder Endpoints are converted to slices by the provider). */
  endpointSlices: Map<string, V1EndpointSlice>;
  /** networking.k8s.io/v1 (v1beta1 from manifests is converted by the provider). */
  ingresses: Map<string, V1Ingress>;
  ingressClasses: Map<string, V1IngressClass>;
  secrets: Map<string, V1Secret>;
  namespaces: Map<string, V1Namespace>;
  nodes: Map<string, V1Node>;
  /** Pod summaries: filled only with L7Settings.serviceType NodePortLocal (empty otherwise). */
  pods: Map<string, PodSummary>;
  /** CRD objects by kind (`HostRule`, `HTTPRule`, `AviInfraSetting`, `L4Rule`, …); empty when the CRD is absent. */
  custom: Map<string, Map<string, CustomObject>>;
}

export function emptySnapshot(): ClusterSnapshot {
  return {
    services: new Map(), endpointSlices: new Map(), ingresses: new Map(), ingressClasses: new Map(),
    secrets: new Map(), namespaces: new Map(), nodes: new Map(), pods: new Map(), custom: new Map(),
  };
}

/** A problem found while reading the source (a file that does not parse, an object of a wrong shape). */
export interface SourceProblem {
  /** `file.yaml:12` for manifests, `Kind ns/name` for cluster objects. */
  where: string;
  message: string;
}

/** A source of snapshots: the Kubernetes API (informers) or a manifest folder (fs watch). */
export interface SnapshotProvider {
  /** Starts watching; `onChange` gets the full current snapshot after the initial sync and after every change (debounced). */
  start(onChange: (snapshot: ClusterSnapshot, problems: SourceProblem[]) => void): Promise<void>;
  stop(): Promise<void>;
}
