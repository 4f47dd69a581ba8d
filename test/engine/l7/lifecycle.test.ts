// WebSocket upgrades, configuration changes under load (50 updates during 2,000 keep-alive
// requests, none failing), and close(): stop accepting at once, drain in-flight requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { startBackend, startProxy, poolOf, request, rawExchange, type Backend, type Proxy } from './support.js';

const VS = 'virtualservice-life';
let a: Backend;
let b: Backend;
let proxy: Proxy;

function objects(version: number): Record<string, any>[] {
  return [
    {
      uuid: VS,
      name: 'life',
      type: 'VS_TYPE_NORMAL',
      services: [{ port: 8080 }],
      pool_ref: version % 2 === 0 ? 'pool-a' : 'pool-b',
      http_policies: [{ index: 1, http_policy_set_ref: 'httppolicyset-v' }],
    },
    {
      uuid: 'httppolicyset-v',
      name: 'v',
      http_request_policy: {
        rules: [{ name: 'tag', index: 0, enable: true, hdr_action: [{ action: 'HTTP_REPLACE_HDR', hdr: { name: 'X-Version', value: { val: String(version) } } }] }],
      },
    },
    poolOf('pool-a', [a]),
    poolOf('pool-b', [b]),
  ];
}

before(async () => {
  a = await startBackend('a');
  b = await startBackend('b');
  proxy = await startProxy(objects(0), VS);
});

after(async () => {
  await proxy?.close();
  await a?.close();
  await b?.close();
});

test('WebSocket upgrade is relayed and both directions flow', { timeout: 60_000 }, async () => {
  const sock = connect({ host: proxy.address, port: proxy.port });
  try {
    let text = '';
    const got = (needle: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (text.includes(needle) ? resolve() : undefined);
        sock.on('data', (d) => {
          text += d.toString('latin1');
          check();
        });
        sock.on('error', reject);
        check();
      });
    sock.write('GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await got('\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.match(text, /\r\nUpgrade: websocket\r\n/i);
    assert.match(text, /\r\nConnection: Upgrade\r\n/);
    sock.write('ping-frame-bytes');
    await got('ping-frame-bytes');
    sock.write(Buffer.alloc(200_000, 1));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (text.length >= text.indexOf('ping-frame-bytes') + 16 + 200_000) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
  } finally {
    sock.destroy();
  }
});

test('50 configuration changes during 2,000 keep-alive requests: zero failures', { timeout: 60_000 }, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let failures = 0;
  let done = 0;
  const versions = new Set<string>();
  try {
    const workers = Array.from({ length: 8 }, async () => {
      while (done < 2000) {
        done++;
        try {
          const r = await request(`${proxy.url}/w`, { agent, method: done % 5 === 0 ? 'POST' : 'GET', body: done % 5 === 0 ? 'payload' : undefined });
          if (r.status !== 200) failures++;
          else versions.add(r.json().headers['x-version']);
        } catch {
          failures++;
        }
      }
    });
    const updater = (async () => {
      for (let v = 1; v <= 50; v++) {
        await new Promise((r) => setTimeout(r, 5));
        proxy.update(objects(v));
      }
    })();
    await Promise.all([...workers, updater]);
  } finally {
    agent.destroy();
  }
  assert.equal(failures, 0);
  assert.ok(versions.size > 5, `saw ${versions.size} configuration versions`);
  assert.ok(a.requests > 0 && b.requests > 0);
});

test('close() stops accepting at once and lets the in-flight request finish', { timeout: 60_000 }, async () => {
  const slow = await startBackend('slow');
  const p = await startProxy([{ uuid: 'virtualservice-drain', name: 'drain', services: [{ port: 8080 }], pool_ref: 'pool-s' }, poolOf('pool-s', [slow])], 'virtualservice-drain');
  // The backend answers /echo as the body arrives: the request stays in flight until we end it.
  const sock = connect({ host: p.address, port: p.port });
  sock.on('error', () => undefined);
  try {
    let text = '';
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.write('POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => text.includes('hello') && (clearInterval(t), resolve()), 5);
    });
    const closing = p.close();
    const refused = await rawExchange(p.address, p.port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 2000).catch((e) => ({ text: String(e.code), closed: true }));
    assert.equal(refused.text, 'ECONNREFUSED');
    const clientClosed = new Promise((resolve) => sock.once('close', resolve));
    sock.write('world');
    await closing;
    // The proxy closes once the response is out; the client reads all of it before its close.
    await clientClosed;
    assert.ok(text.endsWith('helloworld'), text);
    assert.match(text, /\r\nConnection: close\r\n|^HTTP\/1\.1 200 /);
  } finally {
    sock.destroy();
    await p.close();
    await slow.close();
  }
});
