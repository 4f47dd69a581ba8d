// A passthrough Ingress end to end: `portico up` on a manifest folder (operator → controller → SE),
// two TLS backends with their own certificates for a.example.test and b.example.test. A TLS
// client with SNI a… reaches A and sees A's certificate (TLS passed through, not terminated), b…
// reaches B, an unknown SNI is closed, port 80 redirects to https, and removing the Ingress removes it all. Loopback 127.108.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runPortico, PORTICO_BIN, killAllWithArg, type CliProcess } from '../support/cli.js';
import { httpGet } from '../../src/demo/probes.js';
import { waitFor } from '../../src/up/api-client.js';
import type { StatusItem } from '../../src/up/report.js';
import { startTlsBackend, tlsExchange, type TlsBackend } from '../engine/passthrough-support.js';

function manifests(a: TlsBackend, b: TlsBackend): string {
  const svc = (name: string, be: TlsBackend) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {type: ClusterIP, ports: [{name: https, port: 443, targetPort: ${be.port}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: https, port: ${be.port}}]
endpoints: [{addresses: ["${be.ip}"], conditions: {ready: true}}]
`;
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: pt
  namespace: default
  annotations: {passthrough.ako.vmware.com/enabled: "true"}
spec:
  ingressClassName: avi-lb
  rules:
    - host: a.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app-a, port: {number: 443}}}}]}
    - host: b.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app-b, port: {name: https}}}}]}
${svc('app-a', a)}${svc('app-b', b)}`;
}

function status(data: string): StatusItem[] {
  return JSON.parse(execFileSync(process.execPath, [PORTICO_BIN, 'status', '-o', 'json', '--data', data], { encoding: 'utf8' })).items;
}

test('passthrough Ingress: SNI picks the backend, whose own certificate the client sees; 80 redirects; unknown SNI closed', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'portico-passthrough-e2e-'));
  const data = join(root, 'data');
  const dir = join(root, 'manifests');
  mkdirSync(dir);
  const backends: TlsBackend[] = [];
  let proc: CliProcess | undefined;
  try {
    const a = await startTlsBackend('127.108.20.1', 'a.example.test', 'A');
    backends.push(a);
    const b = await startTlsBackend('127.108.20.2', 'b.example.test', 'B');
    backends.push(b);
    writeFileSync(join(dir, 'passthrough.yaml'), manifests(a, b));
    proc = runPortico(['up', '--manifests', dir, '--data', data, '--listen', '127.108.21.1:0', '--vip-cidr', '127.108.22.0/24']);
    await proc.waitForLine(/^Portico is up: /, 120_000);

    let vip = '';
    await waitFor(() => {
      const ing = status(data).find((i) => i.kind === 'Ingress' && i.name === 'pt');
      const hosts = ing?.loadBalancer.ingress.map((x) => x.hostname).sort();
      if (hosts?.join() !== 'a.example.test,b.example.test') return false;
      vip = ing!.loadBalancer.ingress[0]!.ip;
      return ing!.loadBalancer.ingress.every((x) => x.ip === vip);
    }, 60_000, 'the VIP of both hosts in the Ingress status');
    assert.match(vip, /^127\.108\.22\./);

    await waitFor(async () => (await tlsExchange(vip, 443, 'a.example.test', a.cert)).reply === 'A:hi', 60_000, 'a.example.test served through the passthrough VS');
    // The certificate verified is A's own: the engine never terminated TLS.
    assert.deepEqual(await tlsExchange(vip, 443, 'a.example.test', a.cert), { cn: 'a.example.test', reply: 'A:hi' });
    assert.deepEqual(await tlsExchange(vip, 443, 'b.example.test', b.cert, 'x'), { cn: 'b.example.test', reply: 'B:x' });
    const unknown = await tlsExchange(vip, 443, 'c.example.test', undefined);
    assert.ok(unknown.error && !unknown.reply, JSON.stringify(unknown));

    await waitFor(async () => (await httpGet({ vip, port: 80, host: 'b.example.test', path: '/p?q=1', timeoutMs: 2000 }).catch(() => undefined))?.status === 302, 30_000, 'port 80 answering');
    const redirect = await httpGet({ vip, port: 80, host: 'b.example.test', path: '/p?q=1' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, 'https://b.example.test/p?q=1');

    // The controller holds AKO's objects, and the SE reports the passthrough VS up.
    const password = readFileSync(join(data, 'admin-password'), 'utf8').trim();
    const consoleUrl = /(https?:\/\/\S+?)\/ /.exec(proc!.lines.find((l) => l.startsWith('Portico is up'))!)![1]!;
    const auth = { authorization: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64') };
    const vs = ((await (await fetch(`${consoleUrl}/api/virtualservice?name=portico--Shared-Passthrough-0`, { headers: auth })).json()) as any).results[0];
    assert.ok(vs, 'portico--Shared-Passthrough-0 on the controller');
    await waitFor(async () => ((await (await fetch(`${consoleUrl}/api/virtualservice/${vs.uuid}/runtime`, { headers: auth })).json()) as any)?.oper_status?.state === 'OPER_UP', 30_000, 'the passthrough VS OPER_UP');

    // The Ingress removed: every passthrough object goes from the controller and 443 stops answering.
    const count = async (type: string) => ((await (await fetch(`${consoleUrl}/api/${type}?name.contains=Passthrough`, { headers: auth })).json()) as any).count;
    assert.deepEqual([await count('virtualservice'), await count('vsdatascriptset'), await count('vsvip')], [2, 1, 1]);
    unlinkSync(join(dir, 'passthrough.yaml'));
    await waitFor(async () => (await count('virtualservice')) === 0 && (await count('vsdatascriptset')) === 0 && (await count('vsvip')) === 0, 30_000, 'passthrough objects removed');
    await waitFor(async () => !(await tlsExchange(vip, 443, 'a.example.test', a.cert)).reply, 30_000, '443 no longer served');

    const code = await proc.stop(30_000);
    assert.equal(code, 0, proc.lines.slice(-20).join('\n'));
  } finally {
    await proc?.stop(5000);
    killAllWithArg(root);
    for (const be of backends) await be.close();
    rmSync(root, { recursive: true, force: true });
  }
});
