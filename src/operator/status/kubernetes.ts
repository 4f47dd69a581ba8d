// The status sink of cluster mode, as AKO writes it back: `status.loadBalancer.ingress` of Services
// and Ingresses through the status subresource (JSON merge patch, only when it differs), AKO's
// annotations on the object (merge patch, only when they differ), and core/v1 Events, repeated ones
// folded into one Event whose count goes up.
import {
  CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions,
  type CoreV1Event, type KubeConfig, type V1LoadBalancerIngress,
} from '@kubernetes/client-node';
import { statusKey } from './memory.js';
import type { LoadBalancerIngress, ObjectRef, ObjectStatus, StatusEvent, StatusSink } from './types.js';

/** Annotations AKO writes; removed from an object when the new status no longer carries them. */
export const AKO_ANNOTATIONS = [
  'ako.vmware.com/host-fqdn-vs-uuid-map',
  'ako.vmware.com/controller-cluster-uuid',
  'ako.vmware.com/tenant-name',
] as const;

export interface StatusLogger {
  warn(msg: string): void;
  debug?(msg: string): void;
}

export interface KubernetesStatusSinkOptions {
  /** `source.component` / `reportingComponent` of Events (default `ako`, as AKO's). */
  component?: string;
  /** `reportingInstance` of Events (default: the host name). */
  instance?: string;
  logger?: StatusLogger;
  /** Events remembered for folding repeats (oldest forgotten first; default 5000). */
  maxRememberedEvents?: number;
}

/** AKO's verdict on one of its CRD objects (HostRule, HTTPRule, AviInfraSetting, L4Rule, …). */
export interface CrdStatus {
  status: 'Accepted' | 'Rejected';
  /** Why it was rejected ('' when accepted). */
  error?: string;
}

export interface KubernetesStatusSink extends StatusSink {
  /** Forgets what was written, so the next `set` of each object reads it again (e.g. on a full sync). */
  invalidate(): void;
  /**
   * Writes `status.status` and `status.error` of an ako.vmware.com object through its status
   * subresource, as AKO does, only when they differ. `ref.apiVersion` is required
   * (`ako.vmware.com/v1beta1`); an empty `ref.namespace` means a cluster-scoped kind.
   */
  crdStatus(ref: ObjectRef, status: CrdStatus): Promise<void>;
}

interface Written {
  fingerprint: string;
  annotationKeys: string[];
  events: StatusEvent[];
}

interface ReadObject {
  metadata?: { annotations?: Record<string, string> };
  status?: { loadBalancer?: { ingress?: V1LoadBalancerIngress[] } };
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const MAX_EVENT_MESSAGE = 1024;

function normalize(ingress: Array<LoadBalancerIngress | V1LoadBalancerIngress> | undefined): LoadBalancerIngress[] {
  return (ingress ?? []).map((i) => (i.hostname ? { ip: i.ip ?? '', hostname: i.hostname } : { ip: i.ip ?? '' }));
}

function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function sameEvent(a: StatusEvent, b: StatusEvent): boolean {
  return a.type === b.type && a.reason === b.reason && a.message === b.message;
}

class KubernetesSink implements KubernetesStatusSink {
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly written = new Map<string, Written>();
  /** Per object, the write in progress: writes to one object run one after the other. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Event fold key → the Event object holding it, most recent last. */
  private readonly recorded = new Map<string, { name: string; namespace: string; count: number }>();
  private sequence = 0;

  constructor(kc: KubeConfig, private readonly opts: KubernetesStatusSinkOptions) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  set(status: ObjectStatus): Promise<void> {
    return this.serialize(statusKey(status.ref), () => this.write(status));
  }

  clear(ref: ObjectRef): Promise<void> {
    return this.serialize(statusKey(ref), () => this.wipe(ref, false));
  }

  clearStale(ref: ObjectRef): Promise<void> {
    return this.serialize(statusKey(ref), () => this.wipe(ref, true));
  }

  async event(ref: ObjectRef, event: StatusEvent): Promise<void> {
    try {
      await this.recordEvent(ref, event);
    } catch (err) {
      // An Event is a note: failing to write one must not fail the sync that produced it.
      this.opts.logger?.warn(`could not record ${event.type} event ${event.reason} on ${ref.kind} ${ref.namespace}/${ref.name}: ${(err as Error).message}`);
    }
  }

  annotateService(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void> {
    const ref = { kind: 'Service', namespace, name };
    return this.serialize(statusKey(ref), () => this.patchObject(ref, { metadata: { annotations } }));
  }

  crdStatus(ref: ObjectRef, status: CrdStatus): Promise<void> {
    return this.serialize(statusKey(ref), () => this.writeCrdStatus(ref, status));
  }

  private async writeCrdStatus(ref: ObjectRef, wanted: CrdStatus): Promise<void> {
    const [group, version] = (ref.apiVersion ?? '').split('/');
    if (!group || !version) throw new Error(`crdStatus: ${ref.kind} ${ref.namespace}/${ref.name}: ref.apiVersion must be <group>/<version>`);
    const key = statusKey(ref);
    const body = { status: { status: wanted.status, error: wanted.error ?? '' } };
    const fingerprint = JSON.stringify(body);
    if (this.written.get(key)?.fingerprint === fingerprint) return;
    const p = { group, version, plural: `${ref.kind.toLowerCase()}s`, name: ref.name };
    const at = ref.namespace ? { ...p, namespace: ref.namespace } : undefined;
    try {
      const current = (at ? await this.custom.getNamespacedCustomObject(at) : await this.custom.getClusterCustomObject(p)) as { status?: { status?: string; error?: string } };
      if (current.status?.status !== body.status.status || (current.status?.error ?? '') !== body.status.error) {
        if (at) await this.custom.patchNamespacedCustomObjectStatus({ ...at, body }, MERGE_PATCH);
        else await this.custom.patchClusterCustomObjectStatus({ ...p, body }, MERGE_PATCH);
      }
    } catch (err) {
      if (errorCode(err) === 404) { this.written.delete(key); return; }
      throw this.failure('write the status of', ref, err);
    }
    this.written.set(key, { fingerprint, annotationKeys: [], events: this.written.get(key)?.events ?? [] });
  }

  invalidate(): void {
    for (const w of this.written.values()) w.fingerprint = '';
  }

  private serialize(key: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(key) ?? Promise.resolve()).then(work);
    // The queue keeps a promise that never rejects: the caller handles the failure, not the queue.
    const settled = next.then(() => undefined, () => undefined);
    this.queues.set(key, settled);
    void settled.then(() => { if (this.queues.get(key) === settled) this.queues.delete(key); });
    return next;
  }

  private async write(status: ObjectStatus): Promise<void> {
    const { ref } = status;
    const key = statusKey(ref);
    const ingress = normalize(status.ingress);
    const annotations = status.annotations ?? {};
    const fingerprint = JSON.stringify([ingress, Object.entries(annotations).sort()]);
    const before = this.written.get(key);
    if (before?.fingerprint !== fingerprint && this.supports(ref.kind)) {
      const obj = await this.read(ref);
      if (!obj) { this.written.delete(key); return; }
      if (JSON.stringify(normalize(obj.status?.loadBalancer?.ingress)) !== JSON.stringify(ingress)) {
        await this.patchStatus(ref, { status: { loadBalancer: { ingress } } });
      }
      const forget = new Set<string>([...AKO_ANNOTATIONS, ...(before?.annotationKeys ?? [])]);
      await this.patchAnnotations(ref, obj, annotations, forget);
    }
    this.written.set(key, { fingerprint, annotationKeys: Object.keys(annotations), events: before?.events ?? [] });
    // Events that are new for this object; one that still applies is not repeated on every sync.
    const events = status.events ?? [];
    for (const e of events) if (!(before?.events ?? []).some((x) => sameEvent(x, e))) await this.event(ref, e);
    this.written.get(key)!.events = events.map((e) => ({ ...e }));
  }

  /**
   * Removes the status this sink wrote and AKO's annotations; a status written by someone else is
   * left alone unless `stale` (the caller established that an earlier run of the operator wrote it).
   */
  private async wipe(ref: ObjectRef, stale: boolean): Promise<void> {
    const key = statusKey(ref);
    const before = this.written.get(key);
    this.written.delete(key);
    if (!this.supports(ref.kind)) return;
    const obj = await this.read(ref);
    if (!obj) return;
    if ((before || stale) && normalize(obj.status?.loadBalancer?.ingress).length > 0) {
      await this.patchStatus(ref, { status: { loadBalancer: { ingress: null } } });
    }
    await this.patchAnnotations(ref, obj, {}, new Set([...AKO_ANNOTATIONS, ...(before?.annotationKeys ?? [])]));
  }

  private async patchAnnotations(ref: ObjectRef, obj: ReadObject, wanted: Record<string, string>, forget: Set<string>): Promise<void> {
    const current = obj.metadata?.annotations ?? {};
    const patch: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(wanted)) if (current[k] !== v) patch[k] = v;
    for (const k of forget) if (!(k in wanted) && k in current) patch[k] = null;
    if (Object.keys(patch).length > 0) await this.patchObject(ref, { metadata: { annotations: patch } });
  }

  private supports(kind: string): boolean {
    return kind === 'Service' || kind === 'Ingress';
  }

  private async read(ref: ObjectRef): Promise<ReadObject | undefined> {
    try {
      const p = { name: ref.name, namespace: ref.namespace };
      return ref.kind === 'Service' ? await this.core.readNamespacedService(p) : await this.networking.readNamespacedIngress(p);
    } catch (err) {
      if (errorCode(err) === 404) return undefined;
      throw this.failure('read', ref, err);
    }
  }

  private patchStatus(ref: ObjectRef, body: object): Promise<void> {
    return this.mergePatch(ref, body, true);
  }

  private patchObject(ref: ObjectRef, body: object): Promise<void> {
    return this.mergePatch(ref, body, false);
  }

  /** A JSON merge patch on the object or its status subresource; an object that is gone is no error. */
  private async mergePatch(ref: ObjectRef, body: object, status: boolean): Promise<void> {
    const p = { name: ref.name, namespace: ref.namespace, body };
    try {
      if (ref.kind === 'Service') await (status ? this.core.patchNamespacedServiceStatus(p, MERGE_PATCH) : this.core.patchNamespacedService(p, MERGE_PATCH));
      else await (status ? this.networking.patchNamespacedIngressStatus(p, MERGE_PATCH) : this.networking.patchNamespacedIngress(p, MERGE_PATCH));
    } catch (err) {
      if (errorCode(err) !== 404) throw this.failure(status ? 'patch the status of' : 'annotate', ref, err);
    }
  }

  private failure(what: string, ref: ObjectRef, err: unknown): Error {
    const code = errorCode(err);
    return new Error(`could not ${what} ${ref.kind} ${ref.namespace}/${ref.name}${code ? ` (HTTP ${code})` : ''}: ${(err as Error).message?.split('\n')[0] ?? String(err)}`);
  }

  private async recordEvent(ref: ObjectRef, event: StatusEvent): Promise<void> {
    const message = event.message.length > MAX_EVENT_MESSAGE ? `${event.message.slice(0, MAX_EVENT_MESSAGE - 3)}...` : event.message;
    const foldKey = `${statusKey(ref)}/${ref.uid ?? ''}/${event.type}/${event.reason}/${message}`;
    const now = new Date();
    const seen = this.recorded.get(foldKey);
    if (seen) {
      try {
        await this.core.patchNamespacedEvent({ name: seen.name, namespace: seen.namespace, body: { count: seen.count + 1, lastTimestamp: now.toISOString() } }, MERGE_PATCH);
        seen.count += 1;
        this.remember(foldKey, seen);
        return;
      } catch (err) {
        if (errorCode(err) !== 404) throw err;
        // The Event expired (the API server drops old ones): start a new one.
      }
    }
    const component = this.opts.component ?? 'ako';
    const body: CoreV1Event = {
      metadata: { name: `${ref.name}.${(now.getTime() * 1000 + (this.sequence++ % 1000)).toString(16)}`, namespace: ref.namespace },
      involvedObject: { kind: ref.kind, namespace: ref.namespace, name: ref.name, uid: ref.uid, apiVersion: ref.apiVersion ?? (ref.kind === 'Ingress' ? 'networking.k8s.io/v1' : 'v1') },
      reason: event.reason, message, type: event.type, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component }, reportingComponent: component, reportingInstance: this.opts.instance ?? process.env.HOSTNAME ?? 'portico',
    };
    const created = await this.core.createNamespacedEvent({ namespace: ref.namespace, body });
    this.remember(foldKey, { name: created.metadata?.name ?? body.metadata.name!, namespace: ref.namespace, count: 1 });
  }

  private remember(key: string, value: { name: string; namespace: string; count: number }): void {
    this.recorded.delete(key);
    this.recorded.set(key, value);
    const max = this.opts.maxRememberedEvents ?? 5000;
    while (this.recorded.size > max) this.recorded.delete(this.recorded.keys().next().value as string);
  }
}

export function createKubernetesStatusSink(kubeConfig: KubeConfig, opts: KubernetesStatusSinkOptions = {}): KubernetesStatusSink {
  return new KubernetesSink(kubeConfig, opts);
}
