// Pods, for L7Settings.serviceType NodePortLocal only (Antrea NPL: pool members are the
// nodeIP:nodePort pairs Antrea writes on each pod). The snapshot keeps a summary of each pod, not
// the pod: its name, labels, the NPL annotation, readiness and named container ports are all the
// translation reads, and pods are many and big (spec, status, managedFields).

/** Antrea's pod annotation: a JSON array of {podPort, nodeIP, nodePort, protocol(s)}. */
export const NPL_POD_ANNOTATION = 'nodeportlocal.antrea.io';

export interface PodPort {
  name: string;
  port: number;
  /** `TCP` / `UDP` / `SCTP`. */
  protocol: string;
}

/** What the snapshot holds of a pod. */
export interface PodSummary {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    /** Only the NPL annotation is kept. */
    annotations?: { [NPL_POD_ANNOTATION]?: string };
  };
  /** Condition Ready is True and the pod is not terminating (a manifest pod without status counts as ready). */
  ready: boolean;
  /** Named container ports: a Service's named targetPort resolves through them. */
  namedPorts?: PodPort[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function podReady(status: unknown, terminating: boolean): boolean {
  if (terminating) return false;
  if (!isObj(status)) return true;
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready = conditions.find((c) => isObj(c) && c.type === 'Ready') as Obj | undefined;
  // A phase without a Ready condition (manifests often give only `phase: Running`).
  if (!ready) return conditions.length === 0 && (status.phase === undefined || status.phase === 'Running');
  return ready.status === 'True';
}

function namedPorts(spec: unknown): PodPort[] | undefined {
  if (!isObj(spec)) return undefined;
  const out: PodPort[] = [];
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isObj(c) || !Array.isArray(c.ports)) continue;
    for (const p of c.ports) {
      if (!isObj(p) || typeof p.name !== 'string' || !p.name || typeof p.containerPort !== 'number') continue;
      out.push({ name: p.name, port: p.containerPort, protocol: typeof p.protocol === 'string' ? p.protocol.toUpperCase() : 'TCP' });
    }
  }
  return out.length ? out : undefined;
}

/** The summary of a pod (a V1Pod from the API, or a Pod document of a manifest). */
export function summarizePod(pod: Obj): PodSummary {
  const meta = (isObj(pod.metadata) ? pod.metadata : {}) as Obj & { annotations?: Record<string, string> };
  const npl = isObj(meta.annotations) ? meta.annotations[NPL_POD_ANNOTATION] : undefined;
  const out: PodSummary = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: String(meta.name ?? ''), namespace: String(meta.namespace ?? 'default') },
    ready: podReady(pod.status, meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null),
  };
  if (typeof meta.uid === 'string') out.metadata.uid = meta.uid;
  if (typeof meta.resourceVersion === 'string') out.metadata.resourceVersion = meta.resourceVersion;
  if (isObj(meta.labels)) out.metadata.labels = meta.labels as Record<string, string>;
  if (typeof npl === 'string') out.metadata.annotations = { [NPL_POD_ANNOTATION]: npl };
  const ports = namedPorts(pod.spec);
  if (ports) out.namedPorts = ports;
  return out;
}

/**
 * A watched pod: its summary for the snapshot, and the informer's own copy cut down to what the
 * informer's cache reads (namespace, name, resourceVersion), so full pods are not kept twice.
 */
export function summarizeWatchedPod(pod: Obj): PodSummary {
  const summary = summarizePod(pod);
  // Fields set to undefined, not deleted: the object keeps its shape (deleting makes V8 slower).
  pod.spec = undefined;
  pod.status = undefined;
  if (isObj(pod.metadata)) {
    const m = pod.metadata;
    m.annotations = undefined;
    m.managedFields = undefined;
    m.ownerReferences = undefined;
    m.labels = undefined;
  }
  return summary;
}
