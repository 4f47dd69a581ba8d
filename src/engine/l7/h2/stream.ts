// One HTTP/2 request stream from a TLS client, relayed to an HTTP/1.1 upstream over the shared
// pool: request body sent with its length or chunked, response body decoded from HTTP/1.1
// framing into DATA frames.
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { PickContext } from '../../contracts.js';
import { decide, Decision, DecisionKind, hostName, splitTarget, type RequestFacts } from '../dispatch.js';
import { http2Headers, textResponse, type LocalResponse } from '../responses.js';
import { ResponseReader, type ResponseSink } from '../http1/response-reader.js';
import { BodyKind, type ResponseHead } from '../http1/parse.js';
import type { UpstreamConn, UpstreamOwner } from '../upstream-pool.js';
import type { ListenerState } from '../listener-state.js';
import type { TLSSocket } from 'node:tls';
import { applyToHeaderObject, dropsHeader, hasCookieActions, requestHeaderLines } from '../header-actions.js';

// Connection-specific headers that HTTP/2 forbids or that describe the HTTP/1.1 hop only.
const DROP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'transfer-encoding', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port']);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'transfer-encoding', 'trailer']);
const CRLF = Buffer.from('\r\n');
const FRAMING = new Set(['content-length', ...DROP_RESPONSE]);
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const VALID_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;

export class H2Exchange implements UpstreamOwner, ResponseSink {
  private up: UpstreamConn | undefined;
  private readonly reader = new ResponseReader(this);
  private readonly decision = new Decision();
  private readonly facts: RequestFacts;
  private readonly pick: PickContext;
  private head: string | undefined;
  private chunkedBody = false;
  private requestDone = false;
  private responded = false;
  private status = 0;
  private reusable = true;
  private retries = 0;
  private readonly startedAt = performance.now();
  private bytesIn = 0;
  private bytesOut = 0;
  private finished = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly listener: ListenerState,
    sni: string,
    clientIp: string,
    clientPort: number,
  ) {
    this.facts = {
      method: String(headers[':method'] ?? 'GET'),
      path: '',
      query: '',
      host: '',
      port: listener.spec.port,
      secure: true,
      clientIp,
      sni: sni.toLowerCase(),
      vip: stream.session?.socket?.localAddress ?? listener.spec.address,
      tlsSocket: stream.session?.socket as TLSSocket | undefined,
      requestId: undefined,
      target: String(headers[':path'] ?? '/'),
      version: 'TWO_ZERO',
      header: (lname: string) => {
        const v = headers[lname];
        return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : v;
      },
    };
    this.pick = { clientIp, clientPort, uri: this.facts.target, header: this.facts.header };
  }

  start(): void {
    const { stream, facts, headers } = this;
    stream.on('error', () => this.abandon());
    stream.on('close', () => this.abandon());
    if (facts.method === 'CONNECT') return this.local(textResponse(501, 'CONNECT is not supported'));
    splitTarget(facts.target, facts);
    const authority = headers[':authority'] ?? headers.host;
    facts.host = hostName(typeof authority === 'string' ? authority : undefined);
    const d = decide(this.listener.routes, facts, this.listener.ctx.pools, this.pick, this.decision);
    if (d.kind === DecisionKind.Close) {
      stream.session?.destroy();
      return;
    }
    if (d.kind === DecisionKind.Local) return this.local(d.response!);
    const head = this.buildHead(typeof authority === 'string' ? authority : '');
    if (head === undefined) return this.local(textResponse(400, 'invalid header value'));
    this.head = head;
    this.requestDone = stream.endAfterHeaders;
    this.reader.reset(facts.method, true);
    this.connect();
    if (!this.requestDone) {
      stream.on('data', (chunk: Buffer) => this.relay(chunk));
      stream.on('end', () => this.endBody());
    }
  }

  private connect(): void {
    const up = this.listener.upstreams.acquire(this.decision.upstream!, this, this.decision.timeoutMs);
    this.up = up;
    up.socket.write(this.head!, 'latin1');
  }

  private buildHead(authority: string): string | undefined {
    const { facts, headers } = this;
    const limits = this.listener.routes.limits;
    const d = this.decision;
    const newHost = d.rewriteHost;
    const actions = d.headers;
    let h = `${facts.method} ${d.rewriteTarget ?? facts.target} HTTP/1.1\r\n`;
    // A header action replacing Host (AKO's host rewrite) writes it below; a URL rewrite's host wins over it.
    if (newHost !== undefined || actions === undefined || !dropsHeader(actions, 'host')) h += `Host: ${newHost ?? authority}\r\n`;
    const cookies = actions !== undefined && hasCookieActions(actions);
    let cookie: string | undefined;
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* ':' */ || DROP_REQUEST.has(name)) continue;
      if (actions !== undefined && dropsHeader(actions, name)) continue;
      const v = headers[name];
      const value = Array.isArray(v) ? v.join(name === 'cookie' ? '; ' : ', ') : String(v);
      if (!VALID_VALUE.test(value)) return undefined;
      if (cookies && name === 'cookie') cookie = value;
      else h += `${name}: ${value}\r\n`;
    }
    if (actions !== undefined) h += requestHeaderLines(actions, facts, newHost !== undefined, cookies, cookie);
    const xff = facts.header('x-forwarded-for');
    if (limits.xff) h += `X-Forwarded-For: ${xff ? `${xff}, ${facts.clientIp}` : facts.clientIp}\r\n`;
    if (limits.xfp) h += `X-Forwarded-Proto: https\r\nX-Forwarded-Port: ${facts.port}\r\n`;
    if (!this.stream.endAfterHeaders && headers['content-length'] === undefined) {
      this.chunkedBody = true;
      h += 'Transfer-Encoding: chunked\r\n';
    }
    return h + '\r\n';
  }

  private relay(chunk: Buffer): void {
    this.head = undefined; // a request with a body cannot be retried
    this.bytesIn += chunk.length;
    const up = this.up;
    if (!up || chunk.length === 0) return;
    let ok: boolean;
    if (this.chunkedBody) {
      up.socket.cork();
      up.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      up.socket.write(chunk);
      ok = up.socket.write(CRLF);
      up.socket.uncork();
    } else ok = up.socket.write(chunk);
    if (!ok) this.stream.pause();
  }

  private endBody(): void {
    this.requestDone = true;
    if (this.chunkedBody && this.up) this.up.socket.write(LAST_CHUNK);
  }

  onUpstreamConnect(): void {}

  onUpstreamDrain(): void {
    this.stream.resume();
  }

  onUpstreamData(conn: UpstreamConn, chunk: Buffer): void {
    if (conn !== this.up) return;
    try {
      this.reader.feed(chunk);
    } catch (e) {
      this.reusable = false;
      if (!this.responded) this.failUpstream(`bad response from server: ${(e as Error).message}`);
      else this.reset();
    }
  }

  onUpstreamClosed(conn: UpstreamConn, err: Error | undefined): void {
    if (conn !== this.up) return;
    this.reusable = false;
    if (this.reader.closed()) return;
    if (!this.responded) {
      if (this.head !== undefined && this.reader.inHead && this.reader.bytes === 0 && (conn.reused || !conn.connected) && this.retries < 2) {
        this.retries++;
        this.connect();
        return;
      }
      this.failUpstream(`server connection failed${err ? `: ${err.message}` : ''}`);
      return;
    }
    this.reset();
  }

  onUpstreamTimeout(conn: UpstreamConn): void {
    if (conn !== this.up) return;
    this.reusable = false;
    if (!this.responded) this.failUpstream('server response timeout', 504);
    else this.reset();
  }

  onResponseHead(head: ResponseHead): boolean {
    if (head.status < 200) return true; // interim responses are not relayed over HTTP/2
    if (head.close || head.versionMinor === 0) this.reusable = false;
    const out: OutgoingHttpHeaders = { ':status': head.status };
    const { raw, lower, connectionTokens } = head;
    for (let i = 0; i < lower.length; i++) {
      const ln = lower[i];
      if (DROP_RESPONSE.has(ln) || connectionTokens?.includes(ln)) continue;
      const v = raw[2 * i + 1];
      const prev = out[ln];
      if (prev === undefined) out[ln] = v;
      else if (ln === 'set-cookie') out[ln] = Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      else out[ln] = `${prev}, ${v}`;
    }
    if (this.decision.vs.responseRules.length > 0) {
      const response = {
        status: head.status,
        header: (l: string) => {
          const i = lower.indexOf(l);
          return i < 0 ? undefined : raw[2 * i + 1];
        },
      };
      const actions = this.decision.responseHeaders(this.facts, response);
      // Framing headers are left alone.
      if (actions) applyToHeaderObject(out, actions, this.facts, response, FRAMING);
    }
    const cookie = this.decision.setCookie;
    if (cookie) {
      const v = cookie.slice('Set-Cookie: '.length);
      const prev = out['set-cookie'];
      out['set-cookie'] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    this.status = head.status;
    this.responded = true;
    if (this.stream.destroyed) return true;
    this.stream.respond(out, { endStream: head.bodyKind === BodyKind.None });
    return true;
  }

  onResponseBody(chunk: Buffer): void {
    this.bytesOut += chunk.length;
    if (this.stream.destroyed) return;
    if (!this.stream.write(chunk)) {
      this.up?.socket.pause();
      this.stream.once('drain', this.resumeUpstream);
    }
  }

  private resumeUpstream = (): void => {
    this.up?.socket.resume();
  };

  onResponseEnd(extra: boolean): void {
    const up = this.up!;
    this.up = undefined;
    this.decision.releaseUpstream(up, this.listener.upstreams, !extra && this.reusable && this.requestDone);
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
    this.record(this.status);
  }

  private failUpstream(msg: string, status = 502): void {
    const up = this.up;
    this.listener.ctx.log.warn({ vs: this.decision.vs?.name, server: up?.upstream.key, err: msg }, status === 504 ? 'server response timeout' : 'server connection failed');
    if (up) {
      this.up = undefined;
      this.decision.releaseUpstream(up, this.listener.upstreams, false);
    }
    this.local(textResponse(status, status === 504 ? 'server response timeout' : 'server connection failed'));
  }

  private local(r: LocalResponse): void {
    this.status = r.status;
    this.responded = true;
    this.bytesOut += r.body.length;
    if (!this.stream.destroyed) {
      const headOnly = this.facts.method === 'HEAD' || r.body.length === 0 || r.status === 204 || r.status === 304;
      this.stream.respond(http2Headers(r), { endStream: headOnly });
      if (!headOnly) this.stream.end(r.body);
    }
    this.record(r.status);
  }

  /** The response cannot be completed: reset the stream. */
  private reset(): void {
    const up = this.up;
    if (up) {
      this.up = undefined;
      this.decision.releaseUpstream(up, this.listener.upstreams, false);
    }
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    this.record(this.status || 502);
  }

  /** The client reset or closed the stream. */
  private abandon(): void {
    const up = this.up;
    if (!up) return;
    this.up = undefined;
    this.decision.releaseUpstream(up, this.listener.upstreams, false);
    this.record(this.status || 499);
  }

  private record(status: number): void {
    if (this.finished) return;
    this.finished = true;
    this.decision.record(this.listener.ctx.metrics, this.listener.spec.vsUuid, status, this.startedAt, this.bytesIn, this.bytesOut, this.facts);
  }
}
