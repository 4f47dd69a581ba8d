// Bad input to a service engine (a real `portico engine` process): request smuggling
// (Content-Length with Transfer-Encoding, two Content-Lengths), bad chunk sizes, oversized
// headers, invalid methods, garbage HTTP/2 frames, malformed TLS ClientHellos, malformed DNS
// packets and slowloris. Each is refused cleanly; good clients are served all along; the
// engine's memory does not keep growing. Also: the DNS VS refuses recursion, and the Host header
// or an absolute URL never make the SE connect anywhere but the pool's servers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import https from 'node:https';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { startController, type Controller } from '../../src/controller/server.js';
import { selfSignedCert } from '../../src/tls/self-signed.js';
import { Client, PASSWORD } from '../controller/support.js';
import { until, type Backend } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { NET, getOnce } from '../reliability/support.js';

const ROUNDS = Number(process.env.PORTICO_DATAPLANE_ROUNDS ?? 10);
let dir: string;
let ctl: Controller;
let api: Client;
let engine: CliProcess;
let vip: string;
let dnsVip: string;
const seen: string[] = [];
let backend: http.Server;
let backendPort: number;
let outsider: Backend & { hits: number };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-dp-'));
  ctl = await startController({ listen: `${NET}.8:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.192/26`, logger: false });
  api = new Client(ctl.url);
  // The pool's server records every request line it gets (smuggled requests must not arrive).
  backend = http.createServer((req, res) => { seen.push(`${req.method} ${req.url}`); req.resume(); req.on('end', () => res.end('b0')); });
  await new Promise<void>((r) => backend.listen(0, `${NET}.20`, r));
  backendPort = (backend.address() as net.AddressInfo).port;
  // Not in any pool: nothing may reach it through the SE.
  const o = { ip: `${NET}.21`, port: 0, name: 'outsider', connections: 0, hits: 0, close: async () => {} };
  const os = net.createServer((s) => { o.hits++; s.destroy(); });
  await new Promise<void>((r) => os.listen(0, o.ip, r));
  o.port = (os.address() as net.AddressInfo).port;
  o.close = () => new Promise((r) => os.close(() => r()));
  outsider = o;

  const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
  const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
  engine = runPortico(['engine', '--controller', ctl.url, '--join-token', token, '--name', 'dp-se', '--data', join(dir, 'se'), '--metrics-listen', `${NET}.8:0`, '--log-level', 'warn']);
  const kp = await selfSignedCert(['dp.example']);
  const cert = await api.create('sslkeyandcertificate', { name: 'dp-cert', certificate: { certificate: kp.cert }, key: kp.key });
  const pool = await api.create('pool', { name: 'dp-pool', servers: [{ ip: { addr: `${NET}.20`, type: 'V4' }, port: backendPort }] });
  const vsvip = await api.create('vsvip', { name: 'dp-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  await api.create('virtualservice', { name: 'dp-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }, { port: 8443, enable_ssl: true }], ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${cert.uuid}`] });
  vip = vsvip.vip[0].ip_address.addr;
  const dnsVs = (await api.get('/api/virtualservice?name=local-dns-vs')).body.results[0];
  dnsVip = (await api.req('GET', new URL(dnsVs.vsvip_ref).pathname)).body.vip[0].ip_address.addr;
  await until('the VS serves', async () => (await getOnce(`http://${vip}:8080/`)) === 200, 30_000);
});

after(async () => {
  await engine?.stop();
  await ctl?.close();
  backend?.closeAllConnections();
  await new Promise((r) => backend?.close(r));
  await outsider?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` on a fresh connection; resolves with what came back until the server closed (or `quietMs` without a byte). */
function exchange(port: number, bytes: string | Buffer, host = vip, quietMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    let got = '';
    s.setTimeout(quietMs, () => s.destroy());
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', () => {});
    s.write(bytes);
  });
}
const status = (reply: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
const good = async () => assert.equal(await getOnce(`http://${vip}:8080/`, 3000), 200, 'a good client is served');
const goodTls = () => new Promise<number>((resolve) => {
  const req = https.get({ host: vip, port: 8443, path: '/', rejectUnauthorized: false, agent: false, timeout: 3000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
  req.on('error', () => resolve(0));
});
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${engine.pid}/status`, 'utf8'))![1]) / 1024;

const BAD_HTTP: Array<[string, string]> = [
  ['CL + TE (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['TE + CL (smuggling)', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['two Content-Lengths', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 30\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['obfuscated TE', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['huge chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nhello\r\n'],
  ['invalid method', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['bad version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['oversized headers', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\n`],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
  ['bare LF and NUL', 'GET /\0 HTTP/1.1\nHost: x\n\n'],
  ['CONNECT to elsewhere', `CONNECT ${NET}.21:443 HTTP/1.1\r\nHost: ${NET}.21:443\r\n\r\n`],
];

test('malformed and smuggling HTTP/1.1 requests are refused; nothing smuggled reaches the server', { timeout: 120_000 }, async () => {
  for (const [what, bytes] of BAD_HTTP) {
    const reply = await exchange(8080, bytes);
    const s = status(reply);
    assert.ok(s === 0 || (s >= 400 && s < 500) || s === 501 || s === 505, `${what}: ${reply.slice(0, 80) || '(closed)'}`);
    await good();
  }
  assert.deepEqual(seen.filter((l) => l.includes('smuggled')), [], 'no smuggled request reached the server');
});

test('the Host header and absolute URLs never make the SE connect outside the pool', async () => {
  const target = `${outsider.ip}:${outsider.port}`;
  const viaHost = await exchange(8080, `GET / HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
  assert.ok(status(viaHost) === 200 ? viaHost.endsWith('b0') : status(viaHost) >= 400, viaHost.slice(0, 80));
  const absolute = await exchange(8080, `GET http://${target}/ HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
  assert.ok(status(absolute) === 200 ? absolute.endsWith('b0') : status(absolute) >= 400, absolute.slice(0, 80));
  assert.equal(outsider.hits, 0, 'the SE never connected to an address outside the pool');
});

test('malformed TLS ClientHellos and HTTP/2 garbage are refused; TLS clients are served', { timeout: 60_000 }, async () => {
  const hello = (body: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, body.length >> 8, body.length & 255]), body]);
  const cases = [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),                               // plain HTTP on TLS
    hello(Buffer.from([0x01, 0xff, 0xff, 0xff, 0x03, 0x03])),            // handshake length past the record
    Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),                  // record length past the data
    hello(Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x30, 0x03, 0x03]), Buffer.alloc(42, 0xee)])), // garbage hello body
    Buffer.alloc(4096, 0x16),
  ];
  for (const c of cases) {
    await exchange(8443, c);
    assert.equal(await goodTls(), 200);
  }
  // HTTP/2 over TLS: a connection preface, then frames that break the protocol.
  const frames = [
    Buffer.from('000004ff00000000001234abcd', 'hex'),            // unknown type on stream 0 (fine) then garbage
    Buffer.from('ffffff0100000000010000', 'hex'),                 // HEADERS with a 16 MB length
    Buffer.from('0000050105000000018283848586', 'hex'),           // HEADERS, bad HPACK indices
    Buffer.from('000000040000000001', 'hex'),                     // SETTINGS on a stream
  ];
  for (const f of frames) {
    await new Promise<void>((resolve) => {
      const s = tls.connect({ host: vip, port: 8443, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
        s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('000000040000000000', 'hex'), f]));
      });
      s.setTimeout(1000, () => s.destroy());
      s.on('data', () => {});
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    assert.equal(await goodTls(), 200);
  }
});

test('DNS VS: malformed packets ignored or refused, recursion refused', async () => {
  const sock = dgram.createSocket('udp4');
  const ask = (msg: Buffer) => new Promise<Buffer | undefined>((resolve) => {
    const t = setTimeout(() => { sock.off('message', on); resolve(undefined); }, 1500);
    const on = (m: Buffer) => { clearTimeout(t); sock.off('message', on); resolve(m); };
    sock.on('message', on);
    sock.send(msg, 53, dnsVip);
  });
  try {
    const garbage = [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(12, 0xff), Buffer.concat([dnsPacket.encode({ id: 1, type: 'query', questions: [{ type: 'A', name: 'a.portico.local' }] }).subarray(0, 15)]), Buffer.alloc(600, 0xc0)];
    for (const g of garbage) {
      const r = await ask(g);
      if (r) assert.ok(r.length >= 12, 'an answer to garbage is a DNS header at least');
    }
    const reply = await ask(dnsPacket.encode({ id: 7, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.com' }] }));
    assert.ok(reply, 'the DNS VS answers');
    const d = dnsPacket.decode(reply!);
    assert.equal((d as { rcode?: string }).rcode, 'REFUSED', 'recursion for a name outside its domains is refused');
    assert.equal((d.flags ?? 0) & dnsPacket.RECURSION_AVAILABLE, 0, 'RA is not set');
    assert.equal(d.answers?.length ?? 0, 0);
  } finally {
    sock.close();
  }
});

test(`slowloris and ${ROUNDS} rounds of bad input: good clients served, memory does not keep growing`, { timeout: 600_000 }, async () => {
  // Slowloris: 200 connections trickling header bytes.
  const slow: net.Socket[] = [];
  for (let i = 0; i < 200; i++) {
    const s = net.connect(8080, vip);
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: x\r\n');
    slow.push(s);
  }
  try {
    for (let i = 0; i < 20; i++) {
      for (const s of slow) if (!s.destroyed) s.write(`X-${i}: y\r\n`);
      await good();
    }
  } finally {
    for (const s of slow) s.destroy();
  }
  const round = async () => {
    await Promise.all([...BAD_HTTP.map(([, b]) => exchange(8080, b)), exchange(8443, Buffer.alloc(512, 0x16))]);
  };
  for (let i = 0; i < Math.min(5, ROUNDS); i++) await round(); // warm-up: buffers, JIT, pools
  const base = rss();
  for (let i = 0; i < ROUNDS; i++) await round();
  await good();
  const grown = rss() - base;
  console.log(`# data plane: ${ROUNDS} rounds of ${BAD_HTTP.length + 1} bad inputs, 200 slowloris connections; engine RSS ${base.toFixed(0)} MB → ${(base + grown).toFixed(0)} MB`);
  assert.ok(grown < 64, `engine RSS grew by ${grown.toFixed(0)} MB`);
});
