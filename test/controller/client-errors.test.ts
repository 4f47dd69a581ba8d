// Garbage after a complete request on a keep-alive connection: the complete request's answer comes
// first, then 400, then the connection closes (Node's default wrote 400 ahead of it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestController, PASSWORD } from './support.js';

test('a request followed by malformed bytes: its own answer first, then 400 and close', async () => {
  const t = await startTestController();
  try {
    const pool = await t.api.create('pool', { name: 'ce-pool' });
    const u = new URL(t.c.url);
    const auth = Buffer.from(`admin:${PASSWORD}`).toString('base64');
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
        // A body on DELETE without Content-Length: "{}" is read as the next (malformed) request.
        s.write(`DELETE /api/pool/${pool.uuid} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\n\r\n{}`);
      });
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    const first = text.indexOf('HTTP/1.1 204');
    const second = text.indexOf('HTTP/1.1 400');
    assert.ok(first === 0, text);
    assert.ok(second > first, text);
    assert.equal((await t.api.get(`/api/pool/${pool.uuid}`)).status, 404, 'the complete request was carried out');
  } finally {
    await t.stop();
  }
});
