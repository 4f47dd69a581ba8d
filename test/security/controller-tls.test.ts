// The controller's API serves TLS beyond loopback. Tests may only listen on loopback, so the
// "is loopback" decision is table-tested as a pure function, and the generated-certificate path
// runs on loopback with `--tls auto` (the flag that forces it): a real `portico controller`
// process, real HTTPS clients pinning DATA/tls/controller.crt, and an engine joining with
// --controller-ca. Addresses: 127.81.1.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTransport, isLoopbackHost } from '../../src/controller/certs/controller-tls.js';
import { Agent, fetch as pinnedFetch } from 'undici';
import { startController as startInProcess, type Controller } from '../../src/controller/server.js';
import { until } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { PASSWORD } from '../controller/support.js';

const NET = '127.81.1';
const procs: CliProcess[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.stop(5000)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'portico-ctl-tls-'));
  dirs.push(d);
  return d;
};
const portico = (args: string[]) => {
  const p = runPortico(args, { env: { PORTICO_ADMIN_PASSWORD: PASSWORD, PORTICO_PASSWORD: PASSWORD } });
  procs.push(p);
  return p;
};

test('which listen hosts are loopback', () => {
  const table: [string, boolean][] = [
    ['127.0.0.1', true], ['127.81.1.1', true], ['127.255.255.254', true], ['localhost', true], ['LOCALHOST', true],
    ['::1', true], ['[::1]', true], ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['[::]', false], ['', false], ['10.0.0.5', false], ['192.168.1.10', false],
    ['128.0.0.1', false], ['126.255.255.255', false], ['::2', false], ['::ffff:10.0.0.1', false], ['fe80::1', false],
    ['controller.example', false], ['localhost.example', false], ['127.0.0.1.nip.io', false],
  ];
  for (const [host, want] of table) assert.equal(isLoopbackHost(host), want, host);
});

test('how the API is served, by listen host and flags', () => {
  const t = (host: string, o: { certGiven?: boolean; generateCert?: boolean; insecureHttp?: boolean } = {}) =>
    chooseTransport({ host, certGiven: false, generateCert: false, insecureHttp: false, ...o });
  assert.equal(t('127.0.0.1'), 'http');
  assert.equal(t('::1'), 'http');
  assert.equal(t('0.0.0.0'), 'https-generated');
  assert.equal(t('10.0.0.5'), 'https-generated');
  assert.equal(t('controller.example'), 'https-generated');
  assert.equal(t('0.0.0.0', { insecureHttp: true }), 'http-insecure');
  assert.equal(t('127.0.0.1', { insecureHttp: true }), 'http', 'loopback is plain HTTP anyway');
  assert.equal(t('127.0.0.1', { generateCert: true }), 'https-generated');
  assert.equal(t('0.0.0.0', { certGiven: true }), 'https-given');
  assert.equal(t('127.0.0.1', { certGiven: true }), 'https-given');
});

const ADMIN = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

/** One HTTPS GET as admin; resolves with the status and the server certificate's SHA-256 fingerprint. */
function httpsGet(url: string, ca?: string): Promise<{ status: number; fingerprint: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, headers: ADMIN }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint, body }));
    });
    req.on('error', reject);
  });
}

async function startController(dataDir: string, host: string, extra: string[] = []) {
  const cli = portico(['controller', '--listen', `${host}:0`, '--data', dataDir, '--log-level', 'info', ...extra]);
  const line = await cli.waitForLine(/listening on https?:\/\//, 30_000);
  return { cli, url: /(https?:\/\/\S+)/.exec(line)![1]!.replace(/\/$/, '') };
}

test('--tls auto: HTTPS with a certificate generated once into DATA/tls/, its fingerprint logged, pinned by engines', async () => {
  const dataDir = tempDir();
  const ctl = await startController(dataDir, `${NET}.1`, ['--tls', 'auto']);
  assert.match(ctl.url, /^https:\/\/127\.81\.1\.1:\d+$/);
  const certFile = join(dataDir, 'tls', 'controller.crt');
  const keyFile = join(dataDir, 'tls', 'controller.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'key owner-only');
  const cert = readFileSync(certFile, 'utf8');
  const fingerprint = new X509Certificate(cert).fingerprint256;
  const shown = await ctl.cli.waitForLine(/SHA-256 fingerprint/);
  assert.ok(shown.includes(fingerprint) && shown.includes(certFile), shown);
  assert.ok(ctl.cli.lines.some((l) => l.includes('--controller-ca')), 'says how to pin it');

  // Pinned: verified (including the address in the certificate) and the same certificate.
  const pinned = await httpsGet(`${ctl.url}/api/cluster/status`, cert);
  assert.equal(pinned.status, 200);
  assert.equal(pinned.fingerprint, fingerprint);
  // Not pinned: a self-signed certificate is refused by a verifying client.
  await assert.rejects(httpsGet(`${ctl.url}/api/cluster/status`), /self-signed|self signed/);
  // Plain HTTP on the TLS port gets no API answer.
  const plain = await new Promise<string>((resolve) => {
    http.get(`${ctl.url.replace('https:', 'http:')}/api/cluster/status`, { agent: false }, (res) => resolve(String(res.statusCode))).on('error', (e) => resolve(e.message));
  });
  assert.notEqual(plain, '200');

  // A join token (`portico token create` pins it too), then an engine joins over HTTPS.
  const unpinned = portico(['token', 'create', '--controller', ctl.url, '--se-group', 'Default-Group']);
  assert.equal(await unpinned.exited, 1);
  assert.ok(unpinned.lines.some((l) => l.includes('--controller-ca')), unpinned.lines.join('\n'));
  const tokenCli = portico(['token', 'create', '--controller', ctl.url, '--controller-ca', certFile, '--se-group', 'Default-Group']);
  assert.equal(await tokenCli.exited, 0, tokenCli.lines.join('\n'));
  const token = tokenCli.lines[0]!.trim();
  const se = portico(['engine', '--controller', ctl.url, '--controller-ca', certFile, '--join-token', token, '--name', 'tls-se', '--data', join(dataDir, 'se'), '--metrics-listen', `${NET}.2:0`]);
  await se.waitForLine(/joined the controller/, 30_000);
  await se.stop();

  // The key never shows in the output; a restart keeps the same certificate (pins stay valid).
  const keyBody = readFileSync(keyFile, 'utf8').split('\n')[1]!;
  assert.equal(await ctl.cli.stop(), 0);
  assert.ok(!ctl.cli.lines.some((l) => l.includes(keyBody) || l.includes('PRIVATE KEY')), 'no key material in the output');
  const again = await startController(dataDir, `${NET}.1`, ['--tls', 'auto']);
  assert.ok((await again.cli.waitForLine(/SHA-256 fingerprint/)).includes(fingerprint));
  assert.equal((await httpsGet(`${again.url}/api/cluster/status`, cert)).fingerprint, fingerprint);
  await again.cli.stop();
});

test('loopback without flags stays plain HTTP; contradictory flags are refused', async () => {
  const dataDir = tempDir();
  const ctl = await startController(dataDir, `${NET}.3`);
  assert.match(ctl.url, /^http:\/\//);
  assert.equal((await fetch(`${ctl.url}/api/cluster/status`, { headers: ADMIN })).status, 200);
  await ctl.cli.stop();
  for (const [args, re] of [
    [['--tls', 'auto', '--insecure-http'], /--insecure-http/],
    [['--tls', 'always'], /--tls: expected auto/],
    [['--tls-cert', join(dataDir, 'nope.crt'), '--tls-key', join(dataDir, 'nope.key')], /--tls-cert/],
  ] as [string[], RegExp][]) {
    const bad = portico(['controller', '--listen', `${NET}.3:0`, '--data', dataDir, ...args]);
    assert.equal(await bad.exited, 2, args.join(' '));
    assert.ok(bad.lines.some((l) => re.test(l)), bad.lines.join('\n'));
  }
});

test('the local cloud\'s engines pin the generated certificate (--local-engines over HTTPS)', { timeout: 60_000 }, async () => {
  const dataDir = tempDir();
  let ctl: Controller | undefined;
  try {
    ctl = await startInProcess({
      listen: `${NET}.6:0`, dataDir, adminPassword: PASSWORD, logger: false, tls: 'self-signed',
      lifecycle: { localEngines: { minEngines: { 'Default-Group': 1 }, engineArgs: ['--metrics-listen', `${NET}.6:0`] } },
    });
    assert.equal(ctl.transport, 'https-generated');
    assert.ok(ctl.generatedCert && !('key' in ctl.generatedCert), 'the key is not handed out');
    const dispatcher = new Agent({ connect: { ca: readFileSync(ctl.generatedCert.certFile, 'utf8') } });
    try {
      await until('a local engine joined over HTTPS', async () => {
        const r = await pinnedFetch(`${ctl!.url}/api/serviceengine`, { headers: ADMIN, dispatcher });
        return ((await r.json()) as { results: { se_connected?: boolean }[] }).results.some((se) => se.se_connected === true);
      }, 45_000);
    } finally {
      await dispatcher.close();
    }
  } finally {
    await ctl?.close(); // stops the engines it started (by PID)
  }
});
