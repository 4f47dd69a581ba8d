// Strict HTTP/1.1 message-head parser (RFC 9112). Works on a complete head (up to and including
// the blank line); the caller finds the end with `findHeadEnd` so no partial state is kept.
// Strictness is what defeats request smuggling: bare LF, obs-fold, whitespace before the colon,
// control bytes in values, conflicting Content-Length or CL together with TE are all refused.

export class HttpParseError extends Error {
  constructor(
    message: string,
    /** The status the SE answers with (400, 431, 501, 505). */
    readonly status: number = 400,
  ) {
    super(message);
  }
}

/** Framing of a message body. */
export const enum BodyKind {
  None = 0,
  Length = 1,
  Chunked = 2,
  /** Response only: the body runs until the upstream closes. */
  UntilClose = 3,
}

export interface HeadLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
}

interface ParsedHeaders {
  /** Raw header names and values, alternating: [name0, value0, name1, value1, …]. */
  raw: string[];
  /** Lower-case names, parallel to raw's names (index i ↔ raw[2i]). */
  lower: string[];
  bodyKind: BodyKind;
  contentLength: number;
  hasContentLength: boolean;
  /** `Connection: close` (or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** Tokens of the Connection header (lower case), hop-by-hop by definition. */
  connectionTokens: string[] | undefined;
  upgrade: string | undefined;
  host: string | undefined;
  expectContinue: boolean;
}

export interface RequestHead extends ParsedHeaders {
  method: string;
  target: string;
  versionMinor: number;
}

export interface ResponseHead extends ParsedHeaders {
  status: number;
  reason: string;
  versionMinor: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, SP and HTAB; nothing else (no CR, LF, NUL, other CTLs).
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
// request-target: no controls, no spaces, no '#'; absolute-form and authority-form allowed too.
const BAD_TARGET_CHAR = /[\x00-\x20\x7f#]/;
const VERSION = /^HTTP\/1\.([01])$/;
const DIGITS = /^[0-9]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

/**
 * Index just past the blank line ending the head, or -1 when it has not arrived yet.
 * Throws 431 once `maxBytes` are buffered without the end.
 */
export function findHeadEnd(buf: Buffer, from: number, maxBytes: number): number {
  const i = buf.indexOf(CRLFCRLF, Math.max(0, from - 3));
  if (i < 0) {
    if (buf.length > maxBytes) throw new HttpParseError('request header too large', 431);
    return -1;
  }
  if (i + 4 > maxBytes) throw new HttpParseError('request header too large', 431);
  return i + 4;
}

export function parseRequestHead(buf: Buffer, end: number, limits: HeadLimits): RequestHead {
  const text = buf.toString('latin1', 0, end - 4);
  const lineEnd = text.indexOf('\r\n');
  const line = lineEnd < 0 ? text : text.slice(0, lineEnd);
  if (line.includes('\n')) throw new HttpParseError('bare LF in request line');
  const sp1 = line.indexOf(' ');
  const sp2 = line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) throw new HttpParseError('malformed request line');
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = VERSION.exec(line.slice(sp2 + 1));
  if (!TOKEN.test(method)) throw new HttpParseError('invalid method');
  if (target.length === 0 || BAD_TARGET_CHAR.test(target)) throw new HttpParseError('invalid request target');
  if (!version) {
    if (line.slice(sp2 + 1).startsWith('HTTP/')) throw new HttpParseError('HTTP version not supported', 505);
    throw new HttpParseError('malformed request line');
  }
  const versionMinor = version[1] === '1' ? 1 : 0;
  const h = parseFields(text, lineEnd < 0 ? text.length : lineEnd + 2, limits, versionMinor, true);
  if (versionMinor === 1 && h.host === undefined) throw new HttpParseError('missing Host header');
  if (method === 'CONNECT') throw new HttpParseError('CONNECT is not supported', 501);
  const req = h as RequestHead;
  req.method = method;
  req.target = target;
  req.versionMinor = versionMinor;
  return req;
}

export function parseResponseHead(buf: Buffer, end: number, limits: HeadLimits, requestMethod: string): ResponseHead {
  const text = buf.toString('latin1', 0, end - 4);
  const lineEnd = text.indexOf('\r\n');
  const line = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const m = STATUS_LINE.exec(line);
  if (!m) throw new HttpParseError('malformed status line', 502);
  const versionMinor = m[1] === '1' ? 1 : 0;
  const status = Number(m[2]);
  let h: ParsedHeaders;
  try {
    h = parseFields(text, lineEnd < 0 ? text.length : lineEnd + 2, limits, versionMinor, false);
  } catch (e) {
    throw new HttpParseError(`upstream: ${(e as Error).message}`, 502);
  }
  // Bodiless by definition (RFC 9112 §6.3): HEAD, 1xx, 204, 304.
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) {
    h.bodyKind = BodyKind.None;
    h.contentLength = 0;
  } else if (h.bodyKind === BodyKind.None && !h.hasContentLength) {
    h.bodyKind = BodyKind.UntilClose;
    h.close = true;
  }
  const res = h as ResponseHead;
  res.status = status;
  res.reason = m[3] ?? '';
  res.versionMinor = versionMinor;
  return res;
}

function parseFields(
  text: string,
  start: number,
  limits: HeadLimits,
  versionMinor: number,
  isRequest: boolean,
): ParsedHeaders {
  const raw: string[] = [];
  const lower: string[] = [];
  let contentLength = -1;
  let te: string | undefined;
  let connection: string | undefined;
  let upgrade: string | undefined;
  let host: string | undefined;
  let expectContinue = false;
  let pos = start;
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > eol) throw new HttpParseError('header line without colon');
    const name = text.slice(pos, colon);
    if (!TOKEN.test(name)) throw new HttpParseError(`invalid header name "${printable(name)}"`);
    const value = trimOws(text.slice(colon + 1, eol));
    if (BAD_VALUE_CHAR.test(value)) throw new HttpParseError(`invalid character in header "${name}"`);
    if (raw.length >= limits.maxHeaderCount * 2) throw new HttpParseError('too many header fields', 431);
    const lname = name.toLowerCase();
    raw.push(name, value);
    lower.push(lname);
    switch (lname) {
      case 'content-length': {
        // A list of identical values is allowed (RFC 9110 §8.6); anything else is refused.
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!DIGITS.test(v) || v.length > 15) throw new HttpParseError('invalid Content-Length');
          const n = Number(v);
          if (contentLength >= 0 && n !== contentLength) throw new HttpParseError('conflicting Content-Length');
          contentLength = n;
        }
        break;
      }
      case 'transfer-encoding':
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case 'upgrade':
        upgrade = value;
        break;
      case 'host':
        if (isRequest && host !== undefined) throw new HttpParseError('more than one Host header');
        host = value;
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
    }
    pos = eol + 2;
  }
  let bodyKind = BodyKind.None;
  if (te !== undefined) {
    if (contentLength >= 0) throw new HttpParseError('both Content-Length and Transfer-Encoding');
    if (versionMinor === 0) throw new HttpParseError('Transfer-Encoding in HTTP/1.0');
    const codings = te.toLowerCase().split(',').map((s) => s.trim());
    // Only plain `chunked` is accepted from clients: anything else cannot be framed safely.
    if (codings[codings.length - 1] !== 'chunked') throw new HttpParseError('Transfer-Encoding must end with chunked', isRequest ? 501 : 502);
    if (isRequest && codings.length !== 1) throw new HttpParseError('unsupported Transfer-Encoding', 501);
    bodyKind = BodyKind.Chunked;
  } else if (contentLength > 0) bodyKind = BodyKind.Length;
  let close = versionMinor === 0;
  let connectionTokens: string[] | undefined;
  if (connection !== undefined) {
    connectionTokens = connection.toLowerCase().split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (connectionTokens.includes('close')) close = true;
    else if (versionMinor === 0 && connectionTokens.includes('keep-alive')) close = false;
  }
  return {
    raw,
    lower,
    bodyKind,
    contentLength: contentLength < 0 ? 0 : contentLength,
    hasContentLength: contentLength >= 0,
    close,
    connectionTokens,
    upgrade,
    host,
    expectContinue,
  };
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
