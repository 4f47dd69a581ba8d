// HTTP/1.1 proxying through a real L7 listener to real backends: forwarding headers, hop-by-hop
// removal, keep-alive reuse, bodies streamed both ways, local responses, errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { startBackend, startProxy, poolOf, request, rawExchange, type Backend, type Proxy } from './support.js';

const VS = 'virtualservice-plain';
let a: Backend;
let b: Backend;
let proxy: Proxy;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function objects(extra: Record<string, any> = {}): Record<string, any>[] {
  return [
    { uuid: VS, name: 'plain', type: 'VS_TYPE_NORMAL', services: [{ port: 8080 }], pool_ref: 'pool-web', ...extra },
    poolOf('pool-web', [a, b]),
  ];
}

before(async () => {
  a = await startBackend('a');
  b = await startBackend('b');
  proxy = await startProxy(objects(), VS);
});

after(async () => {
  agent.destroy();
  await proxy?.close();
  await a?.close();
  await b?.close();
});

test('proxies to the pool round robin, Host preserved, X-Forwarded-* added', { timeout: 60_000 }, async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await request(`${proxy.url}/hello?x=1`, { agent, headers: { host: 'shop.example.com:8080', 'x-forwarded-for': '10.0.0.9' } });
    assert.equal(r.status, 200);
    const j = r.json();
    seen.add(j.backend);
    assert.equal(j.url, '/hello?x=1');
    assert.equal(j.headers.host, 'shop.example.com:8080');
    assert.match(j.headers['x-forwarded-for'], /^10\.0\.0\.9, 127\./);
    assert.equal(j.headers['x-forwarded-proto'], 'http');
    assert.equal(j.headers['x-forwarded-port'], '8080');
  }
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  const m = proxy.ctx.metrics.requests.filter((x) => x.status === 200);
  assert.ok(m.length >= 4);
  assert.equal(m[0].vs, VS);
  assert.equal(m[0].pool, 'pool-web');
});

test('hop-by-hop headers are removed both ways', { timeout: 60_000 }, async () => {
  const res = await rawExchange(
    proxy.address,
    proxy.port,
    'GET /hop HTTP/1.1\r\nHost: h\r\nConnection: close, X-Private\r\nX-Private: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nX-Kept: yes\r\n\r\n',
  );
  const [head, body] = res.text.split('\r\n\r\n');
  const j = JSON.parse(body);
  assert.equal(j.headers['x-private'], undefined);
  assert.equal(j.headers['keep-alive'], undefined);
  assert.equal(j.headers.te, undefined);
  assert.equal(j.headers['x-kept'], 'yes');
  assert.doesNotMatch(head, /x-hop/i);
  assert.doesNotMatch(head, /keep-alive/i);
  assert.match(head, /\r\nConnection: close/i);
  assert.ok(res.closed);
});

test('upstream connections are pooled and reused across requests', { timeout: 60_000 }, async () => {
  const before = a.connections + b.connections;
  for (let i = 0; i < 20; i++) assert.equal((await request(`${proxy.url}/`, { agent })).status, 200);
  assert.ok(a.connections + b.connections - before <= 4, `opened ${a.connections + b.connections - before} upstream connections`);
});

test('request bodies stream with Content-Length and chunked; responses chunked and large', { timeout: 60_000 }, async () => {
  const payload = Buffer.alloc(3 * 1024 * 1024, 7);
  const r1 = await request(`${proxy.url}/echo`, { agent, method: 'POST', body: payload });
  assert.equal(r1.status, 200);
  assert.ok(r1.body.equals(payload));
  async function* parts(): AsyncIterable<Buffer> {
    for (let i = 0; i < 50; i++) yield Buffer.alloc(10_000, i);
  }
  const r2 = await request(`${proxy.url}/echo`, { agent, method: 'POST', body: parts() });
  assert.equal(r2.status, 200);
  assert.equal(r2.body.length, 500_000);
  assert.equal(r2.headers['transfer-encoding'], 'chunked');
  const r3 = await request(`${proxy.url}/chunked`, { agent });
  assert.equal(r3.body.toString(), 'part1-part2-end');
  assert.equal(r3.headers['transfer-encoding'], 'chunked');
  const r4 = await request(`${proxy.url}/big?n=5000000`, { agent });
  assert.equal(r4.body.length, 5_000_000);
});

test('HEAD, 204 and 304 have no body; pipelined requests are answered in order', { timeout: 60_000 }, async () => {
  const h = await request(`${proxy.url}/big?n=100`, { agent, method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '100');
  assert.equal(h.body.length, 0);
  assert.equal((await request(`${proxy.url}/status/204`, { agent })).status, 204);
  const res = await rawExchange(proxy.address, proxy.port, 'GET /one HTTP/1.1\r\nHost: h\r\n\r\nGET /two HTTP/1.1\r\nHost: h\r\n\r\nGET /three HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  const urls = [...res.text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/one', '/two', '/three']);
});

test('HTTP/1.0 clients get a de-chunked body and the connection closed', { timeout: 60_000 }, async () => {
  const res = await rawExchange(proxy.address, proxy.port, 'GET /chunked HTTP/1.0\r\nHost: h\r\n\r\n');
  assert.match(res.text, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(res.text, /transfer-encoding/i);
  assert.ok(res.text.endsWith('part1-part2-end'));
  assert.ok(res.closed);
});

test('responses the SE makes carry Server, Date, Content-Type and Content-Length; 404 without a pool', { timeout: 60_000 }, async () => {
  proxy.update(objects({ pool_ref: undefined }));
  try {
    const r = await request(`${proxy.url}/nothing`, { agent });
    assert.equal(r.status, 404);
    assert.equal(r.headers.server, 'Portico');
    assert.ok(r.headers.date);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.equal(Number(r.headers['content-length']), r.body.length);
  } finally {
    proxy.update(objects());
  }
});

test('a dead server gives 502, an empty pool 503, and the next request works', { timeout: 60_000 }, async () => {
  const dead = await startBackend('dead');
  await dead.close();
  proxy.update([...objects({ pool_ref: 'pool-dead' }), poolOf('pool-dead', [dead]), poolOf('pool-empty', [])]);
  try {
    const r = await request(`${proxy.url}/`, { agent });
    assert.equal(r.status, 502);
    assert.equal(r.headers.server, 'Portico');
    proxy.update([...objects({ pool_ref: 'pool-empty' }), poolOf('pool-empty', [])]);
    assert.equal((await request(`${proxy.url}/`, { agent })).status, 503);
  } finally {
    proxy.update(objects());
  }
  assert.equal((await request(`${proxy.url}/`, { agent })).status, 200);
});

test('a backend closing after each response does not fail requests', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 10; i++) assert.equal((await request(`${proxy.url}/close`, { agent })).status, 200);
});

test('Expect: 100-continue is relayed: the client gets 100 before sending its body', { timeout: 60_000 }, async () => {
  const { request: raw } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = raw(`${proxy.url}/echo`, { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (body === 'hello' ? resolve(res.statusCode ?? 0) : reject(new Error(body))));
    });
    req.on('continue', () => req.end('hello'));
    req.on('error', reject);
  });
  assert.equal(status, 200);
});

test('absolute-form targets reach the server in origin-form with the authority as Host', { timeout: 60_000 }, async () => {
  const res = await rawExchange(proxy.address, proxy.port, 'GET http://abs.example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: ignored.example.com\r\nConnection: close\r\n\r\n');
  const j = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4));
  assert.equal(j.url, '/p/q?x=1');
  assert.equal(j.headers.host, 'abs.example.com:8080');
});
