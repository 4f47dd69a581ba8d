// An L7 listener: one VIP:port of a normal or VH-parent VS, plain or TLS. It owns the server
// socket, the routing table (swapped whole on update()), per-VS connection limits and the
// drain on close().
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { createServer as createH2Server, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { L7Context, L7Listener, L7ListenerSpec, SnapshotIndex } from '../contracts.js';
import { buildRoutes, childFor, type ListenerRoutes } from './routing.js';
import { CertContexts, pickContext } from './certificates.js';
import { readHello } from './tls/hello-reader.js';
import { adoptShared } from '../runtime/shared-read.js';
import { SessionCache } from './tls/session-cache.js';
import type { HelloFacts } from './tls/client-hello.js';
import { sharedUpstreamPool, type UpstreamPool } from './upstream-pool.js';
import { Http1Connection } from './http1/connection.js';
import { H2Exchange } from './h2/stream.js';
import type { ListenerState, SlowHead } from './listener-state.js';

/** Open connections per VS across all its listeners (max_concurrent_connections is per VS). */
const connectionsPerVs = new Map<string, number>();
/** ALPN list in wire form (length-prefixed names), so no TLS socket converts it again. */
const ALPN = Buffer.from('\x02h2\x08http/1.1', 'latin1');

// Per-connection handlers are shared functions that find their listener through a symbol on the
// socket: no closures allocated per connection (`once` would add two more objects each).
const OWNER = Symbol('l7 listener');
const RAW = Symbol('raw socket');
type Owned = Socket & { [OWNER]?: L7ListenerImpl };
type Terminated = TLSSocket & { [OWNER]?: L7ListenerImpl; [RAW]?: Socket; sni?: string };

function ignore(): void {}

function destroySelf(this: Socket): void {
  this.destroy();
}

function onAdmittedClose(this: Owned): void {
  this[OWNER]!.released(this);
}

const OPEN_STREAMS = Symbol('open h2 streams');
type Tracked = Http2Session & { [OPEN_STREAMS]?: Set<ServerHttp2Stream>; [OWNER]?: L7ListenerImpl };
type TrackedStream = ServerHttp2Stream & { [OPEN_STREAMS]?: Set<ServerHttp2Stream> };

/** How long an idle session with a stream waiting for its upstream has to answer a PING. */
const PING_GRACE_MS = 5000;

/**
 * An HTTP/2 session idle for keepalive_timeout ends, unless one of its streams has a complete
 * request (it waits for its upstream: server_timeout applies) and the client answers a PING.
 * Besides idle clients, this ends sessions that answered a protocol error with GOAWAY: nghttp2
 * then stops reading, the client's close is never seen, and the socket stayed in CLOSE-WAIT
 * with its session and streams for good (found by the generated HTTP/2 cases of
 * test/security/dataplane).
 */
function endIdleSession(this: Tracked): void {
  for (const stream of this[OPEN_STREAMS] ?? []) {
    if (stream.endAfterHeaders || stream.readableEnded) return probeSession(this);
  }
  destroySession(this);
}

function probeSession(session: Tracked): void {
  const timer = setTimeout(destroySession, PING_GRACE_MS, session).unref();
  try {
    session.ping((err) => {
      clearTimeout(timer);
      if (err) destroySession(session);
    });
  } catch {
    clearTimeout(timer);
    destroySession(session);
  }
}

function destroySession(session: Http2Session): void {
  // Through Node's socket proxy: the TCP socket under the TLS one, closed so a stuck TLS layer
  // cannot hold it open.
  const raw = (session.socket as unknown as Terminated | undefined)?.[RAW];
  session.destroy();
  raw?.destroy();
}

function onSessionClosed(this: Tracked): void {
  this[OWNER]!.sessionClosed(this);
}

function onStreamClosed(this: TrackedStream): void {
  this[OPEN_STREAMS]?.delete(this);
}

function onSecure(this: Terminated): void {
  this[OWNER]!.handshakeDone(this);
}

export class L7ListenerImpl implements L7Listener, ListenerState {
  routes: ListenerRoutes;
  readonly upstreams: UpstreamPool = sharedUpstreamPool();
  draining = false;
  readonly slowHeads = new Set<SlowHead>();
  private readonly certs = new CertContexts();
  /** Session-ID resumption (tickets need no server state). */
  private readonly tlsSessions = new SessionCache();
  private readonly connections = new Set<Http1Connection>();
  private readonly sessions = new Set<Http2Session>();
  private readonly sockets = new Set<Socket>();
  /** TLS connections before their handshake completed, by accept time (the header timeout applies). */
  private readonly handshaking = new Map<Socket, number>();
  private server: Server | undefined;
  private h2: Http2Server | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(
    readonly spec: L7ListenerSpec,
    index: SnapshotIndex,
    readonly ctx: L7Context,
  ) {
    this.routes = this.build(index);
  }

  private build(index: SnapshotIndex): ListenerRoutes {
    this.certs.beginUpdate();
    const routes = buildRoutes(this.spec, index, this.certs, (msg, where) => this.ctx.log.warn({ vs: this.spec.vsUuid, where }, msg));
    this.certs.endUpdate();
    return routes;
  }

  listen(): Promise<void> {
    // Plain HTTP: accepted paused, then moved to a socket that reads through the shared buffer.
    const server = this.spec.tls ? this.createTls() : createNetServer({ noDelay: true, pauseOnConnect: true });
    // Admission first: a refused socket is destroyed before any handler sees it.
    if (this.spec.tls) server.prependListener('connection', this.admit);
    else
      server.on('connection', (raw: Socket) => {
        const s = adoptShared(raw);
        this.admit(s);
        this.startConnection(s, undefined, '');
      });
    this.server = server;
    this.sweeper = setInterval(this.sweepSlowHeads, Math.max(50, Math.min(1000, this.routes.limits.headerTimeoutMs / 4)));
    this.sweeper.unref();
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        clearInterval(this.sweeper);
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: this.spec.address, port: this.spec.port, backlog: 1024 }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.ctx.log.error({ vs: this.spec.vsUuid, err: err.message }, 'l7 listener error'));
        resolve();
      });
    });
  }

  /** TLS is terminated on sockets of a plain server: the ClientHello is read first to pick the certificate. */
  private createTls(): Server {
    const server = createNetServer({ noDelay: true });
    server.on('connection', (raw: Socket) => {
      if (raw.destroyed) return;
      this.handshaking.set(raw, performance.now());
      readHello(raw, this);
    });
    const limits = this.routes.limits;
    // Stream concurrency and header limits bound what one HTTP/2 client can make us hold.
    const h2 = createH2Server({
      maxSessionMemory: 64,
      maxHeaderListPairs: limits.maxHeaderCount,
      settings: { maxConcurrentStreams: 128, maxHeaderListSize: limits.maxHeaderBytes },
    });
    h2.on('session', (session: Tracked) => {
      this.sessions.add(session);
      session[OWNER] = this;
      session.on('close', onSessionClosed);
      session.on('error', ignore);
      session.setTimeout(this.routes.limits.keepaliveTimeoutMs, endIdleSession);
      if (this.draining) session.close();
    });
    h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const session = stream.session as Tracked | undefined;
      if (session) {
        const open = (session[OPEN_STREAMS] ??= new Set());
        open.add(stream);
        (stream as TrackedStream)[OPEN_STREAMS] = open;
        stream.once('close', onStreamClosed);
      }
      const sock = session?.socket as TLSSocket | undefined;
      const sni = (sock as (TLSSocket & { sni?: string }) | undefined)?.sni ?? '';
      try {
        new H2Exchange(stream, headers, this, sni, sock?.remoteAddress ?? '', sock?.remotePort ?? 0).start();
      } catch (e) {
        this.ctx.log.error({ vs: this.spec.vsUuid, err: (e as Error).stack }, 'h2 stream error');
        if (!stream.destroyed) stream.close(2);
      }
    });
    this.h2 = h2;
    return server;
  }

  /** Starts TLS on `raw` with the certificate for this SNI name and key type. */
  startTls(raw: Socket, hello: HelloFacts | undefined): void {
    try {
      this.terminate(raw, hello);
    } catch (e) {
      // Runs inside the raw socket's 'data' event: an exception here would reach the process.
      this.ctx.log.error({ vs: this.spec.vsUuid, err: (e as Error).stack }, 'l7 TLS setup failed');
      raw.destroy();
    }
  }

  private terminate(raw: Socket, hello: HelloFacts | undefined): void {
    const sni = hello?.servername ?? '';
    const child = sni === '' ? undefined : childFor(this.routes, sni);
    const entry = child?.certificate ?? this.routes.fallback;
    const context = entry ? pickContext(entry, hello?.ecdsa ?? false) : undefined;
    if (!context) {
      this.ctx.log.warn({ vs: this.spec.vsUuid, sni }, 'no certificate for this TLS connection');
      raw.destroy();
      return;
    }
    // The session-ID cache only for clients that cannot use tickets: with it Node calls into JS
    // on every ClientHello and every issued session (each TLS 1.3 ticket), for nothing.
    const server = hello?.sessionIdOnly !== false ? (this.tlsSessions as unknown as Server) : undefined;
    const tls: Terminated = new TLSSocket(raw, { isServer: true, secureContext: context, ALPNProtocols: ALPN, server });
    tls.sni = sni;
    tls[OWNER] = this;
    tls[RAW] = raw;
    // Failed handshakes (scanners, wrong versions) are routine; they never reach the VS.
    tls.on('error', destroySelf);
    tls.on('secure', onSecure);
  }

  handshakeDone(tls: Terminated): void {
    // A TLS 1.2 renegotiation ends in 'secure' again: one connection handler per socket.
    tls.off('secure', onSecure);
    this.handshaking.delete(tls[RAW]!);
    this.startConnection(tls, tls, tls.sni ?? '');
  }

  /** Counts the connection against the VS's limit; refuses it at the limit. */
  private admit = (socket: Socket): void => {
    const vs = this.spec.vsUuid;
    const max = this.routes.limits.maxConnections;
    const open = connectionsPerVs.get(vs) ?? 0;
    socket.on('error', ignore);
    if (this.draining || (max > 0 && open >= max)) {
      socket.destroy();
      return;
    }
    connectionsPerVs.set(vs, open + 1);
    this.sockets.add(socket);
    this.ctx.metrics.connectionOpened(vs);
    (socket as Owned)[OWNER] = this;
    socket.on('close', onAdmittedClose);
  };

  sessionClosed(session: Http2Session): void {
    this.sessions.delete(session);
  }

  /** An admitted connection closed. */
  released(socket: Socket): void {
    const vs = this.spec.vsUuid;
    const n = (connectionsPerVs.get(vs) ?? 1) - 1;
    if (n <= 0) connectionsPerVs.delete(vs);
    else connectionsPerVs.set(vs, n);
    this.sockets.delete(socket);
    this.handshaking.delete(socket);
    this.ctx.metrics.connectionClosed(vs);
    if (this.drained && this.sockets.size === 0) this.drained();
  }

  private startConnection(socket: Socket, tls: TLSSocket | undefined, sni: string): void {
    if (socket.destroyed) return;
    try {
      if (tls && tls.alpnProtocol === 'h2') {
        // tls.Server clears this flag on handshake; http2 waits for it (we made the socket ourselves).
        (tls as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
        this.h2!.emit('connection', tls);
        return;
      }
      const conn = new Http1Connection(socket, this, tls !== undefined, sni);
      this.connections.add(conn);
      if (this.draining) conn.drain();
    } catch (e) {
      this.ctx.log.error({ vs: this.spec.vsUuid, err: (e as Error).stack }, 'l7 connection setup failed');
      socket.destroy();
    }
  }

  connectionClosed(conn: object): void {
    this.connections.delete(conn as Http1Connection);
  }

  private sweepSlowHeads = (): void => {
    if (this.slowHeads.size === 0 && this.handshaking.size === 0) return;
    const limit = performance.now() - this.routes.limits.headerTimeoutMs;
    // A ClientHello or handshake that takes longer than a request head may is cut (oldest first).
    for (const [raw, at] of this.handshaking) {
      if (at >= limit) break;
      this.handshaking.delete(raw);
      raw.destroy();
    }
    for (const c of [...this.slowHeads]) {
      if (c.headStartedAt !== 0 && c.headStartedAt < limit) {
        this.slowHeads.delete(c);
        try {
          c.headTimedOut();
        } catch {
          (c as unknown as Http1Connection).socket.destroy();
        }
      }
    }
  };

  update(index: SnapshotIndex): void {
    try {
      this.routes = this.build(index);
    } catch (e) {
      this.ctx.log.error({ vs: this.spec.vsUuid, err: (e as Error).message }, 'l7 update rejected; the previous configuration stays');
      return;
    }
  }

  close(): Promise<void> {
    if (this.draining) return Promise.resolve();
    this.draining = true;
    clearInterval(this.sweeper);
    const server = this.server;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const c of [...this.connections]) c.drain();
    for (const s of [...this.sessions]) s.close();
    const drained = new Promise<void>((resolve) => {
      if (this.sockets.size === 0) resolve();
      else this.drained = resolve;
    });
    // In-flight requests get the keep-alive timeout to finish; then what is left is cut.
    const deadline = setTimeout(() => {
      for (const s of [...this.sockets]) s.destroy();
    }, this.routes.limits.keepaliveTimeoutMs);
    deadline.unref();
    return Promise.all([closed, drained]).then(() => clearTimeout(deadline));
  }
}
