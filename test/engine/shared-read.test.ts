// Sockets that read through the shared buffer (runtime/shared-read.ts): an accepted socket moved to
// a Socket with `onread` keeps the server's connection count (server.close() completes once it
// ends), a socket that cannot be moved is used as it is, and bytes arrive whole either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { adoptShared, connectShared, readInto } from '../../src/engine/runtime/shared-read.js';

const HOST = '127.21.77.1';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
}

/** Echoes everything the adopted (or not) socket reads; `moved` says whether it was moved. */
function echoServer(pauseOnConnect: boolean, moved: boolean[]): net.Server {
  return net.createServer({ pauseOnConnect }, (raw) => {
    const s = adoptShared(raw);
    moved.push(s !== raw);
    readInto(s, (chunk) => s.write(chunk));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
}

async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const c = connectShared({ host: HOST, port });
  const parts: Buffer[] = [];
  let n = 0;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      readInto(c, (d) => {
        parts.push(d);
        n += d.length;
        if (n >= payload.length) resolve(Buffer.concat(parts));
      });
      c.on('error', reject);
      c.write(payload);
    });
  } finally {
    c.end();
  }
}

const payload = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 13) % 256));

test('an accepted socket moves to the shared buffer; the server still counts it and closes when it ends', { timeout: 10_000 }, async () => {
  const moved: boolean[] = [];
  const server = echoServer(true, moved);
  const port = await listen(server);
  try {
    assert.ok((await roundTrip(port, payload)).equals(payload));
    assert.deepEqual(moved, [true]);
    // close() waits for the server's connections: the moved socket must have taken the count along.
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  } finally {
    server.close();
  }
});

test('a socket that is already reading is kept as it is and read through data events', async () => {
  const moved: boolean[] = [];
  const server = echoServer(false, moved);
  const port = await listen(server);
  try {
    assert.ok((await roundTrip(port, payload)).equals(payload));
    assert.deepEqual(moved, [false]);
  } finally {
    server.close();
  }
});
