// Test support for the L7 proxy: real backend servers, a small real PoolRegistry (round robin
// over a snapshot's pools) and VsMetrics, certificates made with openssl, snapshot builders.
import { createServer, request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type {
  L7Context,
  PickContext,
  PoolGroupRuntime,
  PoolRegistry,
  PoolRuntime,
  SnapshotIndex,
  Upstream,
  VsMetrics,
  L7Listener,
} from '../../../src/engine/contracts.js';
import { createL7Listener } from '../../../src/engine/l7/index.js';

type Obj = Record<string, any>;

// ---- addresses ----------------------------------------------------------------------------

let nextHost = 1 + (process.pid % 200);
/** A fresh loopback address in 127.20.0.0/16 for this process (keeps parallel runs apart). */
export function freshAddress(): string {
  const n = nextHost++;
  return `127.20.${process.pid % 250}.${(n % 250) + 1}`;
}

// ---- backends -----------------------------------------------------------------------------

export interface Backend {
  name: string;
  address: string;
  port: number;
  server: Server;
  /** TCP connections the backend accepted (keep-alive reuse shows as few). */
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/**
 * A backend that answers JSON describing the request. Paths:
 * /echo streams the request body back; /chunked answers in chunks; /big?n=BYTES; /status/NNN;
 * /close answers with Connection: close. WebSocket upgrades are echoed byte for byte.
 */
export async function startBackend(name: string, address = freshAddress()): Promise<Backend> {
  const b: Backend = { name, address, port: 0, server: undefined as unknown as Server, connections: 0, requests: 0, close: async () => undefined };
  const server = createServer((req, res) => handle(b, req, res));
  server.keepAliveTimeout = 10_000;
  server.on('connection', () => b.connections++);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\n\r\n`);
    if (head.length) socket.write(head);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  b.port = (server.address() as AddressInfo).port;
  b.server = server;
  b.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return b;
}

function handle(b: Backend, req: IncomingMessage, res: ServerResponse): void {
  b.requests++;
  const url = new URL(req.url ?? '/', 'http://x');
  res.setHeader('x-backend', b.name);
  if (url.pathname === '/echo') {
    res.setHeader('content-type', 'application/octet-stream');
    if (req.headers['content-length']) res.setHeader('content-length', req.headers['content-length']);
    req.pipe(res);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (url.pathname === '/chunked') {
      res.setHeader('content-type', 'text/plain');
      res.write('part1-');
      setImmediate(() => {
        res.write('part2-');
        res.end('end');
      });
      return;
    }
    if (url.pathname === '/big') {
      const n = Number(url.searchParams.get('n') ?? '1000000');
      res.setHeader('content-length', n);
      res.end(Buffer.alloc(n, 'x'));
      return;
    }
    if (url.pathname.startsWith('/status/')) {
      res.statusCode = Number(url.pathname.slice(8));
      res.end();
      return;
    }
    if (url.pathname === '/close') res.setHeader('connection', 'close');
    if (url.pathname === '/hop') {
      res.setHeader('connection', 'close, x-hop');
      res.setHeader('x-hop', 'secret');
      res.setHeader('keep-alive', 'timeout=5');
    }
    const text = JSON.stringify({
      backend: b.name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyLength: body.length,
      body: body.length <= 256 ? body.toString('latin1') : undefined,
    });
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  });
}

// ---- pools --------------------------------------------------------------------------------

/** Round robin over a snapshot's pools; pool groups pick members by ratio (lowest index first on ties). */
export class RoundRobinPools implements PoolRegistry {
  private pools = new Map<string, TestPool>();
  private groups = new Map<string, PoolGroupRuntime>();

  constructor(index: SnapshotIndex) {
    this.update(index);
  }

  update(index: SnapshotIndex): void {
    for (const p of index.get('pool')?.values() ?? []) {
      const servers: Upstream[] = (p.servers ?? [])
        .filter((s: Obj) => s.enabled !== false)
        .map((s: Obj) => {
          const ip = String(s.ip?.addr ?? s.ip);
          const port = Number(s.port ?? p.default_server_port ?? 80);
          return { ip, port, key: `${ip}:${port}` };
        });
      const existing = this.pools.get(p.uuid);
      if (existing) existing.servers = servers;
      else this.pools.set(p.uuid, new TestPool(p.uuid, p.name, servers, p.persistence_cookie));
    }
    for (const g of index.get('poolgroup')?.values() ?? []) {
      const members: Obj[] = g.members ?? [];
      let turn = 0;
      this.groups.set(g.uuid, {
        uuid: g.uuid,
        pickPool: () => {
          const weighted: string[] = [];
          for (const m of members) for (let i = 0; i < (m.ratio ?? 1); i++) weighted.push(m.pool_ref);
          for (let i = 0; i < weighted.length; i++) {
            const p = this.pools.get(weighted[turn++ % weighted.length]);
            if (p && p.servers.length > 0) return p;
          }
          return undefined;
        },
      });
    }
  }

  pool(uuid: string): PoolRuntime | undefined {
    return this.pools.get(uuid);
  }

  poolGroup(uuid: string): PoolGroupRuntime | undefined {
    return this.groups.get(uuid);
  }

  /** Requests in flight on any pool (picks minus done). */
  get active(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.active;
    return n;
  }
}

class TestPool implements PoolRuntime {
  private turn = 0;
  active = 0;
  readonly persistenceCookieName?: string;

  constructor(
    readonly uuid: string,
    readonly name: string,
    public servers: Upstream[],
    cookie?: string,
  ) {
    if (cookie) this.persistenceCookieName = cookie;
  }

  pick(ctx: PickContext): Upstream | undefined {
    if (this.servers.length === 0) return undefined;
    let u: Upstream | undefined;
    if (ctx.persistenceCookie) u = this.servers.find((s) => s.key === Buffer.from(ctx.persistenceCookie!, 'base64url').toString());
    u ??= this.servers[this.turn++ % this.servers.length];
    this.active++;
    return u;
  }

  done(): void {
    this.active--;
  }

  persistenceCookieValue(u: Upstream): string {
    return Buffer.from(u.key).toString('base64url');
  }
}

// ---- metrics and context -------------------------------------------------------------------

export interface RecordedRequest {
  vs: string;
  status: number;
  pool?: string;
  server?: string;
  bytesIn: number;
  bytesOut: number;
}

export class TestMetrics implements VsMetrics {
  readonly registry = new Registry();
  readonly requests: RecordedRequest[] = [];
  opened = 0;
  closed = 0;

  connectionOpened(): void {
    this.opened++;
  }

  connectionClosed(): void {
    this.closed++;
  }

  request(vs: string, status: number, _latencyMs: number, bytesIn: number, bytesOut: number, pool?: string, server?: string): void {
    this.requests.push({ vs, status, pool, server, bytesIn, bytesOut });
  }
}

export interface TestLog {
  lines: { level: string; obj: object; msg?: string }[];
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function testLog(): TestLog {
  const lines: TestLog['lines'] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

export function testContext(index: SnapshotIndex): L7Context & { pools: RoundRobinPools; metrics: TestMetrics; log: TestLog } {
  return { pools: new RoundRobinPools(index), metrics: new TestMetrics(), log: testLog() };
}

// ---- snapshots ----------------------------------------------------------------------------

export function indexOf(objects: Obj[]): SnapshotIndex {
  const m = new Map<string, Map<string, Obj>>();
  for (const o of objects) {
    const type = String(o.uuid).slice(0, String(o.uuid).indexOf('-'));
    if (!m.has(type)) m.set(type, new Map());
    m.get(type)!.set(o.uuid, o);
  }
  return m;
}

export function poolOf(uuid: string, backends: Backend[], extra: Obj = {}): Obj {
  return {
    uuid,
    name: uuid,
    servers: backends.map((b) => ({ ip: { addr: b.address, type: 'V4' }, port: b.port })),
    ...extra,
  };
}

// ---- certificates -------------------------------------------------------------------------

export interface Cert {
  cert: string;
  key: string;
}

const certCache = new Map<string, Cert>();

/** A self-signed certificate for `cn` (and its SANs), RSA or EC, made by the openssl CLI. */
export function makeCert(cn: string, kind: 'rsa' | 'ec' = 'rsa', sans: string[] = [cn]): Cert {
  const id = `${cn}|${kind}|${sans.join(',')}`;
  const cached = certCache.get(id);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'portico-l7-cert-'));
  try {
    const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
    execFileSync(
      'openssl',
      ['req', '-x509', ...keyArgs, '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '30', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${sans.map((s) => `DNS:${s}`).join(',')}`],
      { stdio: 'ignore' },
    );
    const c = { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
    certCache.set(id, c);
    return c;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function certObject(uuid: string, name: string, c: Cert): Obj {
  return { uuid, name, type: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', certificate: { certificate: c.cert }, key: c.key };
}

/** Polls `cond` until true or the deadline passes. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends raw bytes and collects everything the server sends until it closes (or `ms` pass). */
export function rawExchange(address: string, port: number, data: string | Buffer | (string | Buffer)[], ms = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: address, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    s.on('connect', () => {
      for (const d of Array.isArray(data) ? data : [data]) s.write(d);
    });
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNRESET') {
        clearTimeout(timer);
        reject(e);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
  });
}

export interface Proxy {
  listener: L7Listener;
  ctx: ReturnType<typeof testContext>;
  address: string;
  port: number;
  url: string;
  update(objects: Obj[]): void;
  close(): Promise<void>;
}

/** Starts an L7 listener for `vsUuid` on a fresh address (port 8080 unless given). */
export async function startProxy(objects: Obj[], vsUuid: string, opts: { tls?: boolean; port?: number } = {}): Promise<Proxy> {
  const index = indexOf(objects);
  const ctx = testContext(index);
  const address = freshAddress();
  const port = opts.port ?? (opts.tls ? 8443 : 8080);
  const listener = createL7Listener({ address, port, tls: opts.tls ?? false, vsUuid }, index, ctx);
  await listener.listen();
  return {
    listener,
    ctx,
    address,
    port,
    url: `${opts.tls ? 'https' : 'http'}://${address}:${port}`,
    update(next: Obj[]) {
      const idx = indexOf(next);
      ctx.pools.update(idx);
      listener.update(idx);
    },
    close: () => listener.close(),
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

/** One request with node's http/https client; `body` may be a Buffer or an async iterable (streamed chunked). */
export function request(
  url: string,
  opts: RequestOptions & { servername?: string; body?: Buffer | string | AsyncIterable<Buffer>; agent?: HttpAgent | false } = {},
): Promise<Reply> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = mod(u, { rejectUnauthorized: false, ...opts } as RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // A test must fail, not hang, when the proxy never answers.
    req.setTimeout(15_000, () => req.destroy(new Error(`no response from ${url} within 15 s`)));
    const b = opts.body;
    if (b === undefined) req.end();
    else if (typeof b === 'string' || Buffer.isBuffer(b)) req.end(b);
    else
      (async () => {
        for await (const c of b) req.write(c);
        req.end();
      })().catch(reject);
  });
}

/** The first bytes (the ClientHello) a node TLS client with `opts` sends, caught by a throwaway server on `address`. */
export function captureClientHello(address: string, opts: ConnectionOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = createNetServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        catcher.close();
      });
    });
    catcher.on('error', reject);
    catcher.listen(0, address, () => {
      const port = (catcher.address() as AddressInfo).port;
      const c = tlsConnect({ host: address, port, rejectUnauthorized: false, ...opts });
      c.on('error', () => undefined);
    });
  });
}
