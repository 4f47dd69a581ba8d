// Keep-alive connections to backend servers, shared by every L7 listener of the process.
// Each pooled socket has its event handlers bound once; the exchange using it is its `owner`,
// so no closure is made per request.
import type { Socket } from 'node:net';
import { connectShared, readInto } from '../runtime/shared-read.js';
import type { Upstream } from '../contracts.js';

export interface UpstreamOwner {
  onUpstreamConnect(conn: UpstreamConn): void;
  onUpstreamData(conn: UpstreamConn, chunk: Buffer): void;
  /** EOF or close from the server, or a socket error. */
  onUpstreamClosed(conn: UpstreamConn, err: Error | undefined): void;
  onUpstreamDrain(conn: UpstreamConn): void;
  /** The server sent nothing for the exchange's timeout (the pool's server_timeout). */
  onUpstreamTimeout(conn: UpstreamConn): void;
}

/** Idle sockets older than this are closed: below the 5 s keep-alive timeout of Node servers and similar. */
const IDLE_MS = 4_000;
const MAX_IDLE_PER_SERVER = 512;

export class UpstreamConn {
  owner: UpstreamOwner | undefined;
  /** Served at least one request: a failure before any response byte may be a stale keep-alive. */
  reused = false;
  connected = false;
  closed = false;
  idleSince = 0;
  /** Inactivity timeout armed on the socket (0 = none); changed only when it differs, since each change allocates a timer. */
  private timeoutMs = 0;

  constructor(
    readonly socket: Socket,
    readonly upstream: Upstream,
    private readonly pool: UpstreamPool,
  ) {
    socket.setNoDelay(true);
    socket.on('connect', this.onConnect);
    readInto(socket, this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('timeout', this.onTimeout);
  }

  /** Arms (or with 0 disarms) the inactivity timeout of the current exchange. */
  setTimeout(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  private onTimeout = (): void => {
    // Idle in the pool: a silent keep-alive socket is simply closed.
    if (this.owner) this.owner.onUpstreamTimeout(this);
    else this.destroy();
  };

  private onConnect = (): void => {
    this.connected = true;
    this.owner?.onUpstreamConnect(this);
  };

  private onData = (chunk: Buffer): void => {
    if (this.owner) this.owner.onUpstreamData(this, chunk);
    // Bytes on an idle connection are a protocol error from the server: drop it.
    else this.socket.destroy();
  };

  private onEnd = (): void => {
    this.finish(undefined);
  };

  private onError = (err: Error): void => {
    this.finish(err);
  };

  private onClose = (): void => {
    this.finish(undefined);
  };

  private onDrain = (): void => {
    this.owner?.onUpstreamDrain(this);
  };

  private finish(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.forget(this);
    const owner = this.owner;
    this.owner = undefined;
    this.socket.destroy();
    owner?.onUpstreamClosed(this, err);
  }

  /** Closes without telling the owner (it gave the socket up). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner = undefined;
    this.pool.forget(this);
    this.socket.destroy();
  }
}

export class UpstreamPool {
  private idle = new Map<string, UpstreamConn[]>();
  private sweeper: NodeJS.Timeout | undefined;

  /**
   * A connection to `u`, pooled when one is idle, else a new one (writes queue until it connects).
   * `timeoutMs`: the owner hears onUpstreamTimeout when the server stays silent that long.
   */
  acquire(u: Upstream, owner: UpstreamOwner, timeoutMs = 0): UpstreamConn {
    const list = this.idle.get(u.key);
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (c.closed || c.socket.destroyed) continue;
      c.owner = owner;
      c.setTimeout(timeoutMs);
      c.socket.resume();
      return c;
    }
    const socket = connectShared({ host: u.ip, port: u.port });
    const c = new UpstreamConn(socket, u, this);
    c.owner = owner;
    c.setTimeout(timeoutMs);
    return c;
  }

  /** The exchange finished cleanly: keep the connection for the next request. */
  release(c: UpstreamConn): void {
    c.owner = undefined;
    if (c.closed || c.socket.destroyed) return;
    let list = this.idle.get(c.upstream.key);
    if (!list) {
      list = [];
      this.idle.set(c.upstream.key, list);
    }
    if (list.length >= MAX_IDLE_PER_SERVER) {
      c.destroy();
      return;
    }
    c.reused = true;
    c.idleSince = Date.now();
    list.push(c);
    if (!this.sweeper) {
      this.sweeper = setInterval(this.sweep, 1000);
      this.sweeper.unref();
    }
  }

  forget(c: UpstreamConn): void {
    const list = this.idle.get(c.upstream.key);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(c.upstream.key);
  }

  private sweep = (): void => {
    const limit = Date.now() - IDLE_MS;
    for (const list of [...this.idle.values()]) {
      // Oldest first: the list is a stack, so stale ones are at the bottom.
      while (list.length > 0 && list[0].idleSince < limit) list[0].destroy();
    }
    if (this.idle.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  };

  closeAll(): void {
    for (const list of [...this.idle.values()]) for (const c of [...list]) c.destroy();
  }
}

let shared: UpstreamPool | undefined;

export function sharedUpstreamPool(): UpstreamPool {
  shared ??= new UpstreamPool();
  return shared;
}
