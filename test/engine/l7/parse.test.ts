// The strict HTTP/1.1 head parser and chunked decoder, proven by property tests: valid messages
// round-trip however they are split, and arbitrary bytes only ever raise HttpParseError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BodyKind, findHeadEnd, HttpParseError, parseRequestHead, parseResponseHead } from '../../../src/engine/l7/http1/parse.js';
import { ChunkedDecoder } from '../../../src/engine/l7/http1/chunked.js';

const LIMITS = { maxHeaderBytes: 16 * 1024, maxHeaderCount: 100 };
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/);
const value = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,40}[\x21-\x7e])?$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,60}$/);

function parse(text: string) {
  const buf = Buffer.from(text, 'latin1');
  const end = findHeadEnd(buf, 0, LIMITS.maxHeaderBytes);
  assert.ok(end > 0);
  return parseRequestHead(buf, end, LIMITS);
}

test('valid request heads parse to what was written', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), path, fc.array(fc.tuple(token, value), { maxLength: 20 }), (method, target, headers) => {
      const hs = headers.filter(([n]) => !['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade'].includes(n.toLowerCase()));
      const text = `${method} ${target} HTTP/1.1\r\nHost: example.com\r\n${hs.map(([n, v]) => `${n}:  ${v} \r\n`).join('')}\r\n`;
      const h = parse(text);
      assert.equal(h.method, method);
      assert.equal(h.target, target);
      assert.equal(h.host, 'example.com');
      assert.equal(h.raw.length / 2, hs.length + 1);
      hs.forEach(([n, v], i) => {
        assert.equal(h.raw[2 * (i + 1)], n);
        assert.equal(h.raw[2 * (i + 1) + 1], v);
      });
      assert.equal(h.bodyKind, BodyKind.None);
    }),
    { numRuns: 300 },
  );
});

test('framing: Content-Length, chunked, and the forbidden combinations', { timeout: 60_000 }, () => {
  assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n').contentLength, 5);
  assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n').contentLength, 5);
  assert.equal(parse('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n').bodyKind, BodyKind.Chunked);
  for (const bad of [
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n',
    'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: h\r\n\r\n',
    'GET / HTTP/1.1 \r\nHost: h\r\n\r\n',
  ]) {
    assert.throws(() => parse(bad), HttpParseError, JSON.stringify(bad));
  }
  const res = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n');
  const r = parseResponseHead(res, res.length, LIMITS, 'GET');
  assert.equal(r.bodyKind, BodyKind.UntilClose);
  assert.equal(parseResponseHead(res, res.length, LIMITS, 'HEAD').bodyKind, BodyKind.None);
});

test('arbitrary bytes only ever raise HttpParseError', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('', 'GET / HTTP/1.1\r\n', 'GET / HTTP/1.1\r\nHost: h\r\n'), (bytes, prefix) => {
      const buf = Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from('\r\n\r\n')]);
      try {
        const end = findHeadEnd(buf, 0, LIMITS.maxHeaderBytes);
        parseRequestHead(buf, end, LIMITS);
        parseResponseHead(buf, end, LIMITS, 'GET');
      } catch (e) {
        assert.ok(e instanceof HttpParseError, String(e));
      }
    }),
    { numRuns: 1000 },
  );
});

function encodeChunked(parts: Uint8Array[], ext: boolean): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) if (p.length > 0) out.push(Buffer.from(`${p.length.toString(16)}${ext ? ';a=b' : ''}\r\n`), Buffer.from(p), Buffer.from('\r\n'));
  out.push(Buffer.from('0\r\nX-Trailer: t\r\n\r\n'));
  return Buffer.concat(out);
}

test('chunked bodies decode the same however the bytes are split, and the end is found exactly', { timeout: 60_000 }, () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.boolean(), fc.array(fc.nat(50), { maxLength: 30 }), (parts, ext, cuts) => {
      const wire = Buffer.concat([encodeChunked(parts, ext), Buffer.from('NEXT')]);
      const d = new ChunkedDecoder();
      const got: Buffer[] = [];
      let pos = 0;
      let end = -1;
      for (const c of [...cuts, wire.length]) {
        const slice = wire.subarray(pos, Math.min(wire.length, pos + c + 1));
        const e = d.feed(slice, 0, slice.length, (x) => got.push(Buffer.from(x)));
        if (e >= 0) {
          end = pos + e;
          break;
        }
        pos += slice.length;
        if (pos >= wire.length) break;
      }
      assert.equal(end, wire.length - 4);
      assert.ok(Buffer.concat(got).equals(Buffer.concat(parts.map((p) => Buffer.from(p)))));
    }),
    { numRuns: 300 },
  );
});

test('bad chunk framing is refused', { timeout: 60_000 }, () => {
  for (const bad of ['zz\r\n', '5\r\nhelloX\r\n', '5\nhello\r\n', '-1\r\n', ' 5\r\n', '1234567890abc\r\n', '0\r\nbad\nline\r\n\r\n']) {
    const d = new ChunkedDecoder();
    assert.throws(() => d.feed(Buffer.from(bad), 0, bad.length), HttpParseError, JSON.stringify(bad));
  }
});
