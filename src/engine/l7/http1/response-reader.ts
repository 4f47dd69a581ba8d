// Reads one HTTP/1.1 response from an upstream socket: head (1xx heads reported too), then the
// body by its framing. The body goes to the sink either raw (chunked framing kept, for HTTP/1.1
// clients) or decoded (for HTTP/2 clients and HTTP/1.0 clients).
import { BodyKind, findHeadEnd, parseResponseHead, type ResponseHead, type HeadLimits } from './parse.js';
import { ChunkedDecoder } from './chunked.js';

export interface ResponseSink {
  /** A head arrived. For 1xx other than 101 the reader goes on to the next head. Return false to stop reading (101 tunnel). */
  onResponseHead(head: ResponseHead): boolean;
  onResponseBody(chunk: Buffer): void;
  /** The body is complete. `extra` is true when the server sent bytes beyond it (the connection is unusable). */
  onResponseEnd(extra: boolean): void;
}

const enum R {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

const RESPONSE_LIMITS: HeadLimits = { maxHeaderBytes: 64 * 1024, maxHeaderCount: 512 };

export class ResponseReader {
  private state = R.Head;
  private pending: Buffer | undefined;
  private remaining = 0;
  private readonly chunked = new ChunkedDecoder();
  method = 'GET';
  decode = false;
  bytes = 0;

  constructor(private readonly sink: ResponseSink) {}

  reset(method: string, decode: boolean): void {
    this.state = R.Head;
    this.pending = undefined;
    this.method = method;
    this.decode = decode;
    this.bytes = 0;
  }

  get inHead(): boolean {
    return this.state === R.Head && this.pending === undefined;
  }

  get untilClose(): boolean {
    return this.state === R.UntilClose;
  }

  /** Returns leftover bytes when reading stopped at a 101 (they belong to the tunnel). Throws HttpParseError (502) on bad input. */
  feed(chunk: Buffer): Buffer | undefined {
    this.bytes += chunk.length;
    let buf = chunk;
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case R.Head: {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf.subarray(pos)]);
            pos = 0;
            this.pending = undefined;
          } else if (pos > 0) {
            buf = buf.subarray(pos);
            pos = 0;
          }
          const end = findHeadEnd(buf, 0, RESPONSE_LIMITS.maxHeaderBytes);
          if (end < 0) {
            this.pending = buf;
            return undefined;
          }
          const head = parseResponseHead(buf, end, RESPONSE_LIMITS, this.method);
          pos = end;
          if (!this.sink.onResponseHead(head)) return buf.subarray(pos);
          if (head.status < 200) continue;
          switch (head.bodyKind) {
            case BodyKind.None:
              this.state = R.Done;
              this.sink.onResponseEnd(pos < buf.length);
              return undefined;
            case BodyKind.Length:
              this.remaining = head.contentLength;
              this.state = R.Length;
              break;
            case BodyKind.Chunked:
              this.chunked.reset();
              this.state = R.Chunked;
              break;
            default:
              this.state = R.UntilClose;
          }
          break;
        }
        case R.Length: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.sink.onResponseBody(pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = R.Done;
            this.sink.onResponseEnd(pos < buf.length);
            return undefined;
          }
          break;
        }
        case R.Chunked: {
          const start = pos;
          const end = this.decode ? this.chunked.feed(buf, pos, buf.length, this.onDecoded) : this.chunked.feed(buf, pos, buf.length);
          pos = end < 0 ? buf.length : end;
          if (!this.decode) this.sink.onResponseBody(start === 0 && pos === buf.length ? buf : buf.subarray(start, pos));
          if (end >= 0) {
            this.state = R.Done;
            this.sink.onResponseEnd(pos < buf.length);
            return undefined;
          }
          break;
        }
        case R.UntilClose:
          this.sink.onResponseBody(pos === 0 ? buf : buf.subarray(pos));
          return undefined;
        case R.Done:
          // Already reported; the connection is no longer ours to read.
          return undefined;
      }
    }
    return undefined;
  }

  /** The upstream closed: ends an until-close body; false when the response was cut short. */
  closed(): boolean {
    if (this.state === R.UntilClose) {
      this.state = R.Done;
      this.sink.onResponseEnd(false);
      return true;
    }
    return this.state === R.Done;
  }

  private onDecoded = (data: Buffer): void => {
    this.sink.onResponseBody(data);
  };
}
