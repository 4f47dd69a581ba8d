// A strict reader of the first bytes of a TLS connection: reassembles the ClientHello from one
// or more handshake records (RFC 8446 §5.1) and returns its server_name (RFC 6066 §3). Pure and
// bounded: it never reads past `max` bytes and never throws on any input (fuzzed in
// test/engine/passthrough-sni.test.ts), so an SNI passthrough VS can decide without terminating TLS.

/** What the bytes so far say. `more`: the hello is not complete; `need` is the total length known to be required. */
export type HelloResult =
  | { kind: 'more'; need: number }
  | { kind: 'sni'; name: string }
  | { kind: 'no-sni' }
  | { kind: 'invalid'; reason: string };

/** The largest ClientHello accepted (records included): real ones are 0.5–2 KB, post-quantum key shares ~2 KB. */
export const MAX_HELLO_BYTES = 16 * 1024;

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const MAX_RECORD = 1 << 14;
const EXT_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;

const invalid = (reason: string): HelloResult => ({ kind: 'invalid', reason });

/** Reads the ClientHello at the start of `buf` (what a client sent so far). */
export function readClientHello(buf: Uint8Array, max = MAX_HELLO_BYTES): HelloResult {
  // The handshake message may span several records: collect their fragments in order.
  let off = 0;
  let first: Uint8Array | undefined;
  let parts: Uint8Array[] | undefined;
  let have = 0;
  let want = -1;
  for (;;) {
    if (buf.length < off + 5) return more(off + 5, max);
    if (buf[off] !== RECORD_HANDSHAKE) return invalid(off === 0 ? 'not a TLS handshake record' : 'a non-handshake record inside the ClientHello');
    if (buf[off + 1] !== 3 || buf[off + 2]! > 4) return invalid('unknown TLS record version');
    const len = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (len === 0 || len > MAX_RECORD) return invalid('bad TLS record length');
    const end = off + 5 + len;
    if (buf.length < end) return more(end, max);
    const frag = buf.subarray(off + 5, end);
    if (!first) first = frag;
    else (parts ??= [first]).push(frag);
    have += len;
    off = end;
    if (want < 0 && have >= 4) {
      const h = parts ? concat(parts, have) : first;
      if (h[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('the first handshake message is not a ClientHello');
      want = 4 + ((h[1]! << 16) | (h[2]! << 8) | h[3]!);
      if (want + 5 > max) return invalid('ClientHello too large');
    }
    if (want >= 0 && have >= want) return parseHello((parts ? concat(parts, have) : first).subarray(0, want));
  }
}

function more(need: number, max: number): HelloResult {
  return need > max ? invalid('ClientHello too large') : { kind: 'more', need };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** `h`: the whole handshake message (4-byte header + ClientHello body). Every length must fit exactly. */
function parseHello(h: Uint8Array): HelloResult {
  const end = h.length;
  let p = 4;
  if (p + 34 > end) return invalid('ClientHello truncated (version, random)');
  if (h[p] !== 3) return invalid('unknown ClientHello version');
  p += 34;
  if (p + 1 > end) return invalid('ClientHello truncated (session id)');
  const sid = h[p]!;
  if (sid > 32 || p + 1 + sid > end) return invalid('bad session id length');
  p += 1 + sid;
  if (p + 2 > end) return invalid('ClientHello truncated (cipher suites)');
  const cs = u16(h, p);
  if (cs < 2 || cs % 2 !== 0 || p + 2 + cs > end) return invalid('bad cipher suites length');
  p += 2 + cs;
  if (p + 1 > end) return invalid('ClientHello truncated (compression methods)');
  const comp = h[p]!;
  if (comp < 1 || p + 1 + comp > end) return invalid('bad compression methods length');
  p += 1 + comp;
  if (p === end) return { kind: 'no-sni' };
  if (p + 2 > end) return invalid('ClientHello truncated (extensions)');
  const extLen = u16(h, p);
  p += 2;
  if (p + extLen !== end) return invalid('extensions length does not match the ClientHello');
  const seen = new Set<number>();
  let name: string | undefined;
  while (p < end) {
    if (p + 4 > end) return invalid('extension header truncated');
    const type = u16(h, p);
    const len = u16(h, p + 2);
    p += 4;
    if (p + len > end) return invalid('extension truncated');
    if (seen.has(type)) return invalid(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) {
      const r = serverName(h.subarray(p, p + len));
      if (typeof r !== 'string') return r;
      name = r;
    }
    p += len;
  }
  return name === undefined ? { kind: 'no-sni' } : { kind: 'sni', name };
}

/** The host_name of a server_name extension body, lower-cased; a malformed list or name is invalid. */
function serverName(e: Uint8Array): string | HelloResult {
  if (e.length < 2 || u16(e, 0) !== e.length - 2 || e.length === 2) return invalid('bad server_name list length');
  let p = 2;
  let host: string | undefined;
  while (p < e.length) {
    if (p + 3 > e.length) return invalid('server_name entry truncated');
    const type = e[p]!;
    const len = u16(e, p + 1);
    p += 3;
    if (p + len > e.length) return invalid('server_name entry truncated');
    if (type === NAME_TYPE_HOST) {
      if (host !== undefined) return invalid('two host_name entries');
      host = hostName(e.subarray(p, p + len));
      if (host === undefined) return invalid('server_name is not a valid DNS host name');
    }
    p += len;
  }
  return host ?? invalid('server_name has no host_name');
}

/** ASCII letters, digits, hyphens; labels of 1–63 characters; no trailing dot (RFC 6066); ≤ 253 characters. */
function hostName(b: Uint8Array): string | undefined {
  if (b.length === 0 || b.length > 253) return undefined;
  let label = 0;
  let out = '';
  for (let i = 0; i < b.length; i++) {
    let c = b[i]!;
    if (c === 0x2e) {
      if (label === 0) return undefined;
      label = 0;
    } else {
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
      if (!ok || ++label > 63) return undefined;
    }
    out += String.fromCharCode(c);
  }
  return label === 0 ? undefined : out;
}
