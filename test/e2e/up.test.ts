// `portico up` as a user runs it: a child process on a temporary data directory and manifest
// folder, driven only through files, HTTP(S), DNS and `portico status`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, cpSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { runPortico, PORTICO_BIN, pidsWithArg, killAllWithArg } from '../support/cli.js';
import { httpGet, dnsQuery } from '../../src/demo/probes.js';
import { waitFor } from '../../src/up/api-client.js';
import type { StatusItem } from '../../src/up/report.js';

const QUICKSTART = new URL('../../../examples/quickstart/', import.meta.url);

function status(data: string): StatusItem[] {
  const out = execFileSync(process.execPath, [PORTICO_BIN, 'status', '-o', 'json', '--data', data], { encoding: 'utf8' });
  return JSON.parse(out).items;
}

function item(items: StatusItem[], kind: string, name: string): StatusItem | undefined {
  return items.find((i) => i.kind === kind && i.namespace === 'default' && i.name === name);
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

test('portico up serves a manifest folder end to end and stops cleanly', { timeout: 240_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'portico-up-e2e-'));
  const data = join(root, 'data');
  const manifests = join(root, 'manifests');
  cpSync(QUICKSTART, manifests, { recursive: true });
  const up = runPortico(['up', '--manifests', manifests, '--data', data, '--listen', '127.40.0.1:0',
    '--vip-cidr', '127.40.1.0/24', '--quickstart-backends']);
  try {
    await up.waitForLine(/^Portico is up: console http:\/\/127\.40\.0\.1:\d+\/ \(admin password in /, 120_000);
    const consoleUrl = /console (http:\/\/\S+?)\/ /.exec(up.lines.find((l) => l.startsWith('Portico is up'))!)![1]!;

    // A second `up` on the same data directory refuses to start.
    const second = runPortico(['up', '--manifests', manifests, '--data', data, '--listen', '127.40.0.2:0', '--vip-cidr', '127.40.2.0/24']);
    const secondCode = await second.exited;
    assert.notEqual(secondCode, 0);
    assert.ok(second.lines.some((l) => /in use/.test(l)), second.lines.join('\n'));

    let items: StatusItem[] = [];
    await waitFor(() => {
      items = status(data);
      return !!item(items, 'Service', 'hello')?.loadBalancer.ingress.length && !!item(items, 'Ingress', 'hello')?.loadBalancer.ingress.length;
    }, 60_000, 'VIPs in portico status');
    const svcVip = item(items, 'Service', 'hello')!.loadBalancer.ingress[0]!.ip;
    const ingVip = item(items, 'Ingress', 'hello')!.loadBalancer.ingress[0]!.ip;
    assert.match(svcVip, /^127\.40\.1\./);

    await t.test('traffic reaches the Service and the Ingress (HTTP and HTTPS with SNI)', async () => {
      await waitFor(async () => (await httpGet({ vip: svcVip, port: 8000 })).status === 200, 30_000, 'L4 VIP answers');
      const plain = await httpGet({ vip: ingVip, port: 80, host: 'hello.portico.local', path: '/' });
      assert.equal(plain.status, 200);
      assert.match(plain.body, /hello from backend-/);
      const secure = await httpGet({ vip: ingVip, port: 443, host: 'secure.portico.local', path: '/x', tls: true });
      assert.equal(secure.status, 200);
      assert.equal(secure.peerCert?.subjectCN, 'secure.portico.local');
      const redirect = await httpGet({ vip: ingVip, port: 80, host: 'secure.portico.local', path: '/x?y=1' });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.location, 'https://secure.portico.local/x?y=1');
    });

    await t.test('the local DNS virtual service answers for the Ingress hosts', async () => {
      const dnsVip = '127.40.1.1';
      await waitFor(async () => (await dnsQuery(dnsVip, 'hello.portico.local')).addresses.includes(ingVip), 30_000, 'DNS record');
      assert.equal((await dnsQuery(dnsVip, 'nothing.portico.local')).rcode, 'NXDOMAIN');
    });

    await t.test('a file edit applies live', async () => {
      const file = join(manifests, 'hello-service.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('port: 8000', 'port: 8001'));
      await waitFor(async () => (await httpGet({ vip: svcVip, port: 8001, timeoutMs: 1000 })).status === 200, 30_000, 'new port serves');
      await waitFor(() => refused(svcVip, 8000), 30_000, 'old port closed');
    });

    await t.test('a bad file is reported and the rest keeps working', async () => {
      writeFileSync(join(manifests, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: [oops\n');
      await waitFor(() => up.lines.some((l) => /broken\.yaml/.test(l)), 30_000, 'problem reported');
      assert.equal((await httpGet({ vip: svcVip, port: 8001 })).status, 200);
      unlinkSync(join(manifests, 'broken.yaml'));
    });

    await t.test('a killed service engine is restarted and serves again', async () => {
      const [engine] = pidsWithArg(join(data, 'engines'));
      assert.ok(engine, 'engine process found');
      process.kill(engine, 'SIGKILL');
      await up.waitForLine(/engine .* exited .*restarting/, 30_000);
      await waitFor(async () => (await httpGet({ vip: svcVip, port: 8001, timeoutMs: 1000 })).status === 200, 30_000, 'served again');
    });

    await t.test('a deleted file removes its objects from the controller', async () => {
      unlinkSync(join(manifests, 'hello-ingress.yaml'));
      await waitFor(() => !item(status(data), 'Ingress', 'hello'), 30_000, 'Ingress gone from status');
      const password = readFileSync(join(data, 'admin-password'), 'utf8').trim();
      const auth = 'Basic ' + Buffer.from(`admin:${password}`).toString('base64');
      await waitFor(async () => {
        const r = await fetch(`${consoleUrl}/api/virtualservice?name.contains=secure.portico.local`, { headers: { authorization: auth } });
        return ((await r.json()) as { count: number }).count === 0;
      }, 30_000, 'SNI child removed on the controller');
    });

    const code = await up.stop(30_000);
    assert.equal(code, 0, up.lines.slice(-20).join('\n'));
    assert.deepEqual(pidsWithArg(data), [], 'no process of this up is left');
    assert.ok(await refused(svcVip, 8001), 'nothing listens on the VIP');
    assert.ok(await refused('127.40.0.1', Number(new URL(consoleUrl).port)), 'nothing listens on the console');
  } finally {
    await up.stop(5000);
    killAllWithArg(root);
    rmSync(root, { recursive: true, force: true });
  }
});
