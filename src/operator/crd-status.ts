// The two I/O steps around CRD translation: before it, ask the controller about every object the
// CRDs name (a missing one makes its CRD Rejected); after it, write each CRD's verdict
// (status.status Accepted/Rejected, status.error) through the status sink.
import type { ControllerClient } from './controller-client/client.js';
import { ControllerError } from './controller-client/errors.js';
import type { ClusterSnapshot } from './source/types.js';
import type { OperatorSettings } from './settings/types.js';
import type { ObjectRef, StatusSink } from './status/types.js';
import { crdRefNeeds, type CrdVerdict, type KnownRefs, type RefNeed } from './translate/crd/index.js';
import { refKey } from './translate/crd/types.js';

type Entry = NonNullable<ReturnType<KnownRefs['get']>>;

/**
 * What the controller holds of the objects CRDs name. Found objects are remembered until
 * `forget()` (a full sync); missing ones are asked again every pass, so creating the missing
 * object on the controller lets the CRD be Accepted at the next change.
 */
export class CrdRefResolver {
  private readonly found = new Map<string, Entry>();

  constructor(private readonly client: ControllerClient, private readonly settings: OperatorSettings) {}

  forget(): void {
    this.found.clear();
  }

  async resolve(snapshot: ClusterSnapshot): Promise<KnownRefs> {
    const known: KnownRefs = new Map();
    const ask: RefNeed[] = [];
    for (const n of crdRefNeeds(snapshot)) {
      const k = refKey(n.type, n.name);
      const hit = this.found.get(k);
      if (hit) known.set(k, hit);
      else ask.push(n);
    }
    await Promise.all(ask.map(async (n) => {
      const k = refKey(n.type, n.name);
      const o = await this.lookup(n);
      if (o) this.found.set(k, o);
      known.set(k, o ?? null);
    }));
    return known;
  }

  private async lookup(n: RefNeed): Promise<Entry | undefined> {
    const cloud = { 'cloud_ref.name': this.settings.controller.cloudName };
    let o: Record<string, any> | undefined;
    if (n.type === 'network-uuid') {
      o = await this.client.get<Record<string, any>>(`/api/network/${encodeURIComponent(n.name)}?include_name=true`, 'admin').catch((e: unknown) => {
        if (e instanceof ControllerError && e.status === 404) return undefined;
        throw e;
      });
    } else if (n.type === 'network') o = await this.client.byName('network', n.name, cloud, 'admin');
    else if (n.type === 'serviceenginegroup') o = await this.client.byName('serviceenginegroup', n.name, cloud);
    else o = await this.client.byName(n.type, n.name);
    if (!o) return undefined;
    const prefix = o.configured_subnets?.[0]?.prefix;
    return {
      ...(typeof o.name === 'string' ? { name: o.name } : {}),
      ...(prefix?.ip_addr?.addr ? { subnet: { addr: String(prefix.ip_addr.addr), mask: Number(prefix.mask) } } : {}),
    };
  }
}

/** A sink that can record CRD verdicts (both the Kubernetes and the memory sink can). */
type CrdSink = StatusSink & { crdStatus(ref: ObjectRef, s: { status: 'Accepted' | 'Rejected'; error?: string }): Promise<void>; crdStatuses?: unknown };

const key = (r: ObjectRef) => `${r.kind}/${r.namespace}/${r.name}`;

/** Writes verdicts that changed since the last pass; forgets objects that are gone. */
export class CrdStatusPublisher {
  private readonly last = new Map<string, CrdVerdict>();

  constructor(private readonly sink: StatusSink, private readonly onError: (err: Error) => void) {}

  async publish(verdicts: CrdVerdict[]): Promise<void> {
    const sink = this.sink as Partial<CrdSink>;
    if (typeof sink.crdStatus !== 'function') return;
    const seen = new Set<string>();
    for (const v of verdicts) {
      const k = key(v.ref);
      seen.add(k);
      const prev = this.last.get(k);
      if (prev && prev.status === v.status && prev.error === v.error && prev.ref.uid === v.ref.uid) continue;
      try {
        await sink.crdStatus(v.ref, { status: v.status, error: v.error });
        this.last.set(k, v);
      } catch (err) {
        this.onError(err as Error);
      }
    }
    for (const [k, prev] of this.last) {
      if (seen.has(k)) continue;
      this.last.delete(k);
      // The object is gone from Kubernetes; only the in-memory view (manifest mode) keeps verdicts to drop.
      if (typeof sink.crdStatuses === 'function') await sink.clear!(prev.ref).catch((err: Error) => this.onError(err));
    }
  }

  /** The verdicts written, sorted by kind, namespace, name (for /api/status). */
  list(): Array<{ kind: string; namespace: string; name: string; status: 'Accepted' | 'Rejected'; error: string }> {
    return [...this.last.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, v]) => ({ kind: v.ref.kind, namespace: v.ref.namespace, name: v.ref.name, status: v.status, error: v.error }));
  }

  /** A full sync: write every verdict again (the Kubernetes sink skips unchanged ones after reading). */
  invalidate(): void {
    this.last.clear();
  }
}
