// Policy features beyond plain routing: security ALLOW stopping the security rules, match on
// cookie / client_ip / source_ip / HTTP version, redirect tokens (REGEX, REGEX_QUERY,
// STRING_GROUP, HOST, PATH), http_response_policy header actions (HTTP/1.1 and HTTP/2), and the
// pool's server_timeout (a silent server → 504, the client connection goes on).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Server as NetServer, type Socket, type AddressInfo } from 'node:net';
import { connect as h2Connect } from 'node:http2';
import { startBackend, startProxy, poolOf, request, rawExchange, makeCert, certObject, freshAddress, waitFor, type Backend, type Proxy } from './support.js';

const VS = 'virtualservice-rules';
let good: Backend;
let other: Backend;
let silent: NetServer;
let silentSockets: Socket[] = [];
let silentPort = 0;
let silentAddress = '';
let proxy: Proxy;
let tlsProxy: Proxy;

const toPool = (pool: string) => ({ action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: pool });
const local = (code: number) => ({ action: 'HTTP_SWITCHING_SELECT_LOCAL', status_code: `HTTP_LOCAL_RESPONSE_STATUS_CODE_${code}`, file: { content_type: 'text/plain', file_content: `local ${code}` } });
const path = (criteria: string, strs: string[]) => ({ match_criteria: criteria, match_case: 'SENSITIVE', match_str: strs });
const tokens = (...t: Record<string, unknown>[]) => ({ type: 'URI_PARAM_TYPE_TOKENIZED', tokens: t });

function objects(): Record<string, any>[] {
  const cert = makeCert('rules.example.com');
  return [
    {
      uuid: VS,
      name: 'rules',
      type: 'VS_TYPE_NORMAL',
      services: [{ port: 8080 }, { port: 8443, enable_ssl: true }],
      http_policies: [{ index: 1, http_policy_set_ref: 'httppolicyset-rules' }],
      pool_ref: 'pool-good',
      ssl_key_and_certificate_refs: ['sslkeyandcertificate-rules'],
    },
    certObject('sslkeyandcertificate-rules', 'rules', cert),
    poolOf('pool-good', [good]),
    poolOf('pool-other', [other]),
    { uuid: 'pool-silent', name: 'silent', server_timeout: 300, servers: [{ ip: { addr: silentAddress, type: 'V4' }, port: silentPort }] },
    { uuid: 'stringgroup-moves', name: 'moves', kv: [{ key: '/old-a', value: '/new/a' }, { key: '/old-b', value: '/new/b' }] },
    { uuid: 'ipaddrgroup-locals', name: 'locals', prefixes: [{ ip_addr: { addr: '127.20.0.0', type: 'V4' }, mask: 16 }] },
    {
      uuid: 'httppolicyset-rules',
      name: 'rules',
      http_security_policy: {
        rules: [
          // ALLOW for /allowed stops the security rules: the CLOSE_CONN below never sees it.
          { name: 'allow', index: 1, enable: true, match: { path: path('BEGINS_WITH', ['/allowed']) }, action: { action: 'HTTP_SECURITY_ACTION_ALLOW' } },
          { name: 'block', index: 2, enable: true, match: { path: path('BEGINS_WITH', ['/allowed', '/blocked']) }, action: { action: 'HTTP_SECURITY_ACTION_SEND_RESPONSE', status_code: 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403' } },
        ],
      },
      http_request_policy: {
        rules: [
          { name: 'allowed', index: 0, enable: true, match: { path: path('BEGINS_WITH', ['/allowed']) }, switching_action: toPool('pool-other') },
          { name: 'cookie', index: 1, enable: true, match: { path: path('EQUALS', ['/cookie']), cookie: { key: 'canary', match_criteria: 'HDR_EQUALS', value: 'yes' } }, switching_action: toPool('pool-other') },
          { name: 'nocookie', index: 2, enable: true, match: { path: path('EQUALS', ['/nocookie']), cookie: { key: 'session', match_criteria: 'HDR_DOES_NOT_EXIST' } }, switching_action: local(403) },
          { name: 'client-in', index: 3, enable: true, match: { path: path('EQUALS', ['/client']), client_ip: { match_criteria: 'IS_IN', group_refs: ['ipaddrgroup-locals'] } }, switching_action: toPool('pool-other') },
          { name: 'source-out', index: 4, enable: true, match: { path: path('EQUALS', ['/source']), source_ip: { match_criteria: 'IS_NOT_IN', addrs: [{ addr: '10.1.2.3', type: 'V4' }], ranges: [{ begin: { addr: '192.168.0.1', type: 'V4' }, end: { addr: '192.168.0.9', type: 'V4' } }] } }, switching_action: local(204) },
          { name: 'source-in', index: 5, enable: true, match: { path: path('EQUALS', ['/source-other']), source_ip: { match_criteria: 'IS_IN', prefixes: [{ ip_addr: { addr: '10.0.0.0', type: 'V4' }, mask: 8 }] } }, switching_action: local(204) },
          { name: 'v10', index: 6, enable: true, match: { path: path('EQUALS', ['/version']), version: { match_criteria: 'IS_IN', versions: ['ONE_ZERO'] } }, switching_action: local(404) },
          { name: 'v2', index: 7, enable: true, match: { path: path('EQUALS', ['/version']), version: { match_criteria: 'IS_IN', versions: ['TWO_ZERO'] } }, switching_action: local(429) },
          {
            name: 'regex-redirect',
            index: 8,
            enable: true,
            match: { path: path('REGEX_MATCH', ['^/shop/([a-z]+)/([0-9]+)$']) },
            redirect_action: { protocol: 'HTTPS', keep_query: false, status_code: 'HTTP_REDIRECT_STATUS_CODE_301', path: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'items/' }, { type: 'URI_TOKEN_TYPE_REGEX', start_index: 2, end_index: 2 }, { type: 'URI_TOKEN_TYPE_STRING', str_value: '/' }, { type: 'URI_TOKEN_TYPE_REGEX', start_index: 1, end_index: 1 }) },
          },
          {
            name: 'query-redirect',
            index: 9,
            enable: true,
            match: { path: path('EQUALS', ['/q']), query: path('REGEX_MATCH', ['id=([0-9]+)']) },
            redirect_action: { protocol: 'HTTP', keep_query: false, path: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'by-id/' }, { type: 'URI_TOKEN_TYPE_REGEX_QUERY', start_index: 1 }) },
          },
          {
            name: 'group-redirect',
            index: 10,
            enable: true,
            match: { path: { match_criteria: 'EQUALS', match_case: 'SENSITIVE', string_group_refs: ['stringgroup-moves'] } },
            redirect_action: { protocol: 'HTTP', path: tokens({ type: 'URI_TOKEN_TYPE_STRING_GROUP' }), host: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'www.' }, { type: 'URI_TOKEN_TYPE_HOST', start_index: 1 }) },
          },
          { name: 'hang', index: 11, enable: true, match: { path: path('BEGINS_WITH', ['/hang']) }, switching_action: toPool('pool-silent') },
        ],
      },
      http_response_policy: {
        rules: [
          {
            name: 'all',
            index: 1,
            enable: true,
            hdr_action: [
              { action: 'HTTP_ADD_HDR', hdr: { name: 'X-Policy', value: { val: 'on' } } },
              { action: 'HTTP_REMOVE_HDR', hdr: { name: 'X-Backend' } },
              // Framing headers are not a policy's to change.
              { action: 'HTTP_REMOVE_HDR', hdr: { name: 'Content-Length' } },
            ],
          },
          { name: 'errors', index: 2, enable: true, match: { status: { match_criteria: 'IS_IN', ranges: [{ begin: 400, end: 499 }] } }, hdr_action: [{ action: 'HTTP_REPLACE_HDR', hdr: { name: 'Cache-Control', value: { val: 'no-store' } } }] },
          { name: 'json', index: 3, enable: true, match: { rsp_hdrs: [{ hdr: 'content-type', match_criteria: 'HDR_CONTAINS', value: ['json'] }], path: path('BEGINS_WITH', ['/json']) }, hdr_action: [{ action: 'HTTP_ADD_HDR', hdr: { name: 'X-Json', value: { val: '1' } } }] },
        ],
      },
    },
  ];
}

before(async () => {
  good = await startBackend('good');
  other = await startBackend('other');
  // A server that accepts and reads but never answers.
  silentAddress = freshAddress();
  silent = createNetServer((s) => {
    silentSockets.push(s);
    s.on('error', () => undefined);
    // /stall: the head and part of the body, then silence; anything else: silence.
    s.on('data', (d: Buffer) => {
      if (d.toString('latin1').startsWith('GET /hang/stall')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    });
  });
  await new Promise<void>((resolve) => silent.listen(0, silentAddress, resolve));
  silentPort = (silent.address() as AddressInfo).port;
  proxy = await startProxy(objects(), VS);
  tlsProxy = await startProxy(objects(), VS, { tls: true });
});

after(async () => {
  await proxy?.close();
  await tlsProxy?.close();
  for (const s of silentSockets) s.destroy();
  silentSockets = [];
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  await good?.close();
  await other?.close();
});

test('HTTP_SECURITY_ACTION_ALLOW skips the remaining security rules; request rules still apply', async () => {
  const allowed = await request(`${proxy.url}/allowed/x`);
  assert.equal(allowed.status, 200);
  assert.equal(allowed.json().backend, 'other');
  assert.equal((await request(`${proxy.url}/blocked`)).status, 403);
});

test('cookie match: HDR_EQUALS on one cookie, HDR_DOES_NOT_EXIST', async () => {
  assert.equal((await request(`${proxy.url}/cookie`, { headers: { cookie: 'a=1; canary=yes; b=2' } })).json().backend, 'other');
  assert.equal((await request(`${proxy.url}/cookie`, { headers: { cookie: 'canary=no' } })).json().backend, 'good');
  assert.equal((await request(`${proxy.url}/cookie`)).json().backend, 'good');
  assert.equal((await request(`${proxy.url}/nocookie`)).status, 403);
  assert.equal((await request(`${proxy.url}/nocookie`, { headers: { cookie: 'session=abc' } })).status, 200);
});

test('client_ip (ipaddrgroup prefix) and source_ip (addrs, ranges, prefixes; IS_IN / IS_NOT_IN)', async () => {
  // Test clients connect from 127.0.0.1 … which is not in 127.20.0.0/16: use a local address inside it.
  const inside = await request(`${proxy.url}/client`, { localAddress: freshAddress() });
  assert.equal(inside.json().backend, 'other');
  const outside = await request(`${proxy.url}/client`, { localAddress: '127.0.0.1' });
  assert.equal(outside.json().backend, 'good');
  assert.equal((await request(`${proxy.url}/source`)).status, 204);
  assert.equal((await request(`${proxy.url}/source-other`)).status, 200);
});

test('version match: HTTP/1.0 and HTTP/2', async () => {
  const r10 = await rawExchange(proxy.address, proxy.port, 'GET /version HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(r10.text, /^HTTP\/1\.1 404 /);
  assert.equal((await request(`${proxy.url}/version`)).status, 200);
  const h2 = await h2Request(`${tlsProxy.url}/version`);
  assert.equal(h2.status, 429);
});

test('redirect tokens: REGEX captures, REGEX_QUERY, STRING_GROUP value, HOST labels', async () => {
  const a = await request(`${proxy.url}/shop/shoes/42`, { headers: { host: 'shop.example.com' } });
  assert.equal(a.status, 301);
  assert.equal(a.headers.location, 'https://shop.example.com/items/42/shoes');
  const q = await request(`${proxy.url}/q?x=1&id=77`, { headers: { host: 'q.example.com:8080' } });
  assert.equal(q.status, 302);
  assert.equal(q.headers.location, 'http://q.example.com:8080/by-id/77');
  const g = await request(`${proxy.url}/old-b?k=v`, { headers: { host: 'old.example.com' } });
  assert.equal(g.status, 302);
  assert.equal(g.headers.location, 'http://www.example.com:8080/new/b?k=v');
});

test('http_response_policy: header actions by status and response header, framing untouched (HTTP/1.1 and HTTP/2)', async () => {
  const ok = await request(`${proxy.url}/json`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-policy'], 'on');
  assert.equal(ok.headers['x-backend'], undefined);
  assert.equal(ok.headers['x-json'], '1');
  assert.equal(ok.headers['cache-control'], undefined);
  assert.equal(Number(ok.headers['content-length']), ok.body.length);
  assert.equal(ok.json().backend, 'good');
  const missing = await request(`${proxy.url}/status/404`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['cache-control'], 'no-store');
  assert.equal(missing.headers['x-json'], undefined);
  const h2 = await h2Request(`${tlsProxy.url}/status/404`);
  assert.equal(h2.status, 404);
  assert.equal(h2.headers['x-policy'], 'on');
  assert.equal(h2.headers['cache-control'], 'no-store');
  assert.equal(h2.headers['x-backend'], undefined);
});

test('a silent server: 504 after the pool server_timeout, the client connection serves the next request', async () => {
  const before = proxy.ctx.pools.active;
  // Two pipelined requests on one connection: the first hangs upstream, the second is normal.
  const r = await rawExchange(proxy.address, proxy.port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\nGET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 10_000);
  assert.match(r.text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
  assert.match(r.text, /server response timeout/);
  assert.match(r.text, /HTTP\/1\.1 200 OK[\s\S]*"backend":"good"/);
  assert.equal(r.closed, true);
  assert.equal(proxy.ctx.pools.active, before, 'the pick on the silent server is released');
  assert.ok(proxy.ctx.metrics.requests.some((q) => q.status === 504));
  const h2 = await h2Request(`${tlsProxy.url}/hang`);
  assert.equal(h2.status, 504);
});

test('a server that stalls mid-body: after server_timeout the client connection is closed (the response cannot complete)', async () => {
  const before = proxy.ctx.pools.active;
  const r = await rawExchange(proxy.address, proxy.port, 'GET /hang/stall HTTP/1.1\r\nHost: x\r\n\r\n', 10_000);
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\npartial$/);
  assert.equal(r.closed, true);
  await waitFor(() => proxy.ctx.pools.active === before, 5000, 'the pick on the stalled server released');
});

function h2Request(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const session = h2Connect(u.origin, { rejectUnauthorized: false, servername: 'rules.example.com' });
    session.on('error', reject);
    const req = session.request({ ':path': u.pathname + u.search });
    let body = '';
    let headers: Record<string, unknown> = {};
    req.setEncoding('utf8');
    req.on('response', (h) => (headers = h));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), headers, body });
    });
    req.on('error', (e) => {
      session.destroy();
      reject(e);
    });
    req.setTimeout(15_000, () => req.close());
  });
}
