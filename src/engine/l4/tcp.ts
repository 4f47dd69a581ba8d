// TCP proxy for one VIP:port of an L4 virtual service. Each client connection gets one upstream
// connection to a server the pool picks; bytes are piped both ways with backpressure, a FIN
// from either side is passed on (half-close), and idle sessions are closed.
import net from 'node:net';
import type { PoolRuntime, Upstream } from '../contracts.js';
import type { EngineMetrics } from '../runtime/metrics.js';
import { peekSni, sniPool, type SniRoute } from './passthrough.js';
import { adoptShared, connectShared, readInto } from '../runtime/shared-read.js';

/** What a TCP listener needs from the runtime; swapped atomically when the VS changes. */
export interface L4Route {
  vsUuid: string;
  /** The pool for this port (l4policyset rule, else the VS's pool_ref / pool group). */
  pool(): PoolRuntime | undefined;
  idleTimeoutMs: number;
  /** Open connections (TCP) or flows (UDP) across all the VS's listeners; 0: unlimited. */
  maxConnections: number;
  /** SNI passthrough (AKO's datascript, run natively): the pool group comes from the ClientHello. */
  sni?: SniRoute;
}

const CONNECT_ATTEMPTS = 3;

// Hand-written pumps instead of stream.pipe: one call per chunk each way (reads through the shared
// buffer), backpressure by pausing the other side, a FIN passed on by 'end'.

class TcpSession {
  private upstream: net.Socket | undefined;
  private server: Upstream | undefined;
  private pool: PoolRuntime | undefined;
  private attempts = 0;
  private readonly started = Date.now();
  private closed = false;
  private connected = false;
  /** The pool group an SNI passthrough selected; undefined: the route's pool. */
  private sniGroup: string | undefined;

  constructor(private readonly client: net.Socket, private readonly listener: TcpListener, private readonly route: L4Route) {
    client.setNoDelay(true);
    client.on('error', this.onError);
    client.on('close', this.onClose);
    if (route.idleTimeoutMs > 0) {
      client.setTimeout(route.idleTimeoutMs);
      client.on('timeout', this.onError);
    }
    // The callback only for SNI passthrough: other sessions allocate none.
    if (route.sni) peekSni(client, route.sni, (poolGroup) => this.sniRouted(poolGroup));
    else this.connect();
  }

  private sniRouted(poolGroup: string): void {
    this.sniGroup = poolGroup;
    this.connect();
  }

  private connect(): void {
    const pool = this.sniGroup === undefined ? this.route.pool() : sniPool(this.route.sni!, this.sniGroup);
    const server = pool?.pick({ clientIp: this.client.remoteAddress ?? '', clientPort: this.client.remotePort ?? 0 });
    if (!pool || !server) {
      // No healthy server: close the client at once (RST) and count it.
      this.listener.metrics.noServer(this.route.vsUuid);
      this.client.resetAndDestroy();
      return;
    }
    this.pool = pool;
    this.server = server;
    this.attempts++;
    const up = connectShared({ host: server.ip, port: server.port, allowHalfOpen: true, noDelay: true });
    this.upstream = up;
    up.once('connect', this.onConnect);
    up.on('error', this.onUpstreamError);
    up.on('close', this.onClose);
    if (this.route.idleTimeoutMs > 0) {
      up.setTimeout(this.route.idleTimeoutMs);
      up.on('timeout', this.onError);
    }
  }

  private readonly onConnect = (): void => {
    const up = this.upstream!;
    this.connected = true;
    const client = this.client;
    client.on('end', this.clientEnded);
    client.on('drain', this.clientDrained);
    up.on('end', this.serverEnded);
    up.on('drain', this.serverDrained);
    readInto(up, this.toClient);
    readInto(client, this.toServer);
    client.resume();
  };

  private readonly toClient = (chunk: Buffer): void => {
    if (!this.client.write(chunk)) this.upstream!.pause();
  };

  private readonly toServer = (chunk: Buffer): void => {
    if (!this.upstream!.write(chunk)) this.client.pause();
  };

  private readonly clientDrained = (): void => {
    this.upstream?.resume();
  };

  private readonly serverDrained = (): void => {
    this.client.resume();
  };

  private readonly clientEnded = (): void => {
    this.upstream?.end();
  };

  private readonly serverEnded = (): void => {
    this.client.end();
  };

  /** Before the connection is up, try another server; afterwards, end both sides. */
  private readonly onUpstreamError = (): void => {
    const up = this.upstream!;
    if (!this.connected) {
      up.removeListener('close', this.onClose);
      up.destroy();
      this.release();
      this.upstream = undefined;
      if (this.attempts < CONNECT_ATTEMPTS && !this.client.destroyed) return this.connect();
      this.client.resetAndDestroy();
      return;
    }
    this.onError();
  };

  private readonly onError = (): void => {
    this.client.destroy();
    this.upstream?.destroy();
  };

  /**
   * A socket closed. Graceful ends travel through the pipes (a FIN one way ends the other
   * side's write half), and each socket closes once both its halves are done; an abrupt close
   * (reset, error) of one side destroys the other.
   */
  private readonly onClose = (hadError?: boolean): void => {
    const up = this.upstream;
    if (hadError) this.onError();
    if (!this.client.destroyed) {
      if (up?.destroyed && !up.readableEnded) this.client.destroy();
      return;
    }
    if (up && !up.destroyed) {
      if (!this.client.readableEnded) up.destroy();
      return;
    }
    if (this.closed) return;
    this.closed = true;
    const pool = this.pool;
    const server = this.server;
    this.release();
    this.listener.sessionEnded(this);
    if (pool && server) this.listener.metrics.request(this.route.vsUuid, 0, Date.now() - this.started, this.client.bytesRead, this.client.bytesWritten, pool.uuid, server.key);
  };

  private release(): void {
    if (this.server && this.pool) this.pool.done(this.server);
    this.server = undefined;
  }

  destroy(): void {
    this.onError();
  }
}

export class TcpListener {
  private readonly server: net.Server;
  private readonly sessions = new Set<TcpSession>();
  private drained: (() => void) | undefined;

  constructor(readonly address: string, readonly port: number, public route: L4Route, readonly metrics: EngineMetrics) {
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, this.onConnection);
    this.server.on('error', () => {});
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        this.server.removeListener('error', onError);
        resolve();
      });
    });
  }

  private readonly onConnection = (client: net.Socket): void => {
    const route = this.route;
    if (route.maxConnections > 0 && this.metrics.counters(route.vsUuid).open >= route.maxConnections) {
      this.metrics.noServer(route.vsUuid);
      client.resetAndDestroy();
      return;
    }
    this.metrics.connectionOpened(route.vsUuid);
    // SNI passthrough peeks and puts bytes back through the stream: it keeps the accepted socket.
    this.sessions.add(new TcpSession(route.sni ? client : adoptShared(client), this, route));
  };

  sessionEnded(s: TcpSession): void {
    this.sessions.delete(s);
    this.metrics.connectionClosed(this.route.vsUuid);
    if (this.sessions.size === 0) this.drained?.();
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Stops accepting at once; resolves when the open sessions have finished (or `forceAfterMs` passed). */
  close(forceAfterMs = 0): Promise<void> {
    this.server.close();
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.drained = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (forceAfterMs > 0) {
        timer = setTimeout(() => {
          for (const s of this.sessions) s.destroy();
        }, forceAfterMs);
        timer.unref();
      }
    });
  }
}
