// The double's state: objects per resource type, one global resourceVersion counter, a bounded
// history of changes (watches resume from it; a resourceVersion older than it is "Expired", 410),
// the open watches, and a log of every write request for tests to count.
import { randomUUID } from 'node:crypto';
import { Catalog, groupVersion, isCrdObject, resourceId, type ResourceType, type CrdObject } from './catalog.js';
import { applyPatch, type PatchType } from './patch.js';

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  rv: number;
  type: WatchEventType;
  resource: string;
  object: KubeObject;
  /** The object before a MODIFIED change (lets selector-filtered watches turn it into ADDED/DELETED). */
  previous?: KubeObject;
}

export interface WriteRecord {
  verb: 'create' | 'update' | 'patch' | 'delete';
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  subresource?: 'status';
  /** Patch content type for `patch` (json | merge | strategic | apply). */
  patchType?: PatchType;
  /** The object as stored after the write (before it, for `delete`). */
  object: KubeObject;
  /** Whether the write changed anything (a no-op update keeps the resourceVersion). */
  changed: boolean;
  /** `client`: a request over HTTP; `test`: the programmatic API. */
  by: 'client' | 'test';
}

export interface Watcher {
  resource: string;
  namespace?: string;
  send(event: ChangeEvent): void;
}

/** An error the API server answers with a `Status` object. */
export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, details: this.details, code: this.code };
  }
}

const FIRST_RESOURCE_VERSION = 1000;

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Everything but metadata and status: a change there bumps `metadata.generation`. */
function specPart(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

export class Store {
  readonly catalog = new Catalog();
  private rv = FIRST_RESOURCE_VERSION;
  /** Events with rv ≤ this are no longer in the history: a watch from before it gets 410. */
  private compactedRv = FIRST_RESOURCE_VERSION;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: ChangeEvent[] = [];
  readonly watchers = new Set<Watcher>();
  readonly writes: WriteRecord[] = [];
  /** Who is writing right now (the HTTP handler sets `client` around a request). */
  actor: WriteRecord['by'] = 'test';

  constructor(private readonly maxHistory = 1000) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  get oldestResumableVersion(): number {
    return this.compactedRv;
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const id = resourceId(t);
    let m = this.objects.get(id);
    if (!m) { m = new Map(); this.objects.set(id, m); }
    return m;
  }

  private checkScope(t: ResourceType, namespace: string | undefined): void {
    if (t.namespaced && !namespace) throw new ApiError(400, 'BadRequest', `${t.plural} is namespaced: a namespace is required`);
    if (!t.namespaced && namespace) throw new ApiError(404, 'NotFound', `${t.plural} is cluster-scoped: no namespace allowed`);
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    this.checkScope(t, namespace);
    const o = this.bucket(t).get(keyOf(namespace, name));
    if (!o) throw notFound(t, name);
    return clone(o);
  }

  /** Objects of a type (one namespace or all), sorted by namespace/name as etcd returns them. */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(t).values()) if (!namespace || o.metadata.namespace === namespace) out.push(o);
    out.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name).localeCompare(keyOf(b.metadata.namespace, b.metadata.name)));
    return out.map(clone);
  }

  create(t: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
    this.checkScope(t, namespace);
    const obj = clone(body);
    this.checkIdentity(t, namespace, obj);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomUUID().slice(0, 5);
    if (!meta.name) throw new ApiError(400, 'Invalid', `${t.kind} is invalid: metadata.name: Required value: name or generateName is required`);
    const bucket = this.bucket(t);
    const key = keyOf(namespace, meta.name);
    if (bucket.has(key)) throw new ApiError(409, 'AlreadyExists', `${t.plural}${t.group ? '.' + t.group : ''} "${meta.name}" already exists`, { name: meta.name, kind: t.plural });
    obj.apiVersion = groupVersion(t);
    obj.kind = t.kind;
    if (namespace) meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = randomUUID();
    meta.generation = 1;
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    delete meta.resourceVersion;
    if (t.kind === 'CustomResourceDefinition') this.onCrdWritten(obj);
    this.commit(t, 'ADDED', obj);
    bucket.set(key, obj);
    this.record('create', t, obj, undefined, true);
    return clone(obj);
  }

  /** Replaces an object (PUT). `subresource: 'status'` changes only the status. */
  update(t: ResourceType, namespace: string | undefined, name: string, body: KubeObject, subresource?: 'status', patchType?: PatchType): KubeObject {
    this.checkScope(t, namespace);
    const bucket = this.bucket(t);
    const key = keyOf(namespace, name);
    const current = bucket.get(key);
    if (!current) throw notFound(t, name);
    const incoming = clone(body);
    this.checkIdentity(t, namespace, incoming);
    if (incoming.metadata.name && incoming.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    const wantRv = incoming.metadata.resourceVersion;
    if (wantRv && wantRv !== current.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${t.plural}${t.group ? '.' + t.group : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: t.plural });
    }
    let next: KubeObject;
    if (subresource === 'status') {
      next = clone(current);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      if (t.status) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      // The server owns these fields.
      next.metadata = { ...incoming.metadata, name, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, generation: current.metadata.generation };
      if (namespace) next.metadata.namespace = namespace;
      else delete next.metadata.namespace;
    }
    next.apiVersion = groupVersion(t);
    next.kind = t.kind;
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (specPart(next) !== specPart(current)) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    const changed = JSON.stringify(next) !== JSON.stringify(current);
    if (changed) {
      if (t.kind === 'CustomResourceDefinition') this.onCrdWritten(next);
      this.commit(t, 'MODIFIED', next, current);
      bucket.set(key, next);
    }
    this.record(patchType ? 'patch' : 'update', t, next, subresource, changed, patchType);
    return clone(next);
  }

  patch(t: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status'): KubeObject {
    this.checkScope(t, namespace);
    const current = this.bucket(t).get(keyOf(namespace, name));
    if (!current) {
      if (type !== 'apply') throw notFound(t, name);
      const created = applyPatch('apply', { metadata: { name } } as never, patch as never) as unknown as KubeObject;
      return this.create(t, namespace, created);
    }
    const base = clone(current) as unknown;
    const patched = applyPatch(type, base as never, patch as never) as unknown as KubeObject;
    if (patched === null || typeof patched !== 'object' || typeof patched.metadata !== 'object') {
      throw new ApiError(422, 'Invalid', `the patch leaves no object with metadata`);
    }
    // A patch carries no precondition unless it names a resourceVersion itself.
    const patchRv = (patch as KubeObject | undefined)?.metadata?.resourceVersion;
    patched.metadata.resourceVersion = typeof patchRv === 'string' ? patchRv : current.metadata.resourceVersion;
    return this.update(t, namespace, name, patched, subresource, type);
  }

  delete(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    this.checkScope(t, namespace);
    const bucket = this.bucket(t);
    const key = keyOf(namespace, name);
    const current = bucket.get(key);
    if (!current) throw notFound(t, name);
    bucket.delete(key);
    const gone = clone(current);
    this.commit(t, 'DELETED', gone);
    this.record('delete', t, gone, undefined, true);
    if (t.kind === 'Namespace') this.deleteNamespaceContents(name);
    if (t.kind === 'CustomResourceDefinition') this.onCrdDeleted(name);
    return clone(gone);
  }

  private deleteNamespaceContents(namespace: string): void {
    for (const t of this.catalog.all()) {
      if (!t.namespaced) continue;
      for (const o of this.list(t, namespace)) this.delete(t, namespace, o.metadata.name);
    }
  }

  private onCrdWritten(obj: KubeObject): void {
    if (!isCrdObject(obj)) throw new ApiError(422, 'Invalid', 'CustomResourceDefinition is invalid: spec.group, spec.names.kind, spec.names.plural and spec.versions are required');
    const crd = obj as unknown as CrdObject;
    const expected = `${crd.spec.names.plural}.${crd.spec.group}`;
    if (crd.metadata.name !== expected) throw new ApiError(422, 'Invalid', `CustomResourceDefinition is invalid: metadata.name: must be spec.names.plural+"."+spec.group ("${expected}")`);
    for (const removed of this.catalog.unregisterCrd(crd.metadata.name)) this.dropType(removed);
    this.catalog.registerCrd(crd);
    obj.status = {
      acceptedNames: crd.spec.names,
      storedVersions: crd.spec.versions.filter((v) => v.storage !== false).map((v) => v.name),
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
    };
  }

  private onCrdDeleted(name: string): void {
    for (const t of this.catalog.unregisterCrd(name)) this.dropType(t);
  }

  /** A CRD went away: its objects are deleted (watchers see DELETED). */
  private dropType(t: ResourceType): void {
    const bucket = this.objects.get(resourceId(t));
    if (!bucket) return;
    for (const o of bucket.values()) this.commit(t, 'DELETED', clone(o));
    this.objects.delete(resourceId(t));
  }

  private checkIdentity(t: ResourceType, namespace: string | undefined, obj: KubeObject): void {
    if (!obj || typeof obj !== 'object' || typeof obj.metadata !== 'object' || obj.metadata === null) {
      throw new ApiError(400, 'BadRequest', `${t.kind}: metadata is required`);
    }
    if (obj.kind && obj.kind !== t.kind) throw new ApiError(400, 'BadRequest', `kind "${obj.kind}" does not match the URL's resource (${t.kind})`);
    if (obj.apiVersion && obj.apiVersion !== groupVersion(t)) throw new ApiError(400, 'BadRequest', `apiVersion "${obj.apiVersion}" does not match the URL (${groupVersion(t)})`);
    const ns = obj.metadata.namespace;
    if (t.namespaced && ns && ns !== namespace) throw new ApiError(400, 'BadRequest', `the namespace of the object (${ns}) does not match the namespace on the request (${namespace})`);
  }

  /** Assigns the next resourceVersion, keeps the change in the history and tells the watches. */
  private commit(t: ResourceType, type: WatchEventType, obj: KubeObject, previous?: KubeObject): void {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    const event: ChangeEvent = { rv: this.rv, type, resource: resourceId(t), object: clone(obj), previous: previous && clone(previous) };
    this.history.push(event);
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory);
      this.compactedRv = dropped[dropped.length - 1].rv;
    }
    for (const w of this.watchers) {
      if (w.resource === event.resource && (!w.namespace || w.namespace === obj.metadata.namespace)) w.send(event);
    }
  }

  /** Changes after `rv` for a resource, or undefined when the history no longer reaches back that far. */
  changesSince(resource: string, rv: number, namespace?: string): ChangeEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    return this.history.filter((e) => e.rv > rv && e.resource === resource && (!namespace || e.object.metadata.namespace === namespace));
  }

  /** Forgets the history: every resourceVersion before now becomes Expired (410). */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  private record(verb: WriteRecord['verb'], t: ResourceType, obj: KubeObject, subresource: 'status' | undefined, changed: boolean, patchType?: PatchType): void {
    this.writes.push({
      verb, group: t.group, version: t.version, resource: t.plural, kind: t.kind, namespace: obj.metadata.namespace,
      name: obj.metadata.name, subresource, patchType, object: clone(obj), changed, by: this.actor,
    });
  }
}

function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${t.plural}${t.group ? '.' + t.group : ''} "${name}" not found`, { name, kind: t.plural, group: t.group });
}
