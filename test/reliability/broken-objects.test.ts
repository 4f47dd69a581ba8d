// A table of broken Kubernetes objects given to a real operator (manifest mode) next to good
// ones: each broken one is reported on its own object (a Warning event in its status), and the
// good ones are served all the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { selfSignedCert } from '../../src/tls/self-signed.js';
import { fetchStatus } from '../../src/up/report.js';
import { PASSWORD } from '../controller/support.js';
import { until } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { NET, lbService } from './support.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ingress = (name: string, host: string, secret?: string, svc = 'web') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: default }
spec:
  ${secret ? `tls: [{ hosts: [${host}], secretName: ${secret} }]` : 'tls: []'}
  rules: [{ host: ${host}, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: ${svc}, port: { number: 80 } } } }] } }]
`;

test('broken Services, EndpointSlices, Ingresses and Secrets: each reported on its object, the good ones served', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-broken-'));
  const m = join(dir, 'manifests');
  mkdirSync(m);
  let ctl: Controller | undefined;
  let op: CliProcess | undefined;
  try {
    const [a, b] = await Promise.all([selfSignedCert(['a.portico.local']), selfSignedCert(['b.portico.local'])]);
    const secret = (name: string, type: string, data: Record<string, string>) => `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: default }
type: ${type}
data: { ${Object.entries(data).map(([k, v]) => `${JSON.stringify(k)}: ${b64(v)}`).join(', ')} }
`;
    const files: Record<string, string> = {
      'web.yaml': `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: ClusterIP, ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-x, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: ["${NET}.50"], conditions: { ready: true } }]
`,
      'secrets.yaml': [
        secret('good-tls', 'kubernetes.io/tls', { 'tls.crt': a.cert, 'tls.key': a.key }),
        secret('bad-pem', 'kubernetes.io/tls', { 'tls.crt': '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n', 'tls.key': 'garbage' }),
        secret('wrong-type', 'Opaque', { username: 'u', password: 'p' }),
        secret('mismatch', 'kubernetes.io/tls', { 'tls.crt': a.cert, 'tls.key': b.key }),
      ].join('---\n'),
      'good-ingress.yaml': ingress('good-ing', 'good.portico.local', 'good-tls'),
      'good-svc.yaml': lbService('good-svc', '[{ name: http, port: 8000, targetPort: 8080, protocol: TCP }]', `${NET}.51`),
      'ing-bad-pem.yaml': ingress('ing-bad-pem', 'badpem.portico.local', 'bad-pem'),
      'ing-wrong-type.yaml': ingress('ing-wrong-type', 'wrongtype.portico.local', 'wrong-type'),
      'ing-mismatch.yaml': ingress('ing-mismatch', 'mismatch.portico.local', 'mismatch'),
      'ing-missing-secret.yaml': ingress('ing-missing-secret', 'missing.portico.local', 'nope'),
      'ing-missing-service.yaml': ingress('ing-missing-service', 'nosvc.portico.local', undefined, 'nope'),
      'svc-bad-protocol.yaml': lbService('svc-bad-protocol', '[{ name: x, port: 8001, targetPort: 8080, protocol: BOGUS }]', `${NET}.52`),
      'svc-bad-address.yaml': lbService('svc-bad-address', '[{ name: http, port: 8002, targetPort: 8080, protocol: TCP }]', '999.1.1.1'),
      'not-yaml.yaml': 'kind: Service\nmetadata: { name: [unclosed\n',
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(m, f), text);

    ctl = await startController({ listen: `${NET}.13:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: `${NET}.128/26`, logger: false });
    op = runPortico(['operator', '--controller', ctl.url, '--manifests', m, '--listen', `${NET}.13:0`], { env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: PASSWORD } });
    const url = /(https?:\/\/\S+)/.exec(await op.waitForLine(/listening on https?:\/\//, 30_000))![1]!.replace(/\/$/, '');
    const item = async (name: string) => (await fetchStatus(url)).find((i) => i.name === name);
    await until('the good objects are served', async () => (await item('good-ing'))?.loadBalancer.ingress.length === 1 && (await item('good-svc'))?.loadBalancer.ingress.length === 1, 30_000);

    const broken = ['ing-bad-pem', 'ing-wrong-type', 'ing-mismatch', 'ing-missing-secret', 'ing-missing-service', 'svc-bad-protocol', 'svc-bad-address'];
    const report: string[] = [];
    const unreported: string[] = [];
    for (const name of broken) {
      const it = await until(`${name} has a status`, () => item(name), 10_000).catch(() => undefined);
      const warn = it?.events.find((e) => e.type === 'Warning');
      report.push(`${name}: ${warn ? `${warn.reason}: ${warn.message}` : it ? `no warning (ingress ${JSON.stringify(it.loadBalancer.ingress)})` : 'not listed'}`);
      if (!warn) unreported.push(name);
    }
    console.log(`# broken objects:\n${report.map((l) => `#   ${l}`).join('\n')}`);
    assert.ok(op.proc.exitCode === null, 'the operator is still running');
    assert.equal((await item('good-ing'))!.events.filter((e) => e.type === 'Warning').length, 0, 'the good Ingress is clean');
    assert.deepEqual(unreported, [], 'every broken object is reported on itself');
  } finally {
    await op?.stop();
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
