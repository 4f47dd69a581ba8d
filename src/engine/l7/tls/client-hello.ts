// Reads what the server needs from a TLS ClientHello before the handshake starts: the SNI name
// and whether the client accepts an ECDSA certificate. Node's SNICallback can switch only one
// certificate per context, so the proxy chooses RSA or EC itself from these facts.

export interface HelloFacts {
  servername: string;
  ecdsa: boolean;
  /** A TLS 1.2-only client without the session_ticket extension: it can resume only by session ID. */
  sessionIdOnly: boolean;
}

/** Bytes needed before parsing: the first TLS record, complete (or -1 when this is not TLS). */
export function helloRecordLength(buf: Buffer): number {
  if (buf.length < 1) return 5;
  if (buf[0] !== 0x16) return -1;
  if (buf.length < 5) return 5;
  return 5 + buf.readUInt16BE(3);
}

// TLS 1.2 cipher suites that need an ECDSA certificate (RFC 4492, 5289, 7905).
const ECDSA_SUITES = new Set([0xc009, 0xc00a, 0xc023, 0xc024, 0xc02b, 0xc02c, 0xcca9, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af]);

/** Parses the ClientHello in the first record; undefined when it is not a well-formed one. */
export function parseClientHello(buf: Buffer): HelloFacts | undefined {
  try {
    const recEnd = Math.min(buf.length, 5 + buf.readUInt16BE(3));
    let p = 5;
    if (buf[p] !== 0x01) return undefined; // handshake type ClientHello
    p += 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + buf[p]; // session id
    const suitesLen = buf.readUInt16BE(p);
    p += 2;
    let ecdsaSuite = false;
    for (let i = 0; i + 1 < suitesLen && p + i + 1 < recEnd; i += 2) if (ECDSA_SUITES.has(buf.readUInt16BE(p + i))) ecdsaSuite = true;
    p += suitesLen;
    p += 1 + buf[p]; // compression methods
    let servername = '';
    let tls13 = false;
    let sigalgsSeen = false;
    let ecdsaSig = false;
    let ticketExt = false;
    if (p + 2 <= recEnd) {
      const extEnd = Math.min(recEnd, p + 2 + buf.readUInt16BE(p));
      p += 2;
      while (p + 4 <= extEnd) {
        const type = buf.readUInt16BE(p);
        const len = buf.readUInt16BE(p + 2);
        const body = p + 4;
        p = body + len;
        if (p > extEnd) break;
        if (type === 0) {
          // server_name: list length, then entries {type(1)=0 host_name, len(2), name}
          if (buf[body + 2] === 0) servername = buf.toString('latin1', body + 5, body + 5 + buf.readUInt16BE(body + 3));
        } else if (type === 13) {
          sigalgsSeen = true;
          const n = buf.readUInt16BE(body);
          // ECDSA schemes are 0x04 03, 0x05 03, 0x06 03 and 0x02 03 (SHA-1): low byte 3, high byte 2–6.
          for (let i = body + 2; i + 1 < body + 2 + n; i += 2) if (buf[i + 1] === 0x03 && buf[i] >= 0x02 && buf[i] <= 0x06) ecdsaSig = true;
        } else if (type === 35) {
          ticketExt = true;
        } else if (type === 43) {
          for (let i = body + 1; i + 1 < body + len; i += 2) if (buf.readUInt16BE(i) === 0x0304) tls13 = true;
        }
      }
    }
    const ecdsa = (tls13 && ecdsaSig) || (ecdsaSuite && (ecdsaSig || !sigalgsSeen));
    return { servername: servername.toLowerCase(), ecdsa, sessionIdOnly: !tls13 && !ticketExt };
  } catch {
    return undefined;
  }
}
