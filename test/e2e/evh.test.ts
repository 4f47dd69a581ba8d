// EVH end to end: `portico up` with an AKO values file that says `enableEVH: true` and a manifest
// folder holding one Ingress with two hosts (one TLS). The operator builds AKO's EVH objects
// (Shared-L7-EVH-0 and sha1-encoded children), the SE picks the child by Host (and path) over HTTP
// and HTTPS, the secure host's certificate is served for its SNI name and its HTTP URL redirects.
// Loopback 127.109.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { runPortico, PORTICO_BIN, killAllWithArg, type CliProcess } from '../support/cli.js';
import { httpGet } from '../../src/demo/probes.js';
import { waitFor } from '../../src/up/api-client.js';
import { writeTlsSecret } from '../../src/up/quickstart.js';
import type { StatusItem } from '../../src/up/report.js';

const NET = `127.109.${200 + (process.pid % 50)}`;

/** An HTTP backend answering `<name> <path>`. */
async function backend(ip: string, name: string): Promise<Server> {
  const s = createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(8080, ip, resolve); });
  return s;
}

function manifests(): string {
  const svc = (name: string, ip: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {type: ClusterIP, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: ["${ip}"], conditions: {ready: true}}]
`;
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: evh, namespace: default}
spec:
  ingressClassName: avi-lb
  tls: [{hosts: [secure.evh.test], secretName: evh-tls}]
  rules:
    - host: plain.evh.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
    - host: secure.evh.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}
${svc('web', `${NET}.11`)}${svc('api', `${NET}.12`)}`;
}

const VALUES = `AKOSettings: {clusterName: portico, enableEVH: true}
NetworkSettings: {vipNetworkList: [{networkName: local-vip}]}
L7Settings: {defaultIngController: true, serviceType: ClusterIP, shardVSSize: SMALL}
ControllerSettings: {serviceEngineGroupName: Default-Group, cloudName: Default-Cloud, tenantName: admin}
`;

function status(data: string): StatusItem[] {
  return JSON.parse(execFileSync(process.execPath, [PORTICO_BIN, 'status', '-o', 'json', '--data', data], { encoding: 'utf8' })).items;
}

test('EVH Ingress via portico up: Host and path pick the backend over HTTP and HTTPS; the secure host redirects', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'portico-evh-e2e-'));
  const data = join(root, 'data');
  const dir = join(root, 'manifests');
  mkdirSync(dir);
  const servers: Server[] = [];
  let proc: CliProcess | undefined;
  try {
    servers.push(await backend(`${NET}.11`, 'web'), await backend(`${NET}.12`, 'api'));
    writeFileSync(join(dir, 'evh.yaml'), manifests());
    await writeTlsSecret(join(dir, 'evh-tls.yaml'), 'default', 'evh-tls', ['secure.evh.test']);
    writeFileSync(join(root, 'values.yaml'), VALUES);
    proc = runPortico(['up', '--manifests', dir, '--data', data, '--listen', `${NET}.1:0`, '--vip-cidr', `${NET.replace(/\d+$/, (n) => String(Number(n) - 100))}.0/24`,
      '--values', join(root, 'values.yaml')]);
    await proc.waitForLine(/^Portico is up: /, 120_000);

    let vip = '';
    await waitFor(() => {
      const ing = status(data).find((i) => i.kind === 'Ingress' && i.name === 'evh');
      if (ing?.loadBalancer.ingress.map((x) => x.hostname).sort().join() !== 'plain.evh.test,secure.evh.test') return false;
      vip = ing.loadBalancer.ingress[0]!.ip;
      return ing.loadBalancer.ingress.every((x) => x.ip === vip);
    }, 60_000, 'one VIP for both hosts in the Ingress status');

    await waitFor(async () => (await httpGet({ vip, port: 80, host: 'plain.evh.test', path: '/', timeoutMs: 2000 }).catch(() => undefined))?.status === 200, 60_000, 'plain host served on 80');
    assert.equal((await httpGet({ vip, port: 80, host: 'plain.evh.test', path: '/x' })).body, 'web /x');
    assert.equal((await httpGet({ vip, port: 80, host: 'plain.evh.test', path: '/api/v1?q=1' })).body, 'api /api/v1?q=1');
    assert.equal((await httpGet({ vip, port: 80, host: 'plain.evh.test', path: '/apix' })).body, 'web /apix', 'Prefix matches whole path elements');
    const secure = await httpGet({ vip, port: 443, host: 'secure.evh.test', path: '/s', tls: true });
    assert.equal(secure.body, 'api /s');
    assert.equal(secure.peerCert?.subjectCN, 'secure.evh.test');
    // The insecure host's child also answers over TLS (the parent's default certificate).
    assert.equal((await httpGet({ vip, port: 443, host: 'plain.evh.test', path: '/api', tls: true })).body, 'api /api');
    const redirect = await httpGet({ vip, port: 80, host: 'secure.evh.test', path: '/s?y=1' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, 'https://secure.evh.test/s?y=1');
    assert.equal((await httpGet({ vip, port: 80, host: 'other.evh.test', path: '/' })).status, 404, 'no child, no default backend');

    // AKO's EVH objects on the controller: the parent and the children, named Encode(P + host).
    const password = readFileSync(join(data, 'admin-password'), 'utf8').trim();
    const consoleUrl = /(https?:\/\/\S+?)\/ /.exec(proc.lines.find((l) => l.startsWith('Portico is up'))!)![1]!;
    const auth = { authorization: 'Basic ' + Buffer.from(`admin:${password}`).toString('base64') };
    const get = async (name: string) => ((await (await fetch(`${consoleUrl}/api/virtualservice?name=${name}`, { headers: auth })).json()) as any).results[0];
    const parent = await get('portico--Shared-L7-EVH-0');
    assert.equal(parent?.vh_type, 'VS_TYPE_VH_ENHANCED');
    const child = await get(`portico--${createHash('sha1').update('portico--secure.evh.test').digest('hex')}`);
    assert.deepEqual(child?.vh_matches?.map((m: any) => m.host), ['secure.evh.test']);

    const code = await proc.stop(30_000);
    assert.equal(code, 0, proc.lines.slice(-20).join('\n'));
  } finally {
    await proc?.stop(5000);
    killAllWithArg(root);
    for (const s of servers) await new Promise((r) => s.close(r));
    rmSync(root, { recursive: true, force: true });
  }
});
