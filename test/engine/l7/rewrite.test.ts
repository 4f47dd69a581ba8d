// httppolicyset actions that change the message rather than route it: rewrite_url_action (path,
// query, Host before forwarding), hdr_action with variable values and cookie actions (request
// Cookie, response Set-Cookie), and loc_hdr_action (the server's Location rewritten). Real
// requests over HTTP/1.1 and HTTP/2 (TLS) through a real listener. Addresses: 127.102.3.0/24.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect as h2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createL7Listener } from '../../../src/engine/l7/index.js';
import type { L7Listener } from '../../../src/engine/contracts.js';
import { certObject, indexOf, makeCert, request, testContext } from './support.js';

const VIP = '127.102.3.1';
const BACKEND = '127.102.3.2';
const VS = 'virtualservice-rewrite';
let backend: Server;
let backendPort = 0;
const listeners: L7Listener[] = [];

const path = (criteria: string, strs: string[]) => ({ match_criteria: criteria, match_case: 'SENSITIVE', match_str: strs });
const tokens = (...t: Record<string, unknown>[]) => ({ type: 'URI_PARAM_TYPE_TOKENIZED', tokens: t });
const hdr = (action: string, name: string, value?: Record<string, unknown>) => ({ action, hdr: { name, ...(value ? { value } : {}) } });
const cookie = (action: string, name: string, value?: string) => ({ action, hdr: { name: 'Cookie' }, cookie: { name, ...(value !== undefined ? { value } : {}) } });

function objects(): Record<string, any>[] {
  return [
    {
      uuid: VS, name: 'rewrite', type: 'VS_TYPE_NORMAL',
      services: [{ port: 8080 }, { port: 8443, enable_ssl: true }],
      http_policies: [{ index: 1, http_policy_set_ref: 'httppolicyset-rewrite' }],
      pool_ref: 'pool-b',
      ssl_key_and_certificate_refs: ['sslkeyandcertificate-rewrite'],
    },
    certObject('sslkeyandcertificate-rewrite', 'rewrite', makeCert('rewrite.example.com')),
    { uuid: 'pool-b', name: 'b', servers: [{ ip: { addr: BACKEND, type: 'V4' }, port: backendPort }] },
    {
      uuid: 'httppolicyset-rewrite', name: 'rewrite',
      http_request_policy: {
        rules: [
          {
            name: 'api', index: 1, enable: true, match: { path: path('REGEX_MATCH', ['^/api/([a-z]+)/']) },
            rewrite_url_action: {
              host_hdr: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'internal.' }, { type: 'URI_TOKEN_TYPE_HOST', start_index: 1 }),
              path: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'v2/' }, { type: 'URI_TOKEN_TYPE_REGEX', start_index: 1, end_index: 1 }, { type: 'URI_TOKEN_TYPE_STRING', str_value: '/' }, { type: 'URI_TOKEN_TYPE_PATH', start_index: 2 }),
              query: { keep_query: true, add_string: 'src=lb' },
            },
            hdr_action: [hdr('HTTP_ADD_HDR', 'X-Rewritten', { val: 'yes' })],
          },
          { name: 'noquery', index: 2, enable: true, match: { path: path('BEGINS_WITH', ['/plain']) }, rewrite_url_action: { path: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: '/flat' }), query: { keep_query: false } } },
          {
            name: 'vars', index: 3, enable: true, match: { path: path('BEGINS_WITH', ['/vars']) },
            hdr_action: [
              hdr('HTTP_ADD_HDR', 'X-Client-IP', { var: 'HTTP_POLICY_VAR_CLIENT_IP' }),
              hdr('HTTP_ADD_HDR', 'X-VS-IP', { var: 'HTTP_POLICY_VAR_VS_IP' }),
              hdr('HTTP_ADD_HDR', 'X-VS-Port', { var: 'HTTP_POLICY_VAR_VS_PORT' }),
              hdr('HTTP_REPLACE_HDR', 'X-Agent-Copy', { val: 'User-Agent', var: 'HTTP_POLICY_VAR_HTTP_HDR' }),
              hdr('HTTP_ADD_HDR', 'X-Request-ID', { var: 'HTTP_POLICY_VAR_REQUEST_ID' }),
              hdr('HTTP_ADD_HDR', 'X-Request-ID-Again', { var: 'HTTP_POLICY_VAR_REQUEST_ID' }),
              hdr('HTTP_ADD_HDR', 'X-SNI', { var: 'HTTP_POLICY_VAR_SSL_SERVER_NAME' }),
              hdr('HTTP_ADD_HDR', 'X-TLS', { var: 'HTTP_POLICY_VAR_SSL_PROTOCOL' }),
              // No client certificates here: the header is not written.
              hdr('HTTP_ADD_HDR', 'X-Client-Serial', { var: 'HTTP_POLICY_VAR_SSL_CLIENT_SERIAL' }),
            ],
          },
          {
            name: 'cookies', index: 4, enable: true, match: { path: path('BEGINS_WITH', ['/cookies']) },
            hdr_action: [cookie('HTTP_REMOVE_HDR', 'drop'), cookie('HTTP_REPLACE_HDR', 'a', '9'), cookie('HTTP_ADD_HDR', 'added', 'x')],
          },
        ],
      },
      http_response_policy: {
        rules: [
          {
            name: 'loc-default', index: 1, enable: true,
            match: { path: path('EQUALS', ['/redirect']), loc_hdr: { match_criteria: 'HDR_CONTAINS', value: ['internal.local'] } },
            loc_hdr_action: { protocol: 'HTTPS' },
          },
          {
            name: 'loc-tokens', index: 2, enable: true, match: { path: path('EQUALS', ['/redirect2']) },
            loc_hdr_action: { protocol: 'HTTP', port: 8081, keep_query: false, host: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: 'edge.example.com' }), path: tokens({ type: 'URI_TOKEN_TYPE_STRING', str_value: '/moved/here' }) },
          },
          // The Location does not contain the matched text: untouched.
          { name: 'loc-nomatch', index: 3, enable: true, match: { path: path('EQUALS', ['/redirect3']), loc_hdr: { match_criteria: 'HDR_CONTAINS', value: ['elsewhere'] } }, loc_hdr_action: { protocol: 'HTTPS' } },
          {
            name: 'set-cookies', index: 4, enable: true, match: { path: path('EQUALS', ['/cookies']) },
            hdr_action: [
              { action: 'HTTP_REMOVE_HDR', hdr: { name: 'Set-Cookie' }, cookie: { name: 'track' } },
              { action: 'HTTP_REPLACE_HDR', hdr: { name: 'Set-Cookie' }, cookie: { name: 'sid', value: 'hidden' } },
              { action: 'HTTP_ADD_HDR', hdr: { name: 'Set-Cookie' }, cookie: { name: 'lb', value: 'se1' } },
              { action: 'HTTP_ADD_HDR', hdr: { name: 'X-Served-Port', value: { var: 'HTTP_POLICY_VAR_VS_PORT' } } },
            ],
          },
        ],
      },
    },
  ];
}

async function listen(port: number, tls: boolean): Promise<void> {
  const index = indexOf(objects());
  const l = createL7Listener({ address: VIP, port, tls, vsUuid: VS }, index, testContext(index));
  listeners.push(l);
  await l.listen();
}

before(async () => {
  backend = createServer((req, res) => {
    if (req.url === '/redirect' || req.url === '/redirect3') res.writeHead(302, { location: 'http://internal.local:8081/login?next=/a' });
    else if (req.url === '/redirect2') res.writeHead(301, { location: 'http://internal.local/old?q=1' });
    else if (req.url === '/cookies') res.writeHead(200, { 'set-cookie': ['sid=abc; Path=/; HttpOnly', 'track=1', 'keep=2'] });
    else res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => backend.listen(0, BACKEND, r));
  backendPort = (backend.address() as AddressInfo).port;
  await listen(8080, false);
  await listen(8443, true);
});

after(async () => {
  for (const l of listeners) await l.close();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

const plain = (p: string, headers: Record<string, string> = {}) => request(`http://${VIP}:8080${p}`, { headers: { host: 'www.example.com', ...headers }, agent: false });

function h2(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, any>; body: string }> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`https://${VIP}:8443`, { rejectUnauthorized: false, servername: 'rewrite.example.com' });
    session.on('error', reject);
    const req = session.request({ ':path': p, ':authority': 'www.example.com', ...headers });
    let body = '';
    let h: Record<string, any> = {};
    req.setEncoding('utf8');
    req.on('response', (x) => (h = x));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      session.close();
      resolve({ status: Number(h[':status']), headers: h, body });
    });
    req.on('error', reject);
    req.end();
  });
}

test('rewrite_url_action: path from tokens and captures, query kept plus add_string, Host rewritten (HTTP/1.1 and HTTP/2)', async () => {
  const r = await plain('/api/users/7/profile?x=1');
  assert.equal(r.status, 200);
  const seen = r.json();
  assert.equal(seen.url, '/v2/users/7/profile?x=1&src=lb');
  assert.equal(seen.headers.host, 'internal.example.com');
  assert.equal(seen.headers['x-rewritten'], 'yes');
  const viaH2 = JSON.parse((await h2('/api/orders/42?y=2')).body);
  assert.equal(viaH2.url, '/v2/orders/42?y=2&src=lb');
  assert.equal(viaH2.headers.host, 'internal.example.com');
  // keep_query false drops the query; the Host stays the client's.
  const flat = (await plain('/plain/x?secret=1')).json();
  assert.equal(flat.url, '/flat');
  assert.equal(flat.headers.host, 'www.example.com');
  // No rule: untouched.
  assert.equal((await plain('/other?z=1')).json().url, '/other?z=1');
});

test('hdr_action variables: client IP, VS IP and port, a copied header, one request ID per request, TLS facts', async () => {
  const a = (await plain('/vars', { 'user-agent': 'probe/1' })).json().headers;
  assert.equal(a['x-client-ip'], '127.0.0.1');
  assert.equal(a['x-vs-ip'], VIP);
  assert.equal(a['x-vs-port'], '8080');
  assert.equal(a['x-agent-copy'], 'probe/1');
  assert.match(a['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/);
  assert.equal(a['x-request-id-again'], a['x-request-id'], 'one ID per request');
  assert.equal(a['x-sni'], undefined, 'no SNI on plain HTTP');
  assert.equal(a['x-tls'], undefined);
  assert.equal(a['x-client-serial'], undefined);
  const b = (await plain('/vars')).json().headers;
  assert.notEqual(b['x-request-id'], a['x-request-id']);
  assert.equal(b['x-agent-copy'], undefined, 'the copied header is absent');
  const t = JSON.parse((await h2('/vars')).body).headers;
  assert.equal(t['x-sni'], 'rewrite.example.com');
  assert.match(t['x-tls'], /^TLSv1\.[23]$/);
  assert.equal(t['x-vs-port'], '8443');
});

test('cookie actions: one cookie removed, replaced, added in Cookie; Set-Cookie lines filtered and added', async () => {
  const r = await plain('/cookies', { cookie: 'a=1; drop=2; keep=3' });
  assert.equal(r.json().headers.cookie, 'keep=3; a=9; added=x');
  assert.deepEqual(r.headers['set-cookie'], ['keep=2', 'sid=hidden', 'lb=se1']);
  assert.equal(r.headers['x-served-port'], '8080');
  // No Cookie from the client: the added ones still go out.
  assert.equal((await plain('/cookies')).json().headers.cookie, 'a=9; added=x');
  const v = await h2('/cookies', { cookie: 'drop=1; z=2' });
  assert.equal(JSON.parse(v.body).headers.cookie, 'z=2; a=9; added=x');
  assert.deepEqual(v.headers['set-cookie'], ['keep=2', 'sid=hidden', 'lb=se1']);
});

test('loc_hdr_action: the server Location rewritten to the client-facing scheme, host and port', async () => {
  const r = await plain('/redirect');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'https://www.example.com/login?next=/a');
  const t = await plain('/redirect2');
  assert.equal(t.headers.location, 'http://edge.example.com:8081/moved/here');
  assert.equal((await plain('/redirect3')).headers.location, 'http://internal.local:8081/login?next=/a', 'loc_hdr match failed: untouched');
  assert.equal((await h2('/redirect')).headers.location, 'https://www.example.com/login?next=/a');
});
