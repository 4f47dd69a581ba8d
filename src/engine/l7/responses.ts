// Responses the SE makes itself (404, 502, redirects, local responses, 400 on bad input):
// always with Server, Date, Content-Type and Content-Length.
import { STATUS_CODES } from 'node:http';

export const SERVER_NAME = 'Portico';

let dateSecond = -1;
let dateValue = '';

/** The IMF-fixdate of now, recomputed at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

export interface LocalResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** Extra header lines, each `Name: value`. */
  headers?: string[];
}

const TEXT = 'text/plain; charset=utf-8';

export function textResponse(status: number, message?: string, headers?: string[]): LocalResponse {
  const body = Buffer.from(`${message ?? STATUS_CODES[status] ?? 'Error'}\n`, 'utf8');
  return { status, contentType: TEXT, body, headers };
}

/** The HTTP/1.1 bytes of a local response (head and body). */
export function serializeHttp1(r: LocalResponse, close: boolean, headOnly = false): Buffer {
  // 204 and 304 carry no body, and 204 no Content-Length (RFC 9110 §8.6).
  const bodiless = r.status === 204 || r.status === 304;
  if (bodiless) headOnly = true;
  let head =
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Unknown'}\r\n` +
    `Server: ${SERVER_NAME}\r\nDate: ${httpDate()}\r\nContent-Type: ${r.contentType}\r\n` +
    (r.status === 204 ? '' : `Content-Length: ${bodiless ? 0 : r.body.length}\r\n`);
  if (r.headers) for (const h of r.headers) head += h + '\r\n';
  head += close ? 'Connection: close\r\n\r\n' : '\r\n';
  const headBuf = Buffer.from(head, 'latin1');
  return headOnly || r.body.length === 0 ? headBuf : Buffer.concat([headBuf, r.body]);
}

/** HTTP/2 response headers of a local response. */
export function http2Headers(r: LocalResponse): Record<string, string | number> {
  const h: Record<string, string | number> = {
    ':status': r.status,
    server: SERVER_NAME,
    date: httpDate(),
    'content-type': r.contentType,
  };
  if (r.status !== 204 && r.status !== 304) h['content-length'] = r.body.length;
  for (const line of r.headers ?? []) {
    const i = line.indexOf(':');
    h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return h;
}
