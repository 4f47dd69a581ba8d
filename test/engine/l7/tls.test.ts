// TLS termination: SNI picks the child (exact, then one-label wildcard), else the parent's
// certificate, else System-Default-Cert; RSA or EC by what the client offers; TLS 1.2 and 1.3;
// session resumption; certificates change without a restart; HTTP/2 via ALPN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { connect as h2Connect } from 'node:http2';
import { constants as cryptoConstants } from 'node:crypto';
import { startBackend, startProxy, poolOf, makeCert, certObject, request, captureClientHello, type Backend, type Proxy } from './support.js';
import { parseClientHello } from '../../../src/engine/l7/tls/client-hello.js';

const PARENT = 'virtualservice-parent';
let web: Backend;
let api: Backend;
let proxy: Proxy;

function objects(opts: { parentCert?: boolean; exactCert?: string } = {}): Record<string, any>[] {
  return [
    {
      uuid: PARENT,
      name: 'parent',
      type: 'VS_TYPE_VH_PARENT',
      services: [{ port: 8443, enable_ssl: true }],
      ssl_key_and_certificate_refs: opts.parentCert === false ? [] : ['sslkeyandcertificate-parent'],
      pool_ref: 'pool-web',
    },
    {
      uuid: 'virtualservice-exact',
      name: 'exact',
      type: 'VS_TYPE_VH_CHILD',
      vh_parent_vs_ref: PARENT,
      vh_domain_name: ['shop.example.com'],
      ssl_key_and_certificate_refs: [opts.exactCert ?? 'sslkeyandcertificate-shop', 'sslkeyandcertificate-shop-ec'],
      pool_ref: 'pool-api',
    },
    {
      uuid: 'virtualservice-wild',
      name: 'wild',
      type: 'VS_TYPE_VH_CHILD',
      vh_parent_vs_ref: PARENT,
      vh_domain_name: ['*.apps.example.com'],
      ssl_key_and_certificate_refs: ['sslkeyandcertificate-wild'],
      pool_ref: 'pool-web',
    },
    certObject('sslkeyandcertificate-parent', 'parent-cert', makeCert('parent.example.com')),
    certObject('sslkeyandcertificate-shop', 'shop-rsa', makeCert('shop.example.com', 'rsa')),
    certObject('sslkeyandcertificate-shop2', 'shop-rsa-2', makeCert('shop.example.com', 'rsa', ['shop.example.com', 'v2.shop.example.com'])),
    certObject('sslkeyandcertificate-shop-ec', 'shop-ec', makeCert('shop.example.com', 'ec')),
    certObject('sslkeyandcertificate-wild', 'wild', makeCert('*.apps.example.com')),
    certObject('sslkeyandcertificate-system', 'System-Default-Cert', makeCert('System Default Cert')),
    poolOf('pool-web', [web]),
    poolOf('pool-api', [api]),
  ];
}

before(async () => {
  web = await startBackend('web');
  api = await startBackend('api');
  proxy = await startProxy(objects(), PARENT, { tls: true });
});

after(async () => {
  await proxy?.close();
  await web?.close();
  await api?.close();
});

interface Handshake {
  cert: PeerCertificate;
  protocol: string | null;
  alpn: string | false | null;
  reused: boolean;
  session: Buffer | undefined;
}

function handshake(opts: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const s = tlsConnect({ host: proxy.address, port: proxy.port, rejectUnauthorized: false, ...opts });
    s.on('session', (sess) => (session = sess));
    s.on('error', reject);
    s.on('secureConnect', () => {
      const result = { cert: s.getPeerCertificate(), protocol: s.getProtocol(), alpn: s.alpnProtocol, reused: s.isSessionReused(), session };
      // TLS 1.3 tickets arrive after the handshake: read a little before closing.
      s.write(`GET / HTTP/1.1\r\nHost: ${opts.servername ?? 'x'}\r\nConnection: close\r\n\r\n`);
      s.on('data', () => undefined);
      s.on('close', () => resolve({ ...result, session }));
    });
  });
}

test('SNI: exact child, one-label wildcard, parent certificate, each child routed to its pool', { timeout: 60_000 }, async () => {
  assert.equal((await handshake({ servername: 'shop.example.com' })).cert.subject.CN, 'shop.example.com');
  assert.equal((await handshake({ servername: 'SHOP.example.com' })).cert.subject.CN, 'shop.example.com');
  assert.equal((await handshake({ servername: 'a.apps.example.com' })).cert.subject.CN, '*.apps.example.com');
  assert.equal((await handshake({ servername: 'b.a.apps.example.com' })).cert.subject.CN, 'parent.example.com');
  assert.equal((await handshake({ servername: 'other.example.com' })).cert.subject.CN, 'parent.example.com');
  assert.equal((await handshake({})).cert.subject.CN, 'parent.example.com');
  const shop = await request(`${proxy.url}/`, { servername: 'shop.example.com', headers: { host: 'shop.example.com' } });
  assert.equal(shop.json().backend, 'api');
  assert.equal(shop.json().headers['x-forwarded-proto'], 'https');
  const wild = await request(`${proxy.url}/`, { servername: 'x.apps.example.com', headers: { host: 'x.apps.example.com' } });
  assert.equal(wild.json().backend, 'web');
  assert.equal(proxy.ctx.metrics.requests.at(-1)!.vs, 'virtualservice-wild');
});

test('no parent certificate: System-Default-Cert', { timeout: 60_000 }, async () => {
  proxy.update(objects({ parentCert: false }));
  try {
    assert.equal((await handshake({ servername: 'unknown.example.com' })).cert.subject.CN, 'System Default Cert');
    assert.equal((await handshake({})).cert.subject.CN, 'System Default Cert');
  } finally {
    proxy.update(objects());
  }
});

test('RSA or EC certificate by what the client offers', { timeout: 60_000 }, async () => {
  const ec = await handshake({ servername: 'shop.example.com', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  assert.equal(ec.cert.asn1Curve, 'prime256v1');
  const rsa = await handshake({ servername: 'shop.example.com', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
  assert.equal(rsa.cert.subject.CN, 'shop.example.com');
  assert.ok(rsa.cert.bits === 2048 && rsa.cert.asn1Curve === undefined);
  const both = await handshake({ servername: 'shop.example.com' });
  assert.equal(both.cert.asn1Curve, 'prime256v1', 'EC is preferred when the client takes both');
});

test('TLS 1.2 and 1.3, and session resumption on both', { timeout: 60_000 }, async () => {
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    const first = await handshake({ servername: 'shop.example.com', minVersion: v, maxVersion: v });
    assert.equal(first.protocol, v);
    assert.ok(first.session, `no session for ${v}`);
    const again = await handshake({ servername: 'shop.example.com', minVersion: v, maxVersion: v, session: first.session });
    assert.equal(again.reused, true, `${v} session not resumed`);
  }
  const old = handshake({ servername: 'shop.example.com', minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
  await assert.rejects(old);
});

test('TLS 1.3: a resumed handshake gets a new ticket, so a chain of resumptions never falls back to a full handshake', { timeout: 60_000 }, async () => {
  // TLS 1.3 clients use each ticket once: without renewal every other connection is a full handshake.
  let h = await handshake({ servername: 'shop.example.com', minVersion: 'TLSv1.3' });
  assert.equal(h.reused, false);
  for (let i = 0; i < 4; i++) {
    const used = h.session;
    assert.ok(used, `no ticket after handshake ${i}`);
    h = await handshake({ servername: 'shop.example.com', minVersion: 'TLSv1.3', session: used });
    assert.equal(h.reused, true, `resumption ${i + 1} fell back to a full handshake`);
    assert.ok(h.session && !h.session.equals(used), `resumption ${i + 1} got no new ticket`);
  }
});

test('TLS 1.2 clients without tickets resume by session ID (server-side cache); not on another certificate', { timeout: 60_000 }, async () => {
  const opts = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: cryptoConstants.SSL_OP_NO_TICKET } as const;
  const first = await handshake({ servername: 'shop.example.com', ...opts });
  assert.equal(first.reused, false);
  assert.ok(first.session);
  const again = await handshake({ servername: 'shop.example.com', ...opts, session: first.session });
  assert.equal(again.reused, true, 'session ID not resumed');
  const elsewhere = await handshake({ servername: 'other.example.com', ...opts, session: first.session });
  assert.equal(elsewhere.reused, false, 'a session of one certificate resumed on another');
});

test('ClientHello facts: only a TLS 1.2 client without tickets gets the session-ID cache', { timeout: 60_000 }, async () => {
  const facts = async (opts: ConnectionOptions) => parseClientHello(await captureClientHello(proxy.address, { servername: 'Shop.Example.com', ...opts }));
  const tls13 = await facts({});
  assert.equal(tls13?.servername, 'shop.example.com');
  assert.equal(tls13?.sessionIdOnly, false);
  assert.equal((await facts({ maxVersion: 'TLSv1.2' }))?.sessionIdOnly, false, 'a TLS 1.2 client with the ticket extension');
  assert.equal((await facts({ maxVersion: 'TLSv1.2', secureOptions: cryptoConstants.SSL_OP_NO_TICKET }))?.sessionIdOnly, true);
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
});

test('a changed certificate is served on the next handshake without a restart', { timeout: 60_000 }, async () => {
  assert.deepEqual((await handshake({ servername: 'shop.example.com', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).cert.subjectaltname, 'DNS:shop.example.com');
  proxy.update(objects({ exactCert: 'sslkeyandcertificate-shop2' }));
  try {
    const h = await handshake({ servername: 'shop.example.com', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    assert.equal(h.cert.subjectaltname, 'DNS:shop.example.com, DNS:v2.shop.example.com');
  } finally {
    proxy.update(objects());
  }
});

test('HTTP/2 clients (ALPN h2) are proxied to HTTP/1.1 servers; http/1.1 via ALPN too', { timeout: 60_000 }, async () => {
  assert.equal((await handshake({ servername: 'shop.example.com', ALPNProtocols: ['h2', 'http/1.1'] })).alpn, 'h2');
  assert.equal((await handshake({ servername: 'shop.example.com', ALPNProtocols: ['http/1.1'] })).alpn, 'http/1.1');
  const session = h2Connect(proxy.url, { servername: 'shop.example.com', rejectUnauthorized: false } as any);
  session.on('error', () => undefined);
  try {
    const call = (headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: any; body: Buffer }> =>
      new Promise((resolve, reject) => {
        const s = session.request(headers, { endStream: body === undefined });
        let status = 0;
        let rh: any;
        const chunks: Buffer[] = [];
        s.on('response', (h) => {
          status = Number(h[':status']);
          rh = h;
        });
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve({ status, headers: rh, body: Buffer.concat(chunks) }));
        s.on('error', reject);
        if (body) s.end(body);
      });
    const results = await Promise.all([1, 2, 3, 4].map((i) => call({ ':path': `/h2/${i}`, ':authority': 'shop.example.com' })));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      const j = JSON.parse(r.body.toString());
      assert.equal(j.url, `/h2/${i + 1}`);
      assert.equal(j.headers.host, 'shop.example.com');
      assert.equal(j.backend, 'api');
    }
    const payload = Buffer.alloc(300_000, 3);
    const echo = await call({ ':path': '/echo', ':method': 'POST', ':authority': 'shop.example.com' }, payload);
    assert.ok(echo.body.equals(payload));
    const chunked = await call({ ':path': '/chunked', ':authority': 'shop.example.com' });
    assert.equal(chunked.body.toString(), 'part1-part2-end');
  } finally {
    session.close();
  }
});

test('HTTP/2 gets the responses the SE makes itself too (404 with Server, Date, Content-Type, Content-Length)', { timeout: 60_000 }, async () => {
  const objs = objects();
  delete objs[0].pool_ref;
  proxy.update(objs);
  const session = h2Connect(proxy.url, { servername: 'nobody.example.com', rejectUnauthorized: false } as any);
  session.on('error', () => undefined);
  try {
    const { headers, body } = await new Promise<{ headers: any; body: string }>((resolve, reject) => {
      const s = session.request({ ':path': '/missing', ':authority': 'nobody.example.com' });
      let h: any;
      let b = '';
      s.on('response', (x) => (h = x));
      s.on('data', (d) => (b += d));
      s.on('end', () => resolve({ headers: h, body: b }));
      s.on('error', reject);
    });
    assert.equal(headers[':status'], 404);
    assert.equal(headers.server, 'Portico');
    assert.ok(headers.date);
    assert.match(headers['content-type'], /^text\/plain/);
    assert.equal(Number(headers['content-length']), Buffer.byteLength(body));
  } finally {
    session.close();
    proxy.update(objects());
  }
});
