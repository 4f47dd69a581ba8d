// Private keys and passwords never leave the controller or the SE: a run with a controller and an
// engine at log level debug creates a certificate with its key, users with passwords, logs in
// (right and wrong), reads every type back, the metrics and the API document; then every byte
// of output (both processes' logs) and every response is searched for the test key material.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTypes } from '../../src/model/registry.js';
import { selfSignedCert } from '../../src/tls/self-signed.js';
import { until } from '../engine/support.js';
import { runPortico, killAllWithArg, type CliProcess } from '../support/cli.js';
import { NET, startControllerProcess, type ControllerProcess } from '../reliability/support.js';

test('keys and passwords appear in no response, log or metric', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-secrets-'));
  let ctl: ControllerProcess | undefined;
  let engine: CliProcess | undefined;
  const responses: string[] = [];
  try {
    ctl = await startControllerProcess(join(dir, 'ctl'), `${NET}.9:0`, ['--log-level', 'debug', '--vip-cidr', `${NET}.224/27`]);
    const api = ctl.api;
    const kp = await selfSignedCert(['secret.example']);
    // A line from the middle of the key's base64: distinctive, and present in any encoding that leaks it whole.
    const keyLines = kp.key.split('\n').filter((l) => l && !l.startsWith('-----'));
    const needles = [keyLines[Math.floor(keyLines.length / 2)]!, 'Secret-Pw-4711', 'Wrong-Pw-0815'];
    const keep = async (p: Promise<{ status: number; body: unknown }>) => { const r = await p; responses.push(JSON.stringify(r.body)); return r; };

    const cert = (await keep(api.post('/api/sslkeyandcertificate', { name: 'secret-cert', certificate: { certificate: kp.cert }, key: kp.key }))).body as any;
    await keep(api.req('PUT', `/api/sslkeyandcertificate/${cert.uuid}`, { ...cert, key: kp.key }));
    await keep(api.post('/api/user', { name: 'secret-user', username: 'secret-user', password: 'Secret-Pw-4711', access: [{ all_tenants: true, role_ref: '/api/role/?name=Read-Only' }] }));
    await keep(api.post('/api/sslkeyandcertificate', { name: 'bad-cert', certificate: { certificate: 'nope' }, key: kp.key })); // rejected: the error must not echo the key
    for (const [u, p] of [['secret-user', 'Secret-Pw-4711'], ['secret-user', 'Wrong-Pw-0815']]) {
      const r = await fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) });
      responses.push(await r.text(), JSON.stringify([...r.headers]));
    }
    const basic = await fetch(`${ctl.url}/api/user`, { headers: { authorization: `Basic ${Buffer.from('secret-user:Secret-Pw-4711').toString('base64')}` } });
    responses.push(await basic.text());

    // An engine that receives the certificate in its snapshot (it needs the key; it must not log it).
    const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
    const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
    engine = runPortico(['engine', '--controller', ctl.url, '--join-token', token, '--name', 'secret-se', '--data', join(dir, 'se'), '--metrics-listen', `${NET}.9:0`, '--log-level', 'debug']);
    const vsvip = (await api.create('vsvip', { name: 'secret-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] }));
    await keep(api.post('/api/virtualservice', { name: 'secret-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, services: [{ port: 8443, enable_ssl: true }], ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${cert.uuid}`] }));
    await until('the engine serves the VS', async () => (await api.get('/api/virtualservice?name=secret-vs')).body.results[0] && (await api.get(`/api/virtualservice/${(await api.get('/api/virtualservice?name=secret-vs')).body.results[0].uuid}/runtime`)).body.oper_status?.state === 'OPER_UP', 30_000);

    for (const t of allTypes) responses.push(JSON.stringify((await api.get(`/api/${t.type}?page_size=1000&include_name=true`)).body));
    responses.push(JSON.stringify((await api.get(`/api/sslkeyandcertificate/${cert.uuid}?fields=key,certificate,name`)).body));
    responses.push(await (await fetch(`${ctl.url}/metrics`, { headers: api.headers })).text(), await (await fetch(`${ctl.url}/api/openapi.json`, { headers: api.headers })).text());
    responses.push(JSON.stringify((await api.get('/api/analytics/logs?page_size=1000')).body));
    await engine.stop();
    await ctl.cli.stop();

    const output = { controller: ctl.cli.lines.join('\n'), engine: engine.lines.join('\n'), responses: responses.join('\n') };
    assert.ok(output.controller.length > 0 && output.engine.length > 0, 'both processes logged');
    for (const [where, text] of Object.entries(output)) for (const n of needles) assert.ok(!text.includes(n), `${where} contains test secret ${n.slice(0, 12)}…`);
    console.log(`# secrets: ${Object.values(output).reduce((a, t) => a + t.length, 0)} bytes of logs and responses searched, no key or password found`);
  } finally {
    await engine?.stop();
    await ctl?.cli.stop();
    killAllWithArg(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});
