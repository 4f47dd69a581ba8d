// The HTTP face of the double: discovery, CRUD, patch, the status subresource and watch streams,
// shaped like kube-apiserver's answers so @kubernetes/client-node works against it unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_RESOURCES, groupVersion, resourceId, type ResourceType } from './catalog.js';
import { patchTypeOf, PatchError } from './patch.js';
import { parseFieldSelector, parseLabelSelector, SelectorError, type Matcher } from './selectors.js';
import { ApiError, type ChangeEvent, type KubeObject, type Store } from './store.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const BUILTIN = new Set(BUILTIN_RESOURCES);
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** An open watch response. */
export interface WatchStream {
  resource: string;
  bookmarks: boolean;
  close(): void;
  bookmark(rv: string): void;
}

/** A request the double answers with an error on purpose (outage simulation in tests). */
export interface InjectedFailure {
  method?: string;
  /** Substring of (or pattern for) the request path and query. */
  path?: string | RegExp;
  code: number;
  /** How many matching requests fail; Infinity until cleared. */
  remaining: number;
}

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: 'status';
}

export class RequestHandler {
  readonly streams = new Set<WatchStream>();
  readonly failures: InjectedFailure[] = [];
  /** Requests served, as `METHOD path` (plus ` (watch)` for watches), for tests that check what a client did. */
  readonly requests: string[] = [];

  constructor(private readonly store: Store, private readonly token?: string) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://double');
      const method = (req.method ?? 'GET').toUpperCase();
      const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
      this.requests.push(`${method} ${url.pathname}${watching ? ' (watch)' : ''}`);
      if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      this.injectFailure(method, url);
      const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
      if (method === 'GET' && this.discovery(segments, res)) return;
      const target = this.resolve(segments);
      const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readBody(req) : undefined;
      this.store.actor = 'client';
      try {
        await this.dispatch(method, target, url.searchParams, req, res, body);
      } finally {
        this.store.actor = 'test';
      }
    } catch (err) {
      sendError(res, err);
    }
  }

  private injectFailure(method: string, url: URL): void {
    const where = url.pathname + url.search;
    const f = this.failures.find((x) => x.remaining > 0 && (!x.method || x.method.toUpperCase() === method)
      && (!x.path || (typeof x.path === 'string' ? where.includes(x.path) : x.path.test(where))));
    if (!f) return;
    f.remaining -= 1;
    throw new ApiError(f.code, 'InjectedFailure', `failure injected by the test (${f.code})`);
  }

  private discovery(seg: string[], res: ServerResponse): boolean {
    const catalog = this.store.catalog;
    const groups = catalog.groups();
    if (seg.length === 1 && seg[0] === 'version') {
      sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-portico-double', platform: `${process.platform}/${process.arch}` });
      return true;
    }
    if (seg.length === 1 && seg[0] === 'api') {
      sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      return true;
    }
    if (seg.length === 1 && seg[0] === 'apis') {
      const list = [...groups.entries()].filter(([g]) => g !== '').map(([g, versions]) => apiGroup(g, versions));
      sendJson(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: list });
      return true;
    }
    if (seg.length === 2 && seg[0] === 'apis') {
      const versions = groups.get(seg[1]);
      if (!versions) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      sendJson(res, 200, { apiVersion: 'v1', ...apiGroup(seg[1], versions) });
      return true;
    }
    const gv = (seg[0] === 'api' && seg.length === 2) ? ['', seg[1]] : (seg[0] === 'apis' && seg.length === 3) ? [seg[1], seg[2]] : undefined;
    if (!gv) return false;
    const types = catalog.all().filter((t) => t.group === gv[0] && t.version === gv[1]);
    if (types.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const resources: object[] = [];
    for (const t of types) {
      resources.push({ name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: VERBS, shortNames: t.shortNames });
      if (t.status) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
    }
    sendJson(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group: gv[0], version: gv[1] }), resources });
    return true;
  }

  private resolve(seg: string[]): Target {
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg.length >= 3) [group, version, rest] = ['', seg[1], seg.slice(2)];
    else if (seg[0] === 'apis' && seg.length >= 4) [group, version, rest] = [seg[1], seg[2], seg.slice(3)];
    else throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const catalog = this.store.catalog;
    let type: ResourceType | undefined;
    let namespace: string | undefined;
    let name: string | undefined;
    let sub: string | undefined;
    const nsType = rest[0] === 'namespaces' && rest.length >= 3 ? catalog.find(group, version, rest[2]) : undefined;
    if (nsType?.namespaced) [type, namespace, name, sub] = [nsType, rest[1], rest[3], rest[4]];
    else [type, name, sub] = [catalog.find(group, version, rest[0]), rest[1], rest[2]];
    if (!type || (sub !== undefined && !(sub === 'status' && type.status))) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    return { type, namespace, name, subresource: sub === 'status' ? 'status' : undefined };
  }

  private async dispatch(method: string, t: Target, q: URLSearchParams, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const { type, namespace, name, subresource } = t;
    switch (method) {
      case 'GET':
        if (name) return sendJson(res, 200, this.store.get(type, namespace, name));
        if (q.get('watch') === 'true' || q.get('watch') === '1') return this.watch(t, q, req, res);
        return sendJson(res, 200, this.list(t, q));
      case 'POST':
        if (name) throw new ApiError(405, 'MethodNotAllowed', 'POST goes to the collection, not to a named object');
        return sendJson(res, 201, this.store.create(type, namespace, asObject(body)));
      case 'PUT':
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'PUT needs an object name in the path');
        return sendJson(res, 200, this.store.update(type, namespace, name, asObject(body), subresource));
      case 'PATCH': {
        if (!name) throw new ApiError(405, 'MethodNotAllowed', 'PATCH needs an object name in the path');
        const patchType = patchTypeOf(req.headers['content-type']);
        if (!patchType) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${req.headers['content-type'] ?? 'none'})`);
        const existed = this.exists(type, namespace, name);
        const out = this.store.patch(type, namespace, name, patchType, body, subresource);
        return sendJson(res, existed ? 200 : 201, out);
      }
      case 'DELETE': {
        if (name) return sendJson(res, 200, this.store.delete(type, namespace, name));
        // deletecollection: everything matching the selectors, in the namespace (or all of them).
        const match = selectors(q);
        const gone = this.store.list(type, namespace).filter(match).map((o) => this.store.delete(type, o.metadata.namespace, o.metadata.name));
        return sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: { resourceVersion: this.store.resourceVersion }, items: gone });
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `method ${method} is not supported`);
    }
  }

  private exists(type: ResourceType, namespace: string | undefined, name: string): boolean {
    try { this.store.get(type, namespace, name); return true; } catch { return false; }
  }

  private list(t: Target, q: URLSearchParams): object {
    const match = selectors(q);
    let items = this.store.list(t.type, t.namespace).filter(match);
    const listRv = this.store.resourceVersion;
    let continueToken: string | undefined;
    let remaining: number | undefined;
    const cont = q.get('continue');
    if (cont) {
      const token = decodeContinue(cont);
      if (Number(token.rv) < this.store.oldestResumableVersion) {
        throw new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      items = items.filter((o) => objectKey(o) > token.after);
    }
    const limit = Number(q.get('limit') ?? '0');
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      continueToken = Buffer.from(JSON.stringify({ rv: listRv, after: objectKey(items[items.length - 1]) })).toString('base64url');
    }
    const builtin = BUILTIN.has(t.type);
    return {
      kind: `${t.type.kind}List`,
      apiVersion: groupVersion(t.type),
      metadata: { resourceVersion: listRv, continue: continueToken, remainingItemCount: remaining },
      // kube-apiserver leaves kind/apiVersion off the items of built-in lists (not off custom ones).
      items: builtin ? items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) : items,
    };
  }

  private watch(t: Target, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const match = selectors(q);
    const resource = resourceId(t.type);
    const rvParam = q.get('resourceVersion') ?? '';
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    const write = (type: string, object: unknown): void => { res.write(JSON.stringify({ type, object }) + '\n'); };
    const deliver = (ev: ChangeEvent): void => {
      const now = match(ev.object);
      if (ev.type === 'MODIFIED') {
        const was = ev.previous ? match(ev.previous) : now;
        if (now && was) write('MODIFIED', ev.object);
        else if (now) write('ADDED', ev.object);
        else if (was) write('DELETED', ev.object);
      } else if (now) {
        write(ev.type, ev.object);
      }
    };
    if (rvParam === '' || rvParam === '0') {
      for (const o of this.store.list(t.type, t.namespace)) if (match(o)) write('ADDED', o);
    } else {
      const rv = Number(rvParam);
      const changes = Number.isInteger(rv) ? this.store.changesSince(resource, rv, t.namespace) : undefined;
      if (!changes) {
        write('ERROR', new ApiError(410, 'Expired', `too old resource version: ${rvParam} (${this.store.oldestResumableVersion})`).toStatus());
        res.end();
        return;
      }
      for (const ev of changes) deliver(ev);
    }
    const watcher = { resource, namespace: t.namespace, send: deliver };
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const stream: WatchStream = {
      resource,
      bookmarks,
      close: () => { cleanup(); res.end(); },
      bookmark: (rv) => { if (bookmarks) write('BOOKMARK', { kind: t.type.kind, apiVersion: groupVersion(t.type), metadata: { resourceVersion: rv } }); },
    };
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    const timer = timeoutSeconds > 0 ? setTimeout(() => { stream.bookmark(this.store.resourceVersion); stream.close(); }, timeoutSeconds * 1000) : undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      this.store.watchers.delete(watcher);
      this.streams.delete(stream);
    };
    this.store.watchers.add(watcher);
    this.streams.add(stream);
    req.on('close', cleanup);
    res.on('close', cleanup);
  }
}

function apiGroup(name: string, versions: string[]): object {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { kind: 'APIGroup', name, versions: list, preferredVersion: list[0] };
}

function selectors(q: URLSearchParams): Matcher {
  try {
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined);
    return (o) => labels(o) && fields(o);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', (err as SelectorError).message);
  }
}

function objectKey(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function decodeContinue(token: string): { rv: string; after: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: string; after: string };
    if (typeof t.rv === 'string' && typeof t.after === 'string') return t;
  } catch { /* answered below */ }
  throw new ApiError(400, 'BadRequest', 'continue: invalid continue token');
}

function asObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'BadRequest', 'the request body must be a JSON object');
  return body as KubeObject;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'BadRequest', 'the request body is empty');
  const yaml = (req.headers['content-type'] ?? '').includes('yaml');
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the request body is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const apiErr = err instanceof ApiError ? err
    : err instanceof PatchError ? new ApiError(422, 'Invalid', `the patch could not be applied: ${err.message}`)
      : new ApiError(500, 'InternalError', `internal error: ${(err as Error)?.message ?? String(err)}`);
  sendJson(res, apiErr.code, apiErr.toStatus());
}
