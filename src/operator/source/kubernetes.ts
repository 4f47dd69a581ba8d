// The cluster source: one @kubernetes/client-node informer (list + watch) per kind, kept in a
// snapshot that is handed to the operator, debounced, after the initial sync and after every change.
// client-node's ListWatch relists by itself on 410 Gone and re-watches when a stream ends; it gives
// up on other errors, so each informer is restarted here with a capped backoff.
import {
  ApisApi, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, NetworkingV1Api, makeInformer,
  type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache,
} from '@kubernetes/client-node';
import { debounce } from './debounce.js';
import { summarizeWatchedPod } from './pods.js';
import { loadKubeConfig, type KubeConfigOptions } from './kubeconfig.js';
import { emptySnapshot, type ClusterSnapshot, type CustomObject, type SnapshotProvider, type SourceProblem } from './types.js';

export { loadKubeConfig } from './kubeconfig.js';

/** The CRD group AKO reads (HostRule, HTTPRule, AviInfraSetting, L4Rule, …). */
export const AKO_CRD_GROUP = 'ako.vmware.com';
/** CRD kinds whose map is present in every snapshot (empty while the CRD is absent). */
export const AKO_CRD_KINDS = ['HostRule', 'HTTPRule', 'AviInfraSetting', 'L4Rule'] as const;
/** The ako.vmware.com kinds watched when served (others of the group, e.g. MultiClusterIngress, are not: no RBAC for them is expected). */
export const WATCHED_CRD_KINDS: readonly string[] = [...AKO_CRD_KINDS, 'SSORule', 'L7Rule'];

export interface SourceLogger {
  info(msg: string): void;
  warn(msg: string): void;
  debug?(msg: string): void;
}

export interface KubernetesProviderOptions extends KubeConfigOptions {
  /** Quiet time after the last change before onChange (default 10 ms). */
  debounceMs?: number;
  /** Longest a burst of changes may delay onChange (default 100 ms). */
  maxWaitMs?: number;
  /** Re-deliver the whole snapshot this often even without changes (default 0: off). */
  resyncMs?: number;
  /** Watch Pods (L7Settings.serviceType NodePortLocal: members from Antrea's pod annotation). */
  pods?: boolean;
  /**
   * A cluster-scoped kind of the CNI that holds Pod CIDRs (Calico BlockAffinity, CiliumNode,
   * HostSubnet; sync/cni-cidrs.ts), watched into `custom` like the CRDs: if it is not served, that
   * is reported and retried, and nothing else waits for it.
   */
  cniKind?: { kind: string; group: string; version: string; plural: string };
  /** The ako.vmware.com kinds to watch when their CRDs are installed (default WATCHED_CRD_KINDS). */
  crdKinds?: readonly string[];
  /** How often to look for ako.vmware.com CRDs being installed or removed (default 30 s). */
  crdDiscoveryMs?: number;
  /**
   * Every watch is restarted (from its resourceVersion, no relist) after this long, plus up to 20 %
   * jitter, as client-go's watch timeouts do: a stream on a half-open connection cannot stay silent
   * forever. Default 5 min; 0 turns it off.
   */
  rewatchMs?: number;
  /** First and longest wait before restarting a failed list/watch (defaults 500 ms, 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  logger?: SourceLogger;
}

type SnapshotMapName = Exclude<keyof ClusterSnapshot, 'custom'>;
type AnyObject = KubernetesObject & { metadata?: { name?: string; namespace?: string } };

/**
 * Listed objects come through client-node's deserializer (timestamps as Date), watched ones as plain
 * JSON (strings): the metadata timestamps are made Dates for both, as the V1 types say.
 */
function normalizeTimestamps(o: AnyObject): AnyObject {
  const meta = o.metadata as { creationTimestamp?: unknown; deletionTimestamp?: unknown } | undefined;
  if (typeof meta?.creationTimestamp === 'string') meta.creationTimestamp = new Date(meta.creationTimestamp);
  if (typeof meta?.deletionTimestamp === 'string') meta.deletionTimestamp = new Date(meta.deletionTimestamp);
  return o;
}

function keyOf(o: AnyObject): string {
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${o.metadata?.name ?? ''}` : o.metadata?.name ?? '';
}

/** One kind under list/watch, restarted after errors, feeding one map of the snapshot. */
class WatchedKind {
  private readonly informer: Informer<AnyObject> & ObjectCache<AnyObject>;
  private retryTimer: NodeJS.Timeout | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;
  /** The first list came back (its items are only in the map once `start` resolves: see `synced`). */
  private listed = false;
  synced = false;
  /** Failed at least once before its first successful list (does not hold back the first snapshot). */
  failedBeforeSync = false;
  problem: string | undefined;
  /** Failures so far: a (re)start that adds none has connected, even if no event came yet. */
  private failures = 0;

  constructor(
    readonly kind: string,
    kc: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<AnyObject>>,
    private readonly target: Map<string, unknown>,
    private readonly changed: () => void,
    private readonly opts: { retryMinMs: number; retryMaxMs: number; rewatchMs: number; logger?: SourceLogger },
    /** What the snapshot keeps of an object (default: the object itself). */
    keep: (o: AnyObject) => unknown = normalizeTimestamps,
  ) {
    this.retryMs = opts.retryMinMs;
    const listAndMark = async (): Promise<KubernetesListObject<AnyObject>> => {
      const result = await list();
      this.listed = true;
      this.recovered();
      return result;
    };
    this.informer = makeInformer(kc, path, listAndMark);
    const put = (o: AnyObject): void => { this.target.set(keyOf(o), keep(o)); this.recovered(); this.changed(); };
    this.informer.on('add', put);
    this.informer.on('update', put);
    this.informer.on('delete', (o) => { this.target.delete(keyOf(o)); this.changed(); });
    this.informer.on('error', (err) => this.failed(err));
  }

  /** Lists (when needed) and watches; `synced` once the first list's items are in the map. */
  async start(): Promise<void> {
    this.stopped = false;
    const failuresBefore = this.failures;
    await this.informer.start();
    if (this.failures === failuresBefore && !this.stopped) this.recovered();
    if (this.listed && !this.synced) {
      this.synced = true;
      this.changed();
    }
    this.scheduleRewatch();
  }

  private scheduleRewatch(): void {
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    this.rewatchTimer = undefined;
    if (this.stopped || this.opts.rewatchMs <= 0) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = undefined;
      // A retry already pending restarts it anyway.
      if (!this.stopped && !this.retryTimer) this.start().catch((e) => this.failed(e));
    }, this.opts.rewatchMs * (1 + Math.random() * 0.2));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    this.retryTimer = undefined;
    this.rewatchTimer = undefined;
    await this.informer.stop();
  }

  private recovered(): void {
    this.retryMs = this.opts.retryMinMs;
    if (this.problem !== undefined) {
      this.problem = undefined;
      this.opts.logger?.info(`${this.kind}: list/watch recovered`);
      this.changed();
    }
  }

  private failed(err: unknown): void {
    // A stream this side ended on purpose (stop, or a restart replacing it) reports an AbortError.
    if (this.stopped || (err as Error)?.name === 'AbortError') return;
    this.failures += 1;
    if (!this.synced) this.failedBeforeSync = true;
    const message = describeError(err);
    if (this.problem !== message) {
      this.problem = message;
      this.opts.logger?.warn(`${this.kind}: list/watch failed (${message}); retrying in ${this.retryMs} ms`);
      this.changed();
    }
    if (this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.opts.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.start().catch((e) => this.failed(e));
    }, wait);
  }
}

function describeError(err: unknown): string {
  const e = err as { code?: number; statusCode?: number; message?: string; body?: unknown };
  const code = e?.code ?? e?.statusCode;
  const body = typeof e?.body === 'string' ? safeMessage(e.body) : (e?.body as { message?: string })?.message;
  return [typeof code === 'number' ? `HTTP ${code}` : undefined, body ?? e?.message ?? String(err)].filter(Boolean).join(': ');
}

function safeMessage(body: string): string | undefined {
  try { return (JSON.parse(body) as { message?: string }).message; } catch { return body.slice(0, 200) || undefined; }
}

interface CrdKind { kind: string; group: string; version: string; plural: string; namespaced: boolean }

class KubernetesProvider implements SnapshotProvider {
  private readonly kc: KubeConfig;
  private readonly state = emptySnapshot();
  private readonly core: WatchedKind[] = [];
  private readonly crds = new Map<string, { spec: CrdKind; watched: WatchedKind }>();
  /** Kinds that may be missing without holding back the first snapshot (the CNI's). */
  private readonly optional: WatchedKind[] = [];
  private readonly emitter;
  private onChange: ((s: ClusterSnapshot, p: SourceProblem[]) => void) | undefined;
  private initialDone = false;
  private stopped = false;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private syncWaiter: (() => void) | undefined;
  private discovering = false;
  private readonly retry: { retryMinMs: number; retryMaxMs: number; rewatchMs: number; logger?: SourceLogger };

  constructor(private readonly opts: KubernetesProviderOptions) {
    this.kc = loadKubeConfig(opts);
    this.retry = { retryMinMs: opts.retryMinMs ?? 500, retryMaxMs: opts.retryMaxMs ?? 30_000, rewatchMs: opts.rewatchMs ?? 300_000, logger: opts.logger };
    this.emitter = debounce(() => this.emit(), opts.debounceMs ?? 10, opts.maxWaitMs ?? 100);
    for (const kind of AKO_CRD_KINDS) this.state.custom.set(kind, new Map());
  }

  private changed = (): void => {
    if (this.initialDone) this.emitter.poke();
    else this.checkInitialSync();
  };

  private watchCore(kind: string, path: string, map: SnapshotMapName, list: () => Promise<unknown>, keep?: (o: AnyObject) => unknown): void {
    this.core.push(new WatchedKind(kind, this.kc, path, list as () => Promise<KubernetesListObject<AnyObject>>, this.state[map] as Map<string, unknown>, this.changed, this.retry, keep));
  }

  async start(onChange: (snapshot: ClusterSnapshot, problems: SourceProblem[]) => void): Promise<void> {
    this.onChange = onChange;
    const core = this.kc.makeApiClient(CoreV1Api);
    const discovery = this.kc.makeApiClient(DiscoveryV1Api);
    const networking = this.kc.makeApiClient(NetworkingV1Api);
    this.watchCore('Service', '/api/v1/services', 'services', () => core.listServiceForAllNamespaces());
    this.watchCore('EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices', 'endpointSlices', () => discovery.listEndpointSliceForAllNamespaces());
    this.watchCore('Ingress', '/apis/networking.k8s.io/v1/ingresses', 'ingresses', () => networking.listIngressForAllNamespaces());
    this.watchCore('IngressClass', '/apis/networking.k8s.io/v1/ingressclasses', 'ingressClasses', () => networking.listIngressClass());
    this.watchCore('Secret', '/api/v1/secrets', 'secrets', () => core.listSecretForAllNamespaces());
    this.watchCore('Namespace', '/api/v1/namespaces', 'namespaces', () => core.listNamespace());
    this.watchCore('Node', '/api/v1/nodes', 'nodes', () => core.listNode());
    if (this.opts.pods) this.watchCore('Pod', '/api/v1/pods', 'pods', () => core.listPodForAllNamespaces(), (o) => summarizeWatchedPod(o as never));
    const cni = this.opts.cniKind;
    if (cni) {
      const map = new Map<string, CustomObject>();
      this.state.custom.set(cni.kind, map);
      const custom = this.kc.makeApiClient(CustomObjectsApi);
      const list = (): Promise<KubernetesListObject<AnyObject>> =>
        custom.listClusterCustomObject({ group: cni.group, version: cni.version, plural: cni.plural }) as Promise<KubernetesListObject<AnyObject>>;
      this.optional.push(new WatchedKind(cni.kind, this.kc, `/apis/${cni.group}/${cni.version}/${cni.plural}`, list, map, this.changed, this.retry));
    }
    const synced = new Promise<void>((resolve) => { this.syncWaiter = resolve; });
    await this.refreshCrds();
    await Promise.all(this.watchers().map((w) => w.start()));
    this.checkInitialSync();
    await synced;
    const discoveryMs = this.opts.crdDiscoveryMs ?? 30_000;
    if (discoveryMs > 0 && !this.stopped) this.discoveryTimer = setInterval(() => { void this.refreshCrds(); }, discoveryMs);
    if (this.opts.resyncMs && !this.stopped) this.resyncTimer = setInterval(() => this.emitter.poke(), this.opts.resyncMs);
  }

  private watchers(): WatchedKind[] {
    return [...this.core, ...[...this.crds.values()].map((c) => c.watched), ...this.optional];
  }

  /** The first snapshot waits for every core kind; a CRD kind that fails to list does not hold it back. */
  private checkInitialSync(): void {
    if (this.initialDone || this.stopped) return;
    if (!this.core.every((w) => w.synced)) return;
    if (![...[...this.crds.values()].map((c) => c.watched), ...this.optional].every((w) => w.synced || w.failedBeforeSync)) return;
    this.initialDone = true;
    this.emit();
    this.syncWaiter?.();
  }

  /** Finds the ako.vmware.com kinds the API serves; starts and stops their informers to match. */
  private async refreshCrds(): Promise<void> {
    if (this.discovering) return; // a slow discovery is not overtaken by the next tick
    this.discovering = true;
    try {
      await this.syncCrdKinds();
    } finally {
      this.discovering = false;
    }
  }

  private async syncCrdKinds(): Promise<void> {
    let found: CrdKind[];
    try {
      found = await this.discoverCrdKinds();
    } catch (err) {
      this.opts.logger?.debug?.(`CRD discovery failed (${describeError(err)}); CRD kinds stay as they are`);
      return;
    }
    if (this.stopped) return;
    const wanted = new Map(found.map((c) => [c.kind, c]));
    for (const [kind, { spec, watched }] of this.crds) {
      const now = wanted.get(kind);
      if (now && now.version === spec.version && now.plural === spec.plural) continue;
      await watched.stop();
      this.crds.delete(kind);
      this.state.custom.get(kind)?.clear();
      if (!(AKO_CRD_KINDS as readonly string[]).includes(kind)) this.state.custom.delete(kind);
      this.opts.logger?.info(`CRD ${kind}.${AKO_CRD_GROUP} is no longer served; its objects are dropped`);
      this.changed();
    }
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    for (const spec of found) {
      if (this.crds.has(spec.kind)) continue;
      let map = this.state.custom.get(spec.kind);
      if (!map) { map = new Map<string, CustomObject>(); this.state.custom.set(spec.kind, map); }
      const path = `/apis/${spec.group}/${spec.version}/${spec.plural}`;
      const list = (): Promise<KubernetesListObject<AnyObject>> =>
        custom.listClusterCustomObject({ group: spec.group, version: spec.version, plural: spec.plural }) as Promise<KubernetesListObject<AnyObject>>;
      const watched = new WatchedKind(spec.kind, this.kc, path, list, map, this.changed, this.retry);
      this.crds.set(spec.kind, { spec, watched });
      this.opts.logger?.info(`watching CRD ${spec.kind}.${spec.group}/${spec.version}`);
      if (this.initialDone) await watched.start();
    }
  }

  private async discoverCrdKinds(): Promise<CrdKind[]> {
    const groups = await this.kc.makeApiClient(ApisApi).getAPIVersions();
    const group = groups.groups.find((g) => g.name === AKO_CRD_GROUP);
    if (!group) return [];
    // The preferred version first, so a kind served in several versions is read in that one.
    const versions = [group.preferredVersion?.version, ...group.versions.map((v) => v.version)].filter((v, i, a): v is string => Boolean(v) && a.indexOf(v) === i);
    const custom = this.kc.makeApiClient(CustomObjectsApi);
    const out = new Map<string, CrdKind>();
    for (const version of versions) {
      const list = await custom.getAPIResources({ group: AKO_CRD_GROUP, version });
      for (const r of list.resources) {
        if (r.name.includes('/') || out.has(r.kind) || !(this.opts.crdKinds ?? WATCHED_CRD_KINDS).includes(r.kind)) continue;
        out.set(r.kind, { kind: r.kind, group: AKO_CRD_GROUP, version, plural: r.name, namespaced: r.namespaced });
      }
    }
    return [...out.values()];
  }

  private problems(): SourceProblem[] {
    const out: SourceProblem[] = [];
    for (const w of this.watchers()) {
      if (w.problem) out.push({ where: `${w.kind} (list/watch)`, message: w.problem });
    }
    return out;
  }

  /** Hands out copies: the maps keep changing under the provider after the call. */
  private emit(): void {
    if (this.stopped || !this.onChange) return;
    const s = this.state;
    const snapshot: ClusterSnapshot = {
      services: new Map(s.services), endpointSlices: new Map(s.endpointSlices), ingresses: new Map(s.ingresses),
      ingressClasses: new Map(s.ingressClasses), secrets: new Map(s.secrets), namespaces: new Map(s.namespaces),
      nodes: new Map(s.nodes), pods: new Map(s.pods), custom: new Map([...s.custom].map(([k, m]) => [k, new Map(m)])),
    };
    try {
      this.onChange(snapshot, this.problems());
    } catch (err) {
      this.opts.logger?.warn(`snapshot consumer failed: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.emitter.cancel();
    if (this.discoveryTimer) clearInterval(this.discoveryTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await Promise.all(this.watchers().map((w) => w.stop()));
    this.syncWaiter?.();
  }
}

/** A SnapshotProvider over the Kubernetes API (`--kubeconfig FILE` or `--in-cluster`). */
export function createKubernetesProvider(opts: KubernetesProviderOptions = {}): SnapshotProvider {
  return new KubernetesProvider(opts);
}
