// One client connection speaking HTTP/1.1 (plain or over TLS): strict framing, routing, relaying
// to a pooled upstream connection, keep-alive and pipelining, WebSocket tunnels. All handlers are
// bound once per connection; a request allocates its parsed head and little else.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { PickContext } from '../../contracts.js';
import { BodyKind, findHeadEnd, HttpParseError, parseRequestHead, type RequestHead, type ResponseHead } from './parse.js';
import { ChunkedDecoder } from './chunked.js';
import { ResponseReader, type ResponseSink } from './response-reader.js';
import type { UpstreamConn, UpstreamOwner } from '../upstream-pool.js';
import { decide, Decision, DecisionKind, hostName, splitTarget, type RequestFacts } from '../dispatch.js';
import { serializeHttp1, textResponse, type LocalResponse } from '../responses.js';
import type { ListenerState } from '../listener-state.js';
import { buildUpstreamHead, buildClientHead } from './heads.js';
import type { ResponseInput } from '../policy.js';
import { readInto } from '../../runtime/shared-read.js';

const enum St {
  /** Waiting for (the rest of) a request head. */
  Head,
  /** Relaying the request body to the upstream. */
  Body,
  /** Request sent; waiting for the response to finish. */
  Await,
  Tunnel,
  Closed,
}

/** Pipelined bytes buffered while a response is in flight before reading pauses. */
const MAX_PIPELINED = 64 * 1024;
const MAX_RETRIES = 2;
/** Body bytes up to this size go out in one buffer with the response head (one write, no writev). */
const MERGE_LIMIT = 16 * 1024;
const WILDCARD = new Set(['', '0.0.0.0', '::']);

export class Http1Connection implements UpstreamOwner, ResponseSink {
  private state = St.Head;
  private buf: Buffer | undefined;
  /** How far `buf` was already searched for the end of the head. */
  private scanned = 0;
  /** When the current partial head started (0 = none pending). */
  headStartedAt = 0;
  private req: RequestHead | undefined;
  private reqBody = BodyKind.None;
  private reqRemaining = 0;
  private chunked: ChunkedDecoder | undefined;
  private requestDone = false;
  private up: UpstreamConn | undefined;
  private upReusable = true;
  private retryHead: string | undefined;
  private retries = 0;
  private readonly reader = new ResponseReader(this);
  private readonly decision = new Decision();
  private readonly facts: RequestFacts;
  private readonly pick: PickContext;
  private responseStarted = false;
  private status = 0;
  private closeAfter = false;
  /** Input went unread (a bad request, a body cut short): wait for the client's FIN before closing. */
  private linger = false;
  private wantsUpgrade = false;
  private startedAt = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private clientPaused = false;
  /** The response head being relayed, as response policies see it. */
  private rspHead: ResponseHead | undefined;
  private readonly response: ResponseInput;
  /** The response head, held until the first body bytes (or the end of this upstream read) to write both at once. */
  private pendingHead: string | undefined;
  /** Inside onUpstreamData: client writes so far in this chunk, and whether the socket is corked for the rest. */
  private feeding = false;
  private feedWrites = 0;
  private corked = false;

  constructor(
    readonly socket: Socket,
    private readonly listener: ListenerState,
    private readonly secure: boolean,
    sni: string,
  ) {
    const self = this;
    this.facts = {
      method: '',
      path: '',
      query: '',
      host: '',
      port: listener.spec.port,
      secure,
      clientIp: socket.remoteAddress ?? '',
      sni: sni.toLowerCase(),
      // The listener is bound to the VIP itself: no getsockname per connection.
      vip: WILDCARD.has(listener.spec.address) ? (socket.localAddress ?? listener.spec.address) : listener.spec.address,
      tlsSocket: secure ? (socket as TLSSocket) : undefined,
      requestId: undefined,
      target: '',
      version: 'ONE_ONE',
      header(lname: string): string | undefined {
        const req = self.req;
        if (!req) return undefined;
        const i = req.lower.indexOf(lname);
        return i < 0 ? undefined : req.raw[2 * i + 1];
      },
    };
    this.response = {
      status: 0,
      header(lname: string): string | undefined {
        const head = self.rspHead;
        if (!head) return undefined;
        const i = head.lower.indexOf(lname);
        return i < 0 ? undefined : head.raw[2 * i + 1];
      },
    };
    this.pick = { clientIp: this.facts.clientIp, clientPort: socket.remotePort ?? 0, uri: '', header: this.facts.header };
    // TCP_NODELAY is set at accept (the listener's server has noDelay); a TLS socket would set it again.
    readInto(socket, this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    socket.on('timeout', this.onTimeout);
    socket.setTimeout(Math.min(listener.routes.limits.keepaliveTimeoutMs, listener.routes.limits.bodyTimeoutMs));
  }

  /** True while no request is in flight (close() may end it at once). */
  get idle(): boolean {
    return this.state === St.Head && this.buf === undefined;
  }

  // ---- client side ------------------------------------------------------------------------

  private onData = (chunk: Buffer): void => {
    try {
      switch (this.state) {
        case St.Head:
          this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
          this.readHeads();
          break;
        case St.Body:
          this.relayBody(chunk, 0);
          break;
        case St.Await:
          // Pipelined request: keep it for later, stop reading when too much piles up.
          this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
          if (this.buf.length > MAX_PIPELINED) this.pauseClient();
          break;
        case St.Tunnel:
          this.bytesIn += chunk.length;
          if (this.up && !this.up.socket.write(chunk)) this.pauseClient();
          break;
      }
    } catch (e) {
      this.fail(e);
    }
  };

  private readHeads(): void {
    while (this.state === St.Head && this.buf !== undefined) {
      const limits = this.listener.routes.limits;
      const buf = this.buf;
      const end = findHeadEnd(buf, this.scanned, limits.maxHeaderBytes);
      if (end < 0) {
        this.scanned = buf.length;
        if (this.headStartedAt === 0) {
          this.headStartedAt = performance.now();
          this.listener.slowHeads.add(this);
        }
        return;
      }
      if (this.headStartedAt !== 0) {
        this.headStartedAt = 0;
        this.listener.slowHeads.delete(this);
      }
      this.scanned = 0;
      const req = parseRequestHead(buf, end, limits);
      this.buf = undefined;
      this.startRequest(req, end, buf);
    }
  }

  private startRequest(req: RequestHead, headLen: number, buf: Buffer): void {
    this.req = req;
    this.startedAt = performance.now();
    this.bytesIn = headLen;
    this.bytesOut = 0;
    this.responseStarted = false;
    this.status = 0;
    this.retries = 0;
    this.retryHead = undefined;
    this.upReusable = true;
    this.wantsUpgrade = false;
    const facts = this.facts;
    facts.method = req.method;
    facts.target = req.target;
    facts.version = req.versionMinor === 0 ? 'ONE_ZERO' : 'ONE_ONE';
    const authority = splitTarget(req.target, facts);
    facts.host = hostName(authority ?? req.host);
    this.pick.uri = req.target;
    if (req.close) this.closeAfter = true;
    const routes = this.listener.routes;
    const d = decide(routes, facts, this.listener.ctx.pools, this.pick, this.decision);
    this.reqBody = req.bodyKind;
    this.reqRemaining = req.contentLength;
    this.requestDone = req.bodyKind === BodyKind.None;
    const rest = headLen < buf.length ? buf.subarray(headLen) : undefined;
    if (d.kind === DecisionKind.Close) {
      this.socket.destroy();
      return;
    }
    if (d.kind === DecisionKind.Local) {
      // The body (if any) is not read: the connection closes after the response.
      if (!this.requestDone) this.closeAfter = true;
      else this.buf = rest;
      this.sendLocal(d.response!);
      return;
    }
    this.wantsUpgrade =
      req.upgrade !== undefined && routes.limits.websockets && req.connectionTokens !== undefined && req.connectionTokens.includes('upgrade');
    if (this.wantsUpgrade && req.bodyKind !== BodyKind.None) throw new HttpParseError('upgrade request with a body');
    const head = buildUpstreamHead(req, facts, d, routes.limits, this.wantsUpgrade);
    if (this.requestDone) this.retryHead = head;
    const up = this.listener.upstreams.acquire(d.upstream!, this, d.timeoutMs);
    this.up = up;
    this.reader.reset(req.method, false);
    this.state = this.requestDone ? St.Await : St.Body;
    if (this.chunked === undefined && req.bodyKind === BodyKind.Chunked) this.chunked = new ChunkedDecoder();
    this.chunked?.reset();
    if (rest !== undefined && !this.requestDone) {
      // Head and the first body bytes in one write.
      up.socket.cork();
      up.socket.write(head, 'latin1');
      this.relayBody(rest, 0);
      up.socket.uncork();
    } else {
      // Corking a single write only costs the stream's buffering and its allocations.
      up.socket.write(head, 'latin1');
      if (rest !== undefined) this.relayBody(rest, 0);
    }
  }

  /** Relays request body bytes from chunk[from…]; what follows the body is the next request. */
  private relayBody(chunk: Buffer, from: number): void {
    if (this.state !== St.Body) {
      this.buf = from === 0 ? chunk : chunk.subarray(from);
      return;
    }
    let end: number;
    if (this.reqBody === BodyKind.Length) {
      const n = Math.min(this.reqRemaining, chunk.length - from);
      this.reqRemaining -= n;
      end = from + n;
      if (this.reqRemaining === 0) this.requestDone = true;
    } else {
      const e = this.chunked!.feed(chunk, from, chunk.length);
      end = e < 0 ? chunk.length : e;
      if (e >= 0) this.requestDone = true;
    }
    this.bytesIn += end - from;
    const up = this.up;
    if (up && end > from) {
      if (!up.socket.write(from === 0 && end === chunk.length ? chunk : chunk.subarray(from, end))) this.pauseClient();
    }
    if (this.requestDone) {
      this.state = this.up ? St.Await : St.Head;
      if (end < chunk.length) this.buf = chunk.subarray(end);
      if (!this.up) this.afterExchange();
    }
  }

  private onEnd = (): void => {
    // Half-close from the client: finish what is in flight, then close.
    if (this.idle) this.socket.end();
    else this.closeAfter = true;
  };

  private onError = (): void => {
    // 'close' follows; nothing else to do (resets from clients are routine).
  };

  private onClose = (): void => {
    const prev = this.state;
    this.state = St.Closed;
    if (this.headStartedAt !== 0) this.listener.slowHeads.delete(this);
    if (this.up) {
      const up = this.up;
      this.up = undefined;
      this.decision.releaseUpstream(up, this.listener.upstreams, false);
      if (prev !== St.Tunnel && this.req) this.record(this.status || 499);
    }
    this.listener.connectionClosed(this);
  };

  private onDrain = (): void => {
    if (this.up && this.up.socket.isPaused()) this.up.socket.resume();
  };

  private onTimeout = (): void => {
    switch (this.state) {
      case St.Head:
        // Idle keep-alive connection or a stalled head (the slow-head sweep answers 408).
        if (this.buf === undefined) this.socket.destroy();
        break;
      case St.Body:
        this.closeAfter = true;
        if (!this.responseStarted) this.abortExchange(textResponse(408, 'request body timeout'));
        else this.socket.destroy();
        break;
    }
  };

  /** Called by the listener's sweep when the head took longer than the header timeout. */
  headTimedOut(): void {
    this.headStartedAt = 0;
    this.closeAfter = true;
    this.buf = undefined;
    this.sendLocal(textResponse(408, 'request header timeout'));
  }

  private pauseClient(): void {
    if (!this.clientPaused) {
      this.clientPaused = true;
      this.socket.pause();
    }
  }

  private resumeClient(): void {
    if (this.clientPaused) {
      this.clientPaused = false;
      this.socket.resume();
    }
  }

  // ---- upstream side ----------------------------------------------------------------------

  onUpstreamConnect(): void {}

  onUpstreamDrain(): void {
    if (this.state === St.Body || this.state === St.Tunnel) this.resumeClient();
  }

  onUpstreamData(conn: UpstreamConn, chunk: Buffer): void {
    if (conn !== this.up) return;
    if (this.state === St.Tunnel) {
      this.bytesOut += chunk.length;
      if (!this.socket.write(chunk)) conn.socket.pause();
      return;
    }
    this.feeding = true;
    this.feedWrites = 0;
    try {
      const tunnelBytes = this.reader.feed(chunk);
      if (tunnelBytes !== undefined && tunnelBytes.length > 0) {
        this.bytesOut += tunnelBytes.length;
        this.toClient(tunnelBytes);
      }
    } catch (e) {
      this.upReusable = false;
      if (e instanceof HttpParseError && !this.responseStarted) {
        this.listener.ctx.log.warn({ vs: this.decision.vs?.name, server: conn.upstream.key, err: e.message }, 'bad response from server');
        this.closeAfter = true;
        this.abortExchange(textResponse(502, 'bad response from server'));
      } else this.fail(e);
    } finally {
      this.flushHead();
      this.feeding = false;
      if (this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
    }
  }

  /**
   * Writes to the client. While a server chunk is fed, the first write goes out at once and later
   * ones are corked into one writev at the end of the chunk: most chunks (head and body of a small
   * response) make a single write, which corking would only buffer and copy.
   */
  private toClient(data: Buffer | string): boolean {
    if (this.feeding && this.feedWrites++ === 1 && !this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    return this.socket.write(data, 'latin1');
  }

  private flushHead(): void {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    if (!this.socket.destroyed) this.toClient(head);
  }

  onUpstreamClosed(conn: UpstreamConn, err: Error | undefined): void {
    if (conn !== this.up) return;
    if (this.state === St.Tunnel) {
      this.up = undefined;
      this.decision.pool?.done(conn.upstream);
      this.socket.end();
      return;
    }
    this.upReusable = false;
    if (this.reader.closed()) return; // an until-close body ended (onResponseEnd ran)
    if (!this.responseStarted) {
      const fresh = !conn.connected;
      // A pooled connection the server closed just as we reused it: send the request again.
      if (this.retryHead !== undefined && this.reader.inHead && this.reader.bytes === 0 && (conn.reused || fresh) && this.retries < MAX_RETRIES) {
        this.retries++;
        const next = this.listener.upstreams.acquire(conn.upstream, this, this.decision.timeoutMs);
        this.up = next;
        next.socket.write(this.retryHead, 'latin1');
        return;
      }
      this.listener.ctx.log.warn({ vs: this.decision.vs?.name, server: conn.upstream.key, err: err?.message }, 'server connection failed');
      this.up = undefined;
      this.decision.pool?.done(conn.upstream);
      if (!this.requestDone) this.closeAfter = true;
      this.sendLocal(textResponse(502, 'server connection failed'));
      return;
    }
    // The response was cut short: the client can only learn it from a closed connection.
    this.up = undefined;
    this.decision.pool?.done(conn.upstream);
    this.record(this.status);
    this.req = undefined;
    this.socket.destroy();
  }

  onUpstreamTimeout(conn: UpstreamConn): void {
    if (conn !== this.up) return;
    this.listener.ctx.log.warn({ vs: this.decision.vs?.name, server: conn.upstream.key, timeoutMs: this.decision.timeoutMs }, 'server response timeout');
    this.upReusable = false;
    if (!this.responseStarted) {
      // The request may still be arriving: its remaining bytes cannot be resynchronised.
      if (!this.requestDone) this.closeAfter = true;
      this.abortExchange(textResponse(504, 'server response timeout'));
      return;
    }
    // Mid-body: the client can only learn it from a closed connection.
    this.up = undefined;
    this.decision.releaseUpstream(conn, this.listener.upstreams, false);
    this.record(this.status);
    this.req = undefined;
    this.socket.destroy();
  }

  onResponseHead(head: ResponseHead): boolean {
    const req = this.req!;
    if (head.status === 101) {
      if (!this.wantsUpgrade) throw new HttpParseError('unexpected 101 from server', 502);
      this.status = 101;
      this.responseStarted = true;
      this.state = St.Tunnel;
      this.socket.setTimeout(0);
      // A WebSocket may stay quiet for long: the server timeout covers exchanges, not tunnels.
      this.up!.setTimeout(0);
      this.toClient(buildClientHead(head, undefined, true, false));
      if (this.buf) {
        this.up!.socket.write(this.buf);
        this.buf = undefined;
      }
      this.record(101);
      return false;
    }
    if (head.status < 200) {
      // 100 Continue and other interim responses go to HTTP/1.1 clients only.
      if (req.versionMinor === 1) this.toClient(buildClientHead(head, undefined, false, false));
      return true;
    }
    if (head.close || head.versionMinor === 0) this.upReusable = false;
    let close = this.closeAfter || head.bodyKind === BodyKind.UntilClose || this.listener.draining;
    if (head.bodyKind === BodyKind.Chunked && req.versionMinor === 0) {
      // HTTP/1.0 clients know no chunked coding: decode and delimit by closing.
      this.reader.decode = true;
      close = true;
    }
    if (close) this.closeAfter = true;
    this.status = head.status;
    this.responseStarted = true;
    const keepAlive10 = req.versionMinor === 0 && !close;
    let actions;
    if (this.decision.vs.responseRules.length > 0) {
      this.rspHead = head;
      this.response.status = head.status;
      actions = this.decision.responseHeaders(this.facts, this.response);
    }
    const out = buildClientHead(head, this.decision.setCookie, false, close, keepAlive10, this.reader.decode, actions, this.facts, this.response);
    this.rspHead = undefined;
    this.bytesOut += out.length;
    this.pendingHead = out;
    return true;
  }

  onResponseBody(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    const head = this.pendingHead;
    let ok: boolean;
    if (head !== undefined && chunk.length <= MERGE_LIMIT) {
      // Head and body in one buffer: one write on the socket (for TLS one record), no writev.
      this.pendingHead = undefined;
      const both = Buffer.allocUnsafe(head.length + chunk.length);
      both.write(head, 0, 'latin1');
      chunk.copy(both, head.length);
      ok = this.toClient(both);
    } else {
      this.flushHead();
      ok = this.toClient(chunk);
    }
    if (!ok) this.up?.socket.pause();
  }

  onResponseEnd(extra: boolean): void {
    this.flushHead();
    const up = this.up!;
    this.up = undefined;
    this.decision.releaseUpstream(up, this.listener.upstreams, !extra && this.upReusable && this.requestDone);
    this.record(this.status);
    if (!this.requestDone) {
      // The server answered before the request body was complete: the stream cannot be resynchronised.
      this.closeAfter = true;
    }
    this.afterExchange();
  }

  // ---- shared ------------------------------------------------------------------------------

  private record(status: number): void {
    this.decision.record(this.listener.ctx.metrics, this.listener.spec.vsUuid, status, this.startedAt, this.bytesIn, this.bytesOut, this.facts);
  }

  private sendLocal(r: LocalResponse): void {
    const close = this.closeAfter || this.listener.draining;
    const bytes = serializeHttp1(r, close, this.req?.method === 'HEAD');
    this.bytesOut += bytes.length;
    this.status = r.status;
    this.responseStarted = true;
    this.toClient(bytes);
    this.decision.pool = undefined;
    this.decision.upstream = undefined;
    this.record(r.status);
    if (close) this.closeAfter = true;
    this.afterExchange();
  }

  /** Gives up the upstream exchange and answers the client locally. */
  private abortExchange(r: LocalResponse): void {
    const up = this.up;
    if (up) {
      this.up = undefined;
      this.decision.releaseUpstream(up, this.listener.upstreams, false);
    }
    this.sendLocal(r);
  }

  /** The response is complete: close, or go on with the next (maybe already buffered) request. */
  private afterExchange(): void {
    this.req = undefined;
    if (this.closeAfter || this.listener.draining) {
      // Request read whole, nothing pipelined: close once the response is out, as nginx and node's
      // http server do (no wait for the client's FIN). Otherwise unread input could make the close
      // a reset that loses the response, so the client gets to finish first.
      const clean = this.requestDone && this.buf === undefined && !this.linger;
      this.state = St.Closed;
      this.buf = undefined;
      if (clean) this.socket.destroySoon();
      else this.socket.end();
      return;
    }
    this.state = St.Head;
    this.responseStarted = false;
    this.resumeClient();
    if (this.buf !== undefined) {
      // A pipelined request: its errors are the client's, whoever's callback we are in.
      try {
        this.readHeads();
      } catch (e) {
        this.fail(e);
      }
    }
  }

  /** Bad input or an internal error: answer 400 (or the parse error's status) when possible, and close. */
  private fail(e: unknown): void {
    if (this.state === St.Closed) return;
    if (e instanceof HttpParseError && !this.responseStarted && this.state !== St.Tunnel) {
      this.linger = true;
      if (this.up) {
        this.decision.releaseUpstream(this.up, this.listener.upstreams, false);
        this.up = undefined;
      }
      this.closeAfter = true;
      this.buf = undefined;
      if (!this.req) {
        // The head itself was bad: count it against the listener's VS.
        this.startedAt = performance.now();
        this.decision.vs = this.listener.routes.vs;
      }
      this.sendLocal(textResponse(e.status, e.message));
      return;
    }
    if (!(e instanceof HttpParseError)) this.listener.ctx.log.error({ vs: this.listener.spec.vsUuid, err: (e as Error)?.stack ?? String(e) }, 'l7 connection error');
    this.socket.destroy();
  }

  /** close(): idle connections end now, busy ones after their response. */
  drain(): void {
    if (this.idle) this.socket.end();
    else this.closeAfter = true;
  }
}
