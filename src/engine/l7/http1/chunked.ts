// Streaming, strict decoder of the chunked transfer coding (RFC 9112 §7.1). It finds where a
// chunked body ends so the raw bytes can be relayed unchanged, and can hand out the decoded data
// (for HTTP/2 clients). Bad chunk sizes, missing CRLFs and oversized size lines are refused.
import { HttpParseError } from './parse.js';

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

const MAX_SIZE_DIGITS = 12;
const MAX_LINE = 4096;

export class ChunkedDecoder {
  private state = S.Size;
  private remaining = 0;
  private digits = 0;
  private lineLen = 0;
  private trailerBytes = 0;

  reset(): void {
    this.state = S.Size;
    this.remaining = 0;
    this.digits = 0;
    this.lineLen = 0;
    this.trailerBytes = 0;
  }

  get done(): boolean {
    return this.state === S.Done;
  }

  /**
   * Consumes buf[start, end). Returns the index just past the end of the body when it ends inside
   * this range, otherwise -1 (everything was consumed). `onData`, when given, receives decoded data.
   */
  feed(buf: Buffer, start: number, end: number, onData?: (data: Buffer) => void): number {
    let i = start;
    while (i < end) {
      switch (this.state) {
        case S.Size: {
          const c = buf[i];
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new HttpParseError('chunk size too large');
            this.remaining = this.remaining * 16 + v;
          } else if (this.digits === 0) {
            throw new HttpParseError('invalid chunk size');
          } else if (c === 0x0d) {
            this.state = S.SizeLf;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = S.Ext;
            this.lineLen = 0;
          } else throw new HttpParseError('invalid chunk size');
          i++;
          break;
        }
        case S.Ext: {
          const c = buf[i++];
          if (c === 0x0d) this.state = S.SizeLf;
          else if (c === 0x0a || (c < 0x20 && c !== 0x09) || c === 0x7f) throw new HttpParseError('invalid chunk extension');
          else if (++this.lineLen > MAX_LINE) throw new HttpParseError('chunk extension too long');
          break;
        }
        case S.SizeLf:
          if (buf[i++] !== 0x0a) throw new HttpParseError('chunk size line without LF');
          this.digits = 0;
          if (this.remaining === 0) {
            this.state = S.TrailerStart;
          } else this.state = S.Data;
          break;
        case S.Data: {
          const n = Math.min(this.remaining, end - i);
          if (onData) onData(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (buf[i++] !== 0x0d) throw new HttpParseError('chunk data not followed by CRLF');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i++] !== 0x0a) throw new HttpParseError('chunk data not followed by CRLF');
          this.state = S.Size;
          break;
        case S.TrailerStart: {
          const c = buf[i++];
          if (c === 0x0d) this.state = S.FinalLf;
          else if (c === 0x0a) throw new HttpParseError('bare LF in trailer');
          else {
            this.state = S.Trailer;
            this.lineLen = 1;
          }
          break;
        }
        case S.Trailer: {
          const c = buf[i++];
          if (c === 0x0d) this.state = S.TrailerLf;
          else if (c === 0x0a || (c < 0x20 && c !== 0x09)) throw new HttpParseError('invalid trailer');
          else if (++this.lineLen > MAX_LINE || ++this.trailerBytes > 4 * MAX_LINE) throw new HttpParseError('trailer too long');
          break;
        }
        case S.TrailerLf:
          if (buf[i++] !== 0x0a) throw new HttpParseError('trailer line without LF');
          this.state = S.TrailerStart;
          break;
        case S.FinalLf:
          if (buf[i++] !== 0x0a) throw new HttpParseError('chunked body not ended by CRLF');
          this.state = S.Done;
          return i;
        case S.Done:
          return i;
      }
    }
    return -1;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
