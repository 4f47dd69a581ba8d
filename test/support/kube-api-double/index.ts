// A Kubernetes API double for tests: a real HTTP server that @kubernetes/client-node talks to
// exactly as to a cluster (discovery, list/watch with resourceVersions, 410 Gone, CRUD, patch,
// status subresource, Events, Leases, CRDs), plus a programmatic API for the test itself.
// See docs/kube-double.md.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import selfsigned from 'selfsigned';
import { groupVersion, type ResourceType } from './catalog.js';
import { loadKubeConfig, writeKubeconfig } from './kubeconfig.js';
import type { PatchType } from './patch.js';
import { RequestHandler, type InjectedFailure } from './server.js';
import { ApiError, Store, type KubeObject, type WriteRecord } from './store.js';

export { ApiError, type KubeObject, type WriteRecord } from './store.js';
export { akoCrd, akoCrds, AKO_GROUP } from './ako-crds.js';
export { kubeconfigDocument } from './kubeconfig.js';

export interface KubeApiDoubleOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Changes kept for watches to resume from; older resourceVersions get 410 Gone. Default 1000. */
  maxHistory?: number;
  /** When set, requests must carry `Authorization: Bearer <token>` (the written kubeconfig does). */
  token?: string;
  /** Serve HTTPS with a fresh self-signed certificate for the host; kubeconfigs then carry it as the CA. */
  tls?: boolean;
}

export type WriteFilter = Partial<Pick<WriteRecord, 'verb' | 'kind' | 'resource' | 'namespace' | 'name' | 'subresource' | 'by' | 'changed'>>;

export class KubeApiDouble {
  readonly store: Store;
  private readonly handler: RequestHandler;
  private readonly server: Server;
  private readonly token: string;
  url = '';
  private readonly tempDirs: string[] = [];
  /** The server certificate (PEM) when serving HTTPS. */
  readonly caPem: string | undefined;

  private constructor(private readonly options: KubeApiDoubleOptions, tls?: { cert: string; key: string }) {
    this.store = new Store(options.maxHistory ?? 1000);
    this.token = options.token ?? 'portico-double';
    this.handler = new RequestHandler(this.store, options.token);
    const listener: RequestListener = (req, res) => {
      if (req.url?.startsWith(CONTROL_PREFIX)) void this.control(req, res);
      else void this.handler.handle(req, res);
    };
    this.caPem = tls?.cert;
    this.server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }, listener) : createServer(listener);
    // Watches are long-lived; the server must not cut them.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 5000;
  }

  static async start(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
    const host = options.host ?? '127.0.0.1';
    let tls: { cert: string; key: string } | undefined;
    if (options.tls) {
      const pems = await selfsigned.generate([{ name: 'commonName', value: host }], {
        days: 2, keyType: 'ec', algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: host }, { type: 2, value: 'localhost' }] }],
      } as never);
      tls = { cert: pems.cert, key: pems.private };
    }
    const d = new KubeApiDouble(options, tls);
    await d.listen(options.port ?? 0);
    return d;
  }

  private async listen(port: number): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve(); });
    });
    const addr = this.server.address() as AddressInfo;
    this.url = `${this.caPem ? 'https' : 'http'}://${addr.address}:${addr.port}`;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const dir of this.tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  // ── kubeconfig ─────────────────────────────────────────────────────────────────────────────

  /** Writes a kubeconfig for the double (to `file`, or a temp file removed by `stop`) and returns its path. */
  writeKubeconfig(file?: string): string {
    const path = writeKubeconfig(this.url, file, this.token, this.caPem);
    if (!file) this.tempDirs.push(dirname(path));
    return path;
  }

  kubeConfig(): KubeConfig {
    return loadKubeConfig(this.url, this.token, this.caPem);
  }

  // ── objects (programmatic; recorded as writes `by: 'test'`) ──────────────────────────────────

  private typeOf(apiVersion: string | undefined, kind: string | undefined): ResourceType {
    const t = apiVersion && kind ? this.store.catalog.findKind(apiVersion, kind) : undefined;
    if (!t) throw new ApiError(404, 'NotFound', `no resource serves kind ${kind ?? '?'} in ${apiVersion ?? '?'}`);
    return t;
  }

  private ns(t: ResourceType, namespace: string | undefined): string | undefined {
    return t.namespaced ? namespace ?? 'default' : undefined;
  }

  /** Creates an object (`apiVersion`, `kind`, `metadata.name` required; namespace defaults to `default`). */
  create<T extends object>(obj: T): T & KubeObject {
    const o = obj as unknown as KubeObject;
    const t = this.typeOf(o.apiVersion, o.kind);
    return this.store.create(t, this.ns(t, o.metadata?.namespace), o) as T & KubeObject;
  }

  /** Replaces an object's spec and metadata (status kept when the kind has a status subresource). */
  update<T extends object>(obj: T): T & KubeObject {
    const o = structuredClone(obj) as unknown as KubeObject;
    const t = this.typeOf(o.apiVersion, o.kind);
    delete o.metadata.resourceVersion;
    return this.store.update(t, this.ns(t, o.metadata.namespace), o.metadata.name, o) as T & KubeObject;
  }

  /** Creates the object, or updates it when it exists. */
  apply<T extends object>(obj: T): T & KubeObject {
    const o = obj as unknown as KubeObject;
    return this.tryGet(o.apiVersion ?? '', o.kind ?? '', o.metadata.name, o.metadata.namespace) ? this.update(obj) : this.create(obj);
  }

  /**
   * Creates or updates every object of a YAML text (several documents, `kind: List` expanded),
   * CRDs first so their kinds are served when their objects come; the status of each is written too.
   */
  applyManifests(yamlText: string): KubeObject[] {
    const docs = (loadAll(yamlText) as unknown[]).filter((d): d is KubeObject => d !== null && typeof d === 'object');
    const objects = docs.flatMap((d) => (d.kind === 'List' && Array.isArray(d.items) ? d.items as KubeObject[] : [d]));
    const crdsFirst = [...objects].sort((a, b) => Number(b.kind === 'CustomResourceDefinition') - Number(a.kind === 'CustomResourceDefinition'));
    return crdsFirst.map((o) => {
      const stored = this.apply(o);
      return o.status === undefined ? stored : this.setStatus({ ...stored, status: o.status });
    });
  }

  /** Writes the status subresource (`obj.status`). */
  setStatus<T extends object>(obj: T): T & KubeObject {
    const o = structuredClone(obj) as unknown as KubeObject;
    const t = this.typeOf(o.apiVersion, o.kind);
    delete o.metadata.resourceVersion;
    return this.store.update(t, this.ns(t, o.metadata.namespace), o.metadata.name, o, t.status ? 'status' : undefined) as T & KubeObject;
  }

  patch(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: unknown, type: PatchType = 'merge', subresource?: 'status'): KubeObject {
    const t = this.typeOf(apiVersion, kind);
    return this.store.patch(t, this.ns(t, namespace), name, type, patch, subresource);
  }

  delete(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject {
    const t = this.typeOf(apiVersion, kind);
    return this.store.delete(t, this.ns(t, namespace), name);
  }

  get(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject {
    const t = this.typeOf(apiVersion, kind);
    return this.store.get(t, this.ns(t, namespace), name);
  }

  tryGet(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined {
    try {
      return this.get(apiVersion, kind, name, namespace);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Objects of a kind, in one namespace or all of them. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const t = this.typeOf(apiVersion, kind);
    return this.store.list(t, t.namespaced ? namespace : undefined).map((o) => ({ ...o, apiVersion: groupVersion(t), kind: t.kind }));
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  // ── what clients did ─────────────────────────────────────────────────────────────────────────

  /** Every write so far (HTTP and programmatic), oldest first. */
  get writes(): readonly WriteRecord[] {
    return this.store.writes;
  }

  /** Writes matching every field of `filter` (default: by clients over HTTP). */
  countWrites(filter: WriteFilter = {}): number {
    const f: WriteFilter = { by: 'client', ...filter };
    return this.store.writes.filter((w) => Object.entries(f).every(([k, v]) => v === undefined || w[k as keyof WriteRecord] === v)).length;
  }

  clearWrites(): void {
    this.store.writes.length = 0;
  }

  /** Requests served so far, as `METHOD /path`. */
  get requests(): readonly string[] {
    return this.handler.requests;
  }

  /** Open watch streams (optionally of one resource plural, e.g. `services`). */
  watchCount(plural?: string): number {
    let n = 0;
    for (const s of this.handler.streams) if (!plural || s.resource.endsWith(`/${plural}`)) n++;
    return n;
  }

  // ── trouble on demand ────────────────────────────────────────────────────────────────────────

  /** Ends every open watch stream (clients see the server close it and must re-watch). */
  dropWatches(): void {
    for (const s of [...this.handler.streams]) s.close();
  }

  /** Forgets the change history: watching or continuing from any earlier resourceVersion gets 410 Gone. */
  compact(): void {
    this.store.compact();
  }

  /** Sends a BOOKMARK to every watch that asked for them. */
  bookmark(): void {
    for (const s of this.handler.streams) s.bookmark(this.store.resourceVersion);
  }

  /** The next `count` matching requests are answered with `code` (a Status error). */
  failNext(failure: Omit<InjectedFailure, 'remaining'> & { count?: number }): void {
    this.handler.failures.push({ method: failure.method, path: failure.path, code: failure.code, remaining: failure.count ?? 1 });
  }

  clearFailures(): void {
    this.handler.failures.length = 0;
  }

  /** The programmatic API over HTTP, for a double running as a child process (docs/kube-double.md). */
  private async control(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const action = `${req.method} ${(req.url ?? '').slice(CONTROL_PREFIX.length).split('?')[0]}`;
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      switch (action) {
        case 'POST drop-watches': this.dropWatches(); return reply(200, { ok: true });
        case 'POST compact': this.compact(); return reply(200, { ok: true, resourceVersion: this.resourceVersion });
        case 'POST bookmark': this.bookmark(); return reply(200, { ok: true });
        case 'GET writes': return reply(200, { items: this.writes });
        case 'DELETE writes': this.clearWrites(); return reply(200, { ok: true });
        case 'DELETE failures': this.clearFailures(); return reply(200, { ok: true });
        case 'POST fail': {
          let text = '';
          for await (const chunk of req) text += chunk;
          const f = JSON.parse(text || '{}') as { method?: string; path?: string; code?: number; count?: number };
          if (typeof f.code !== 'number') return reply(400, { error: 'code: a number (HTTP status) is required' });
          this.failNext({ method: f.method, path: f.path, code: f.code, count: f.count });
          return reply(200, { ok: true });
        }
        default: return reply(404, { error: `unknown control action "${action}"` });
      }
    } catch (err) {
      reply(400, { error: (err as Error).message });
    }
  }
}

const CONTROL_PREFIX = '/_double/';

export function startKubeApiDouble(options?: KubeApiDoubleOptions): Promise<KubeApiDouble> {
  return KubeApiDouble.start(options);
}
