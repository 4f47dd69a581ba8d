// Self-signed X.509 certificates (System-Default-Cert, tests). node:crypto parses certificates
// but cannot issue them, so the TBSCertificate is DER-encoded here (RFC 5280) and signed.
import { generateKeyPairSync, sign, randomBytes, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const ctx = (n: number, body: Buffer) => tlv(0xa0 + n, body);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const NULL = Buffer.from([0x05, 0x00]);

function intBytes(b: Buffer): Buffer {
  let i = 0; while (i < b.length - 1 && b[i] === 0) i++;
  const t = b.subarray(i);
  return tlv(0x02, t[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), t]) : t);
}
function oid(dotted: string): Buffer {
  const p = dotted.split('.').map(Number);
  const out = [40 * p[0]! + p[1]!];
  for (const n of p.slice(2)) {
    const stack = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
function name(cn: string, org?: string): Buffer {
  const rdns = [set(seq(oid('2.5.4.3'), utf8(cn)))];
  if (org) rdns.unshift(set(seq(oid('2.5.4.10'), utf8(org))));
  return seq(...rdns);
}

/** The 4 or 16 bytes of an IP address (iPAddress of subjectAltName). */
function ipBytes(addr: string): Buffer {
  if (isIPv4(addr)) return Buffer.from(addr.split('.').map(Number));
  if (!isIPv6(addr)) throw new Error(`not an IP address: ${addr}`);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  const text = v4 ? addr.slice(0, -v4[1]!.length) + ipBytes(v4[1]!).toString('hex').replace(/(.{4})(.{4})/, '$1:$2') : addr;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names for subjectAltName (defaults to the common name). */
  altNames?: string[];
  /** IP addresses for subjectAltName (clients connecting by address check these). */
  ipAddresses?: string[];
  organization?: string;
  keyType?: 'rsa' | 'ec';
  /** Validity from now (negative: an already expired certificate, for tests). */
  days?: number;
  notBefore?: Date;
  /** Sign with this issuer instead of self-signing. */
  issuer?: { certCommonName: string; key: KeyObject | string };
}

export interface CertAndKey { cert: string; key: string }

export function selfSigned(o: SelfSignedOptions): CertAndKey {
  const { privateKey, publicKey } = o.keyType === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = o.issuer ? o.issuer.key : privateKey;
  const signerType = typeof signer === 'string' ? (signer.includes('EC PRIVATE') ? 'ec' : undefined) : signer.asymmetricKeyType;
  const ec = signerType === 'ec';
  const alg = ec ? seq(oid('1.2.840.10045.4.3.2')) : seq(oid('1.2.840.113549.1.1.11'), NULL);
  const days = o.days ?? 3650;
  const notAfter = new Date(Date.now() + days * 86_400_000);
  // An expired test certificate was valid for a day before it ran out.
  const notBefore = o.notBefore ?? new Date(Math.min(Date.now() - 60_000, notAfter.getTime() - 86_400_000));
  const sans = o.altNames ?? [o.commonName];
  const extensions = [
    seq(oid('2.5.29.19'), bool(true), octets(seq(...(o.issuer ? [] : [bool(true)])))),
    seq(oid('2.5.29.17'), octets(seq(...sans.map((n) => tlv(0x82, Buffer.from(n))), ...(o.ipAddresses ?? []).map((a) => tlv(0x87, ipBytes(a)))))),
  ];
  const tbs = seq(
    ctx(0, intBytes(Buffer.from([2]))),
    intBytes(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    alg,
    o.issuer ? name(o.issuer.certCommonName) : name(o.commonName, o.organization),
    seq(time(notBefore), time(notAfter)),
    name(o.commonName, o.organization),
    publicKey.export({ type: 'spki', format: 'der' }),
    ctx(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, alg, bitString(signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { cert: pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
