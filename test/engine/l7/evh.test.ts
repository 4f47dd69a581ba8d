// EVH (Enhanced Virtual Hosting): a parent with vh_type VS_TYPE_VH_ENHANCED picks its child by the
// Host header and the child's vh_matches paths, over HTTP and HTTPS alike; over TLS the SNI name
// only picks the certificate. No child matches → the parent's own default pool, else 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect as h2Connect } from 'node:http2';
import { createL7Listener } from '../../../src/engine/l7/index.js';
import type { L7Listener } from '../../../src/engine/contracts.js';
import { startBackend, poolOf, makeCert, certObject, request, indexOf, testContext, type Backend } from './support.js';

const PARENT = 'virtualservice-evh';
// This file's own loopback range (127.109.0.0/16).
const base = `127.109.${process.pid % 250}`;
let host = 1;
const addr = (): string => `${base}.${host++}`;

let a: Backend, api: Backend, s: Backend, w: Backend, dflt: Backend;
const running: Array<{ listener: L7Listener; ctx: ReturnType<typeof testContext> }> = [];
let http: { address: string; port: number };
let https: { address: string; port: number };

const every = [{ match_criteria: 'BEGINS_WITH', match_str: ['/'] }];

function objects(parentPool = true): Record<string, any>[] {
  return [
    {
      uuid: PARENT, name: 'evh-parent', type: 'VS_TYPE_VH_PARENT', vh_type: 'VS_TYPE_VH_ENHANCED',
      services: [{ port: 8080 }, { port: 8443, enable_ssl: true }],
      ...(parentPool ? { pool_ref: 'pool-default' } : {}),
    },
    { uuid: 'virtualservice-a', name: 'a', type: 'VS_TYPE_VH_CHILD', vh_type: 'VS_TYPE_VH_ENHANCED', vh_parent_vs_ref: PARENT,
      vh_matches: [{ host: 'a.example.com', path: every }], pool_ref: 'pool-a' },
    // Same host, a longer path: more specific, tried first whatever the snapshot order.
    { uuid: 'virtualservice-api', name: 'api', type: 'VS_TYPE_VH_CHILD', vh_type: 'VS_TYPE_VH_ENHANCED', vh_parent_vs_ref: PARENT,
      vh_matches: [{ host: 'a.example.com', path: [{ match_criteria: 'BEGINS_WITH', match_str: ['/api/'] }] }], pool_ref: 'pool-api' },
    { uuid: 'virtualservice-s', name: 's', type: 'VS_TYPE_VH_CHILD', vh_type: 'VS_TYPE_VH_ENHANCED', vh_parent_vs_ref: PARENT,
      vh_matches: [{ host: 'S.example.com', path: [{ match_criteria: 'EQUALS', match_str: ['/only', '/also'] }] }],
      ssl_key_and_certificate_refs: ['sslkeyandcertificate-s'], pool_ref: 'pool-s' },
    // No path: every path of the host (one label under the wildcard).
    { uuid: 'virtualservice-w', name: 'w', type: 'VS_TYPE_VH_CHILD', vh_type: 'VS_TYPE_VH_ENHANCED', vh_parent_vs_ref: PARENT,
      vh_matches: [{ host: '*.wild.example.com' }], pool_ref: 'pool-w' },
    certObject('sslkeyandcertificate-s', 's-cert', makeCert('s.example.com')),
    certObject('sslkeyandcertificate-system', 'System-Default-Cert', makeCert('System Default Cert')),
    poolOf('pool-a', [a]), poolOf('pool-api', [api]), poolOf('pool-s', [s]), poolOf('pool-w', [w]), poolOf('pool-default', [dflt]),
  ];
}

async function listen(tls: boolean): Promise<{ address: string; port: number }> {
  const index = indexOf(objects());
  const ctx = testContext(index);
  const address = addr();
  const port = tls ? 8443 : 8080;
  const listener = createL7Listener({ address, port, tls, vsUuid: PARENT }, index, ctx);
  running.push({ listener, ctx });
  await listener.listen();
  return { address, port };
}

function update(objs: Record<string, any>[]): void {
  const idx = indexOf(objs);
  for (const r of running) { r.ctx.pools.update(idx); r.listener.update(idx); }
}

before(async () => {
  [a, api, s, w, dflt] = await Promise.all(['a', 'api', 's', 'w', 'default'].map((n) => startBackend(n, addr())));
  http = await listen(false);
  https = await listen(true);
});

after(async () => {
  for (const r of running) await r.listener.close();
  for (const b of [a, api, s, w, dflt]) await b?.close();
});

async function via(l: { address: string; port: number }, tls: boolean, hostHeader: string, path: string, servername?: string): Promise<string> {
  const r = await request(`${tls ? 'https' : 'http'}://${l.address}:${l.port}${path}`, { headers: { host: hostHeader }, ...(servername ? { servername } : {}) });
  return r.status === 200 ? String(r.headers['x-backend']) : String(r.status);
}

test('EVH over HTTP: Host and vh_matches path pick the child; no match → the parent default pool', async () => {
  assert.equal(await via(http, false, 'a.example.com', '/'), 'a');
  assert.equal(await via(http, false, 'a.example.com:8080', '/api/v1?x=1'), 'api');
  assert.equal(await via(http, false, 'a.example.com', '/apix'), 'a');
  assert.equal(await via(http, false, 's.example.com', '/only'), 's');
  assert.equal(await via(http, false, 's.example.com', '/also'), 's');
  assert.equal(await via(http, false, 's.example.com', '/other'), 'default', 'no path of the host matches: the parent serves it');
  assert.equal(await via(http, false, 'x.wild.example.com', '/any'), 'w');
  assert.equal(await via(http, false, 'x.y.wild.example.com', '/any'), 'default', 'a wildcard covers one label');
  assert.equal(await via(http, false, 'nobody.example.com', '/'), 'default');
});

test('EVH over HTTPS: the Host header picks the child, the SNI name only the certificate', async () => {
  assert.equal(await via(https, true, 's.example.com', '/only', 's.example.com'), 's');
  assert.equal(await via(https, true, 'a.example.com', '/api/x', 's.example.com'), 'api', 'SNI s, Host a: a\'s child serves it');
  assert.equal(await via(https, true, 'a.example.com', '/', 'a.example.com'), 'a');
  const cn = (servername: string) => new Promise<string>((resolve, reject) => {
    const sock = tlsConnect({ host: https.address, port: https.port, servername, rejectUnauthorized: false }, () => {
      const c = String(sock.getPeerCertificate().subject?.CN);
      sock.destroy();
      resolve(c);
    });
    sock.on('error', reject);
  });
  assert.equal(await cn('s.example.com'), 's.example.com');
  assert.equal(await cn('a.example.com'), 'System Default Cert', 'a child without a certificate: the parent\'s, else System-Default-Cert');
});

test('EVH over HTTP/2: :authority and path pick the child, whatever the SNI name', async () => {
  const session = h2Connect(`https://${https.address}:${https.port}`, { servername: 's.example.com', rejectUnauthorized: false });
  try {
    const get = (authority: string, path: string) => new Promise<string>((resolve, reject) => {
      const req = session.request({ ':authority': authority, ':path': path });
      let backend = '';
      req.on('response', (h) => { backend = h[':status'] === 200 ? String(h['x-backend']) : String(h[':status']); });
      req.on('data', () => undefined);
      req.on('end', () => resolve(backend));
      req.on('error', reject);
      req.end();
    });
    assert.equal(await get('a.example.com', '/api/x'), 'api');
    assert.equal(await get('s.example.com', '/only'), 's');
    assert.equal(await get('x.wild.example.com', '/'), 'w');
  } finally {
    session.close();
  }
});

test('EVH: without a parent default pool, a request no child matches gets 404; children change without a restart', async () => {
  update(objects(false));
  assert.equal(await via(http, false, 'nobody.example.com', '/'), '404');
  assert.equal(await via(https, true, 's.example.com', '/other', 's.example.com'), '404');
  assert.equal(await via(http, false, 'a.example.com', '/api/v2'), 'api');
  // The /api/ child goes: its paths fall back to the host's catch-all child.
  update(objects(false).filter((o) => o.uuid !== 'virtualservice-api'));
  assert.equal(await via(http, false, 'a.example.com', '/api/v2'), 'a');
  update(objects());
});
