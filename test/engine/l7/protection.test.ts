// Protection: malformed HTTP → 400 and close (smuggling attempts never reach a server), header
// size/count limits, slow heads and bodies, idle keep-alive, max connections per VS, and one
// bad connection never disturbing another.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { startBackend, startProxy, poolOf, request, rawExchange, waitFor, makeCert, certObject, captureClientHello, type Backend, type Proxy } from './support.js';

const VS = 'virtualservice-guarded';
let backend: Backend;
let proxy: Proxy;

function objects(): Record<string, any>[] {
  return [
    { uuid: VS, name: 'guarded', type: 'VS_TYPE_NORMAL', services: [{ port: 8080 }], pool_ref: 'pool-a', application_profile_ref: 'applicationprofile-tight', performance_limits: { max_concurrent_connections: 6 } },
    {
      uuid: 'applicationprofile-tight',
      name: 'tight',
      type: 'APPLICATION_PROFILE_TYPE_HTTP',
      http_profile: { client_max_header_size: 2, max_header_count: 20, client_header_timeout: 400, keepalive_timeout: 600, client_body_timeout: 400 },
    },
    poolOf('pool-a', [backend]),
  ];
}

before(async () => {
  backend = await startBackend('a');
  proxy = await startProxy(objects(), VS);
});

after(async () => {
  await proxy?.close();
  await backend?.close();
});

async function rejected(raw: string, status: number): Promise<void> {
  const before = backend.requests;
  const res = await rawExchange(proxy.address, proxy.port, raw);
  assert.match(res.text, new RegExp(`^HTTP/1\\.1 ${status} `), `${JSON.stringify(raw)} → ${res.text.slice(0, 80)}`);
  assert.match(res.text, /\r\nConnection: close\r\n/);
  assert.match(res.text, /\r\nServer: Portico\r\n/);
  assert.ok(res.closed, 'connection closed');
  assert.equal(backend.requests, before, 'nothing reached the server');
}

test('request smuggling attempts are refused with 400 and the connection closed', { timeout: 60_000 }, async () => {
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +4\r\n\r\nabcd', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
  await rejected('GET / HTTP/1.1\nHost: h\n\n\r\n\r\n', 400);
  await rejected('GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n', 400);
  await rejected('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400);
  await rejected('GET / HTTP/1.1\r\n\r\n', 400);
  await rejected('GET /a b HTTP/1.1\r\nHost: h\r\n\r\n', 400);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501);
  await rejected('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n', 501);
  await rejected('GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505);
  // The request before a bad one is answered; the bad one ends the connection.
  const res = await rawExchange(proxy.address, proxy.port, 'GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
  assert.match(res.text, /^HTTP\/1\.1 200 /);
  assert.match(res.text, /HTTP\/1\.1 400 /);
  assert.ok(res.closed);
});

test('header size and count limits answer 431', { timeout: 60_000 }, async () => {
  await rejected(`GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(3000)}\r\n\r\n`, 431);
  await rejected(`GET / HTTP/1.1\r\nHost: h\r\n${Array.from({ length: 25 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, 431);
  const ok = await rawExchange(proxy.address, proxy.port, `GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n${Array.from({ length: 15 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`);
  assert.match(ok.text, /^HTTP\/1\.1 200 /);
});

test('a slow head gets 408, a stalled body 408, an idle keep-alive connection is closed', { timeout: 60_000 }, async () => {
  const slow = await rawExchange(proxy.address, proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ', 5000);
  assert.match(slow.text, /^HTTP\/1\.1 408 /);
  assert.ok(slow.closed);
  const body = await rawExchange(proxy.address, proxy.port, 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly-some', 5000);
  assert.match(body.text, /^HTTP\/1\.1 408 /);
  assert.ok(body.closed);
  const idle = await rawExchange(proxy.address, proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 5000);
  assert.match(idle.text, /^HTTP\/1\.1 200 /);
  assert.ok(idle.closed, 'idle keep-alive connection closed by the proxy');
});

test('a TLS client that stalls before or during the handshake is cut after client_header_timeout', { timeout: 60_000 }, async () => {
  const cert = certObject('sslkeyandcertificate-tls', 'tls', makeCert('tls.example.com'));
  const vs = { uuid: 'virtualservice-guarded-tls', name: 'guarded-tls', type: 'VS_TYPE_NORMAL', services: [{ port: 8443, enable_ssl: true }], pool_ref: 'pool-a', application_profile_ref: 'applicationprofile-tight', ssl_key_and_certificate_refs: [cert.uuid] };
  const secure = await startProxy([...objects(), vs, cert], vs.uuid, { tls: true });
  try {
    const silent = await rawExchange(secure.address, secure.port, [], 5000);
    assert.ok(silent.closed, 'a connection that never sends a ClientHello is closed');
    const hello = await captureClientHello(secure.address, { servername: 'tls.example.com' });
    const partial = await rawExchange(secure.address, secure.port, hello.subarray(0, 20), 5000);
    assert.equal(partial.text, '');
    assert.ok(partial.closed, 'a connection that sends part of a ClientHello is closed');
    // The whole ClientHello, then silence: the server answers (ServerHello) and waits for the client's Finished.
    const stalled = await rawExchange(secure.address, secure.port, hello, 5000);
    assert.equal(stalled.text.charCodeAt(0), 0x16, 'the server answered the ClientHello');
    assert.ok(stalled.closed, 'a handshake the client never finishes is cut');
    // Completed handshakes are not touched by the cut.
    assert.equal((await request(`${secure.url}/`, { agent: false })).status, 200);
  } finally {
    await secure.close();
  }
});

test('max concurrent connections per VS', { timeout: 60_000 }, async () => {
  const held = await Promise.all(
    Array.from({ length: 6 }, () => new Promise<ReturnType<typeof connect>>((resolve) => {
      const s = connect({ host: proxy.address, port: proxy.port }, () => resolve(s));
      s.on('error', () => undefined);
    })),
  );
  try {
    await waitFor(() => proxy.ctx.metrics.opened - proxy.ctx.metrics.closed >= 6, 3000, 'connections admitted');
    const extra = await rawExchange(proxy.address, proxy.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 2000);
    assert.equal(extra.text, '');
    assert.ok(extra.closed, 'the connection over the limit is closed at once');
  } finally {
    for (const s of held) s.destroy();
  }
  await waitFor(() => proxy.ctx.metrics.opened === proxy.ctx.metrics.closed, 3000, 'connections released');
  assert.equal((await request(`${proxy.url}/`, { agent: false })).status, 200);
});

test('random garbage never crashes the proxy nor disturbs another connection', { timeout: 60_000 }, async () => {
  // A well-behaved keep-alive client keeps asking while garbage arrives on other connections.
  const good = connect({ host: proxy.address, port: proxy.port });
  let answered = 0;
  let sent = 0;
  let goodClosed = false;
  good.on('error', () => undefined);
  good.on('close', () => (goodClosed = true));
  good.on('data', (d) => (answered += d.toString('latin1').split('"backend"').length - 1));
  const ask = (): void => {
    sent++;
    good.write(`GET /still-fine-${sent} HTTP/1.1\r\nHost: h\r\n\r\n`);
  };
  ask();
  const ticker = setInterval(ask, 100);
  try {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.constantFrom('', 'GET / HTTP/1.1\r\n', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n'), async (bytes, prefix) => {
        const res = await rawExchange(proxy.address, proxy.port, [prefix, Buffer.from(bytes), '\r\n\r\n'], 1500);
        assert.ok(res.text === '' || /^HTTP\/1\.1 \d{3} /.test(res.text), res.text.slice(0, 60));
      }),
      { numRuns: 60 },
    );
    clearInterval(ticker);
    await waitFor(() => answered === sent || goodClosed, 5000, 'answers on the good connection');
    assert.equal(goodClosed, false);
    assert.equal(answered, sent);
  } finally {
    clearInterval(ticker);
    good.destroy();
  }
  assert.equal(proxy.ctx.log.lines.filter((l) => l.level === 'error').length, 0, JSON.stringify(proxy.ctx.log.lines.filter((l) => l.level === 'error')));
});
