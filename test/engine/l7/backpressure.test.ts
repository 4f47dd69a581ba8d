// Backpressure through a real L7 listener: a peer that stops reading holds the sender back (the
// proxy does not read the other side ahead and buffer it), and every byte arrives intact once it
// reads again. Large bodies of a changing pattern also check that chunks read through the shared
// read buffer are never overwritten by later reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startProxy, freshAddress, poolOf, type Backend, type Proxy } from './support.js';

const VS = 'virtualservice-bp';
const CHUNK = 64 * 1024;
// Far more than loopback socket buffers hold (receive buffers autotune up to tcp_rmem's maximum).
const TOTAL = 256 * 1024 * 1024;
const CHUNKS = TOTAL / CHUNK;
const pattern = (i: number): Buffer => Buffer.alloc(CHUNK, (i * 7) % 251);

let backend: Backend & { held?: IncomingMessage; flushed: number; bodyHash?: string };
let proxy: Proxy;
const sockets: Socket[] = [];

/** Resolves once `value()` has not grown for `quietMs` (or reached `limit`): the sender is held back or done. */
async function settled(value: () => number, limit: number, quietMs = 1000): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const v = value();
    if (v >= limit) return v;
    if (v !== last) {
      last = v;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const EXPECTED = ((): string => {
  const h = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) h.update(pattern(i));
  return h.digest('hex');
})();

async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

before(async () => {
  const address = freshAddress();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/sink') {
      // Not read until the test lets it: the proxy must stop reading the client.
      req.pause();
      backend.held = req;
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => {
        h.update(d);
        n += d.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: h.digest('hex') })));
      return;
    }
    // /firehose: TOTAL bytes, written as fast as the proxy takes them.
    res.writeHead(200, { 'content-length': String(TOTAL) });
    let i = 0;
    const pump = (): void => {
      while (i < CHUNKS) {
        const ok = res.write(pattern(i++), () => (backend.flushed += CHUNK));
        if (!ok) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as { port: number }).port;
  backend = { name: 'bp', address, port, server, connections: 0, requests: 0, flushed: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  proxy = await startProxy([{ uuid: VS, name: 'bp', type: 'VS_TYPE_NORMAL', services: [{ port: 8080 }], pool_ref: 'pool-bp' }, poolOf('pool-bp', [backend])], VS);
});

after(async () => {
  for (const s of sockets) s.destroy();
  await proxy?.close();
  backend?.server.closeAllConnections();
  await backend?.close();
});

/** POSTs TOTAL bytes to /sink; with `hold` the server reads nothing until the client is held back. */
async function upload(hold: boolean): Promise<void> {
  const s = connect({ host: proxy.address, port: proxy.port });
  sockets.push(s);
  let flushed = 0;
  let reply = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (reply += d));
  s.write(`POST /sink HTTP/1.1\r\nHost: bp\r\nContent-Length: ${TOTAL}\r\n\r\n`);
  const writing = (async () => {
    for (let i = 0; i < CHUNKS; i++) {
      if (!s.write(pattern(i), () => (flushed += CHUNK))) await new Promise((r) => s.once('drain', r));
    }
  })();
  if (hold) {
    const held = await settled(() => flushed, TOTAL);
    assert.ok(held < TOTAL * 0.75, `the client got ${held} of ${TOTAL} bytes out while the server read nothing`);
  }
  await waitUntil(() => backend.held !== undefined);
  backend.held!.resume();
  backend.held = undefined;
  await writing;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => (reply.includes('sha256') ? resolve() : undefined);
    s.on('data', done);
    s.on('close', () => reject(new Error(`closed before the answer: ${reply.slice(0, 200)}`)));
    done();
  });
  const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
  assert.equal(body.bytes, TOTAL);
  assert.equal(body.sha256, EXPECTED);
}

/** GETs TOTAL bytes from /firehose; with `hold` the client reads nothing until the server is held back. */
async function download(hold: boolean): Promise<void> {
  backend.flushed = 0;
  const s = connect({ host: proxy.address, port: proxy.port });
  sockets.push(s);
  s.write('GET /firehose HTTP/1.1\r\nHost: bp\r\n\r\n');
  if (hold) {
    s.pause();
    const held = await settled(() => backend.flushed, TOTAL);
    assert.ok(held < TOTAL * 0.75, `the server got ${held} of ${TOTAL} bytes out while the client read nothing`);
  }
  const h = createHash('sha256');
  let head = '';
  let headDone = false;
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      if (!headDone) {
        const text = d.toString('latin1');
        const end = (head + text).indexOf('\r\n\r\n');
        if (end < 0) return void (head += text);
        const bodyStart = end + 4 - head.length;
        head = (head + text).slice(0, end);
        headDone = true;
        d = d.subarray(bodyStart);
      }
      h.update(d);
      got += d.length;
      if (got >= TOTAL) resolve();
    });
    s.on('close', () => reject(new Error(`closed after ${got} body bytes`)));
    s.resume();
  });
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.equal(got, TOTAL);
  assert.equal(h.digest('hex'), EXPECTED);
}

test('a server that stops reading holds the client back; the whole body arrives intact when it reads again', { timeout: 120_000 }, () => upload(true));

test('a client that stops reading holds the server back; the whole response arrives intact when it reads again', { timeout: 120_000 }, () => download(true));

test('an upload and a download at once: reads of one connection never overwrite bytes another has queued', { timeout: 120_000 }, () =>
  Promise.all([upload(false), download(false)]).then(() => undefined),
);
