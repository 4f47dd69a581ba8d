// The ClientHello reader of SNI passthrough (src/engine/l4/sni-peek.ts): generated hellos (any
// extension order, split over records and delivered in pieces), real ones from node:tls, and
// arbitrary or corrupted bytes, which must never throw nor give a name the client did not send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { readClientHello, MAX_HELLO_BYTES, type HelloResult } from '../../src/engine/l4/sni-peek.js';

const u16 = (n: number) => [n >> 8, n & 0xff];
const u24 = (n: number) => [n >> 16, (n >> 8) & 0xff, n & 0xff];

function sniExtension(names: Array<[number, Uint8Array]>): Uint8Array {
  const list = names.flatMap(([type, b]) => [type, ...u16(b.length), ...b]);
  return Uint8Array.from([...u16(list.length), ...list]);
}

interface HelloSpec { sid: number; suites: number; others: Array<[number, Uint8Array]>; sni?: string; sniAt: number; records: number[] }

/** A ClientHello handshake message, split into records of the given fragment sizes. */
function build(h: HelloSpec): Buffer {
  const exts: Array<[number, Uint8Array]> = [...h.others];
  if (h.sni !== undefined) exts.splice(h.sniAt % (exts.length + 1), 0, [0, sniExtension([[0, Buffer.from(h.sni)]])]);
  const extBytes = exts.flatMap(([t, d]) => [...u16(t), ...u16(d.length), ...d]);
  const body = [3, 3, ...new Array(32).fill(7), h.sid, ...new Array(h.sid).fill(1), ...u16(h.suites * 2), ...new Array(h.suites * 2).fill(0x13), 1, 0, ...u16(extBytes.length), ...extBytes];
  const msg = Buffer.from([1, ...u24(body.length), ...body]);
  const out: number[] = [];
  let at = 0;
  let i = 0;
  while (at < msg.length) {
    const len = Math.min(msg.length - at, h.records[i++ % h.records.length]!);
    out.push(22, 3, 1, ...u16(len), ...msg.subarray(at, at + len));
    at += len;
  }
  return Buffer.from(out);
}

const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?$/);
const hostArb = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
const otherExt = fc.tuple(fc.integer({ min: 1, max: 0xffff }), fc.uint8Array({ maxLength: 40 }));
const specArb = fc.record({
  sid: fc.integer({ min: 0, max: 32 }),
  suites: fc.integer({ min: 1, max: 30 }),
  others: fc.uniqueArray(otherExt, { maxLength: 8, selector: ([t]) => t }),
  sni: fc.option(hostArb, { nil: undefined }),
  sniAt: fc.nat(),
  records: fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 4 }),
});

function valid(r: HelloResult, length: number): void {
  assert.ok(['more', 'sni', 'no-sni', 'invalid'].includes(r.kind), JSON.stringify(r));
  if (r.kind === 'more') assert.ok(r.need > length && r.need <= MAX_HELLO_BYTES, JSON.stringify(r));
}

test('generated ClientHellos: the name (lower-cased) or no-sni; every shorter prefix asks for more', () => {
  fc.assert(fc.property(specArb, (spec) => {
    const bytes = build(spec);
    const r = readClientHello(bytes);
    assert.deepEqual(r, spec.sni === undefined ? { kind: 'no-sni' } : { kind: 'sni', name: spec.sni.toLowerCase() });
    for (let n = 0; n < bytes.length; n += 1 + (n % 7)) {
      const p = readClientHello(bytes.subarray(0, n));
      assert.equal(p.kind, 'more', `prefix ${n}/${bytes.length}: ${JSON.stringify(p)}`);
      valid(p, n);
    }
  }), { numRuns: 300 });
});

test('arbitrary and corrupted bytes never throw and never name a host that was not sent', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => valid(readClientHello(bytes), bytes.length)), { numRuns: 2000 });
  // Bytes that start like a handshake record get past the first check.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (tail) => {
    const bytes = Buffer.from([22, 3, 1, ...u16(tail.length), ...tail]);
    valid(readClientHello(bytes), bytes.length);
  }), { numRuns: 2000 });
  fc.assert(fc.property(specArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (spec, at, value) => {
    const bytes = build({ ...spec, sni: spec.sni ?? 'a.example.test' });
    const i = at % bytes.length;
    bytes[i] = value;
    const r = readClientHello(bytes);
    valid(r, bytes.length);
    // A flipped byte may change a name's letters, but the result is always a well-formed host name.
    if (r.kind === 'sni') assert.match(r.name, /^[a-z0-9-]+(\.[a-z0-9-]+)*$/);
  }), { numRuns: 2000 });
});

test('strict: bad names, duplicate extensions, wrong lengths, other protocols', () => {
  const base: HelloSpec = { sid: 0, suites: 1, others: [], sniAt: 0, records: [16384] };
  for (const bad of ['', 'a..b', 'a.', '.a', 'a b', 'a_b.example', 'é.example', `${'a'.repeat(64)}.x`]) {
    assert.equal(readClientHello(build({ ...base, sni: bad })).kind, 'invalid', JSON.stringify(bad));
  }
  const twice = build({ ...base, sni: 'a.example.test', others: [[0, sniExtension([[0, Buffer.from('b.example.test')]])]] });
  assert.equal(readClientHello(twice).kind, 'invalid');
  const twoNames = build({ ...base, others: [[0, sniExtension([[0, Buffer.from('a.test')], [0, Buffer.from('b.test')]])]] });
  assert.deepEqual(readClientHello(twoNames), { kind: 'invalid', reason: 'two host_name entries' });
  assert.equal(readClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n')).kind, 'invalid');
  assert.equal(readClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])).kind, 'invalid', 'a ServerHello is not a ClientHello');
  assert.equal(readClientHello(Buffer.from([22, 3, 1, 0x40, 0x01])).kind, 'invalid', 'record over 2^14');
  assert.deepEqual(readClientHello(Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff])), { kind: 'invalid', reason: 'ClientHello too large' });
  // A byte after the extensions (message and record lengths grown to hold it): lengths no longer match.
  const ok = build({ ...base, sni: 'a.test' });
  assert.deepEqual(readClientHello(ok), { kind: 'sni', name: 'a.test' });
  const extra = Buffer.concat([ok, Buffer.from([0])]);
  extra.writeUInt16BE(extra.readUInt16BE(3) + 1, 3);
  extra.writeUIntBE(extra.readUIntBE(6, 3) + 1, 6, 3);
  assert.deepEqual(readClientHello(extra), { kind: 'invalid', reason: 'extensions length does not match the ClientHello' });
});

/** The first bytes node:tls sends for `servername`. */
async function realHello(servername: string | undefined): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.108.0.200', r));
  try {
    const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (readClientHello(all).kind !== 'more') { s.destroy(); resolve(all); }
      });
    }));
    const c = tls.connect({ host: '127.108.0.200', port: (server.address() as net.AddressInfo).port, ...(servername === undefined ? {} : { servername }), rejectUnauthorized: false });
    c.on('error', () => {});
    const bytes = await got;
    c.destroy();
    return bytes;
  } finally {
    server.close();
  }
}

test('real ClientHellos from node:tls (TLS 1.2 and 1.3 offered, with and without SNI)', async () => {
  assert.deepEqual(readClientHello(await realHello('A.Example.Test')), { kind: 'sni', name: 'a.example.test' });
  assert.deepEqual(readClientHello(await realHello('')), { kind: 'no-sni' });
  // Byte by byte: a name only once the hello is complete.
  const bytes = await realHello('b.example.test');
  for (let n = 0; n < bytes.length; n++) assert.equal(readClientHello(bytes.subarray(0, n)).kind, 'more');
});
