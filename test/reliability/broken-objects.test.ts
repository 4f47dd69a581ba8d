// A table of broken Kubernetes objects given to a real operator (manifest mode) next to good
// ones: each broken one is reported on its own object (a Warning event in its status; for AKO's
// CRDs, status Rejected with the reason, as AKO writes it), and the good ones are served all the same.
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

const crd = (kind: string, name: string, spec: string, version = kind === 'L4Rule' ? 'v1alpha2' : 'v1beta1') => `apiVersion: ako.vmware.com/${version}
kind: ${kind}
metadata: { name: ${name}${kind === 'AviInfraSetting' ? '' : ', namespace: default'} }
${spec}
`;

/** Broken AKO CRD objects: name → [manifest, what the Rejected reason must say]. */
const BROKEN_CRDS: Record<string, [string, RegExp]> = {
  'hr-no-virtualhost': [crd('HostRule', 'hr-no-virtualhost', 'spec: {}'), /spec\.virtualhost is required/],
  'hr-spec-text': [crd('HostRule', 'hr-spec-text', 'spec: just text'), /spec: expected an object, got a string/],
  'hr-wrong-types': [crd('HostRule', 'hr-wrong-types', 'spec: { virtualhost: { fqdn: 42, enableVirtualHost: "yes" } }'), /fqdn.*expected a string/],
  'hr-bad-wildcard': [crd('HostRule', 'hr-bad-wildcard', 'spec: { virtualhost: { fqdn: good.portico.local, fqdnType: Wildcard } }'), /Wildcard/],
  'hr-missing-cert': [crd('HostRule', 'hr-missing-cert', 'spec: { virtualhost: { fqdn: other.portico.local, tls: { sslKeyCertificate: { name: no-such-cert, type: ref } } } }'), /no-such-cert/],
  'hr-missing-secret': [crd('HostRule', 'hr-missing-secret', 'spec: { virtualhost: { fqdn: third.portico.local, tls: { sslKeyCertificate: { name: no-such-secret, type: secret } } } }'), /no-such-secret/],
  'http-no-fqdn': [crd('HTTPRule', 'http-no-fqdn', 'spec: { paths: [{ target: / }] }'), /spec\.fqdn is required/],
  'http-paths-text': [crd('HTTPRule', 'http-paths-text', 'spec: { fqdn: good.portico.local, paths: everything }'), /spec\.paths: expected a list/],
  'http-bad-algorithm': [crd('HTTPRule', 'http-bad-algorithm', 'spec: { fqdn: good.portico.local, paths: [{ target: /, loadBalancerPolicy: { algorithm: FASTEST_EVER } }] }'), /algorithm/],
  'http-spec-number': [crd('HTTPRule', 'http-spec-number', 'spec: 7'), /spec: expected an object, got a number/],
  'http-bad-target': [crd('HTTPRule', 'http-bad-target', 'spec: { fqdn: good.portico.local, paths: [{ target: nope }] }'), /must start with/],
  'http-missing-monitor': [crd('HTTPRule', 'http-missing-monitor', 'spec: { fqdn: good.portico.local, paths: [{ target: /, healthMonitors: [no-such-monitor] }] }'), /no-such-monitor/],
  'infra-missing-network': [crd('AviInfraSetting', 'infra-missing-network', 'spec: { network: { vipNetworks: [{ networkName: no-such-network }] } }'), /no-such-network/],
  'infra-missing-seg': [crd('AviInfraSetting', 'infra-missing-seg', 'spec: { seGroup: { name: no-such-seg } }'), /no-such-seg/],
  'infra-bad-shard': [crd('AviInfraSetting', 'infra-bad-shard', 'spec: { l7Settings: { shardSize: HUGE } }'), /shardSize/],
  'infra-bgp-no-rhi': [crd('AviInfraSetting', 'infra-bgp-no-rhi', 'spec: { network: { bgpPeerLabels: [peer1] } }'), /enableRhi/],
  'infra-spec-list': [crd('AviInfraSetting', 'infra-spec-list', 'spec: [1, 2]'), /spec: expected an object, got a list/],
  'l4-bad-ip': [crd('L4Rule', 'l4-bad-ip', 'spec: { loadBalancerIP: not-an-ip }'), /loadBalancerIP/],
  'l4-bad-port': [crd('L4Rule', 'l4-bad-port', 'spec: { listenerProperties: [{ port: 70000, protocol: TCP }] }'), /^spec.listenerProperties\[0\].port: expected an integer 1-65535, got 70000$/],
  'l4-missing-profile': [crd('L4Rule', 'l4-missing-profile', 'spec: { applicationProfileRef: no-such-profile }'), /no-such-profile/],
  'l4-spec-text': [crd('L4Rule', 'l4-spec-text', 'spec: all ports'), /spec: expected an object, got a string/],
  'l4-bad-protocol': [crd('L4Rule', 'l4-bad-protocol', 'spec: { backendProperties: [{ port: 80, protocol: QUIC }] }'), /protocol/],
};

test('broken Services, EndpointSlices, Ingresses, Secrets and AKO CRDs: each reported on its object, the good ones served', { timeout: 120_000 }, async () => {
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
      // Served, with a Warning: the L4Rule it names is Rejected (AKO's defaults are used).
      'svc-rejected-l4rule.yaml': lbService('svc-rejected-l4rule', '[{ name: http, port: 8003, targetPort: 8080, protocol: TCP }]', `${NET}.53`)
        .replace('metadata: { name: svc-rejected-l4rule, namespace: default }', 'metadata: { name: svc-rejected-l4rule, namespace: default, annotations: { ako.vmware.com/l4rule: l4-bad-ip } }'),
      'svc-bad-address.yaml': lbService('svc-bad-address', '[{ name: http, port: 8002, targetPort: 8080, protocol: TCP }]', '999.1.1.1'),
      'not-yaml.yaml': 'kind: Service\nmetadata: { name: [unclosed\n',
      'crds-broken.yaml': Object.values(BROKEN_CRDS).map(([m]) => m).join('---\n'),
      // Good CRD objects next to the broken ones: still Accepted.
      'crds-good.yaml': [
        crd('HostRule', 'hr-good', 'spec: { virtualhost: { fqdn: good.portico.local, enableVirtualHost: true } }'),
        crd('HTTPRule', 'http-good', 'spec: { fqdn: good.portico.local, paths: [{ target: /, loadBalancerPolicy: { algorithm: LB_ALGORITHM_ROUND_ROBIN } }] }'),
      ].join('---\n'),
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(m, f), text);

    ctl = await startController({ listen: `${NET}.13:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: `${NET}.128/26`, logger: false });
    op = runPortico(['operator', '--controller', ctl.url, '--manifests', m, '--listen', `${NET}.13:0`], { env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: PASSWORD } });
    const url = /(https?:\/\/\S+)/.exec(await op.waitForLine(/listening on https?:\/\//, 30_000))![1]!.replace(/\/$/, '');
    const item = async (name: string) => (await fetchStatus(url)).find((i) => i.name === name);
    await until('the good objects are served', async () => (await item('good-ing'))?.loadBalancer.ingress.length === 1 && (await item('good-svc'))?.loadBalancer.ingress.length === 1, 30_000);

    const broken = ['ing-bad-pem', 'ing-wrong-type', 'ing-mismatch', 'ing-missing-secret', 'ing-missing-service', 'svc-bad-protocol', 'svc-bad-address', 'svc-rejected-l4rule'];
    const report: string[] = [];
    const unreported: string[] = [];
    for (const name of broken) {
      const it = await until(`${name} has a status`, () => item(name), 10_000).catch(() => undefined);
      const warn = it?.events.find((e) => e.type === 'Warning');
      report.push(`${name}: ${warn ? `${warn.reason}: ${warn.message}` : it ? `no warning (ingress ${JSON.stringify(it.loadBalancer.ingress)})` : 'not listed'}`);
      if (!warn) unreported.push(name);
    }
    // AKO's CRDs: status Rejected with a reason naming the field or the missing object.
    type Verdict = { kind: string; name: string; status: string; error: string };
    const crds = async () => ((await (await fetch(`${url}/api/status`)).json()) as { crds: Verdict[] }).crds;
    await until('every CRD object has a verdict', async () => (await crds()).length >= Object.keys(BROKEN_CRDS).length + 2, 10_000).catch(() => undefined);
    const verdicts = await crds();
    for (const [name, [, reason]] of Object.entries(BROKEN_CRDS)) {
      const v = verdicts.find((x) => x.name === name);
      report.push(`${v?.kind ?? 'CRD'} ${name}: ${v ? `${v.status}: ${v.error}` : 'no verdict'}`);
      if (v?.status !== 'Rejected' || !reason.test(v.error)) unreported.push(`${name} (${v ? `${v.status}: ${v.error}` : 'no verdict'})`);
    }
    for (const name of ['hr-good', 'http-good']) {
      const v = verdicts.find((x) => x.name === name);
      report.push(`${v?.kind ?? 'CRD'} ${name} (good): ${v ? `${v.status} ${v.error}` : 'no verdict'}`);
      assert.equal(v?.status, 'Accepted', `${name} is accepted next to the broken ones: ${v?.error}`);
    }
    console.log(`# broken objects:\n${report.map((l) => `#   ${l}`).join('\n')}`);
    assert.ok(op.proc.exitCode === null, 'the operator is still running');
    assert.equal((await item('good-ing'))!.events.filter((e) => e.type === 'Warning').length, 0, 'the good Ingress is clean');
    assert.equal((await item('good-ing'))!.loadBalancer.ingress.length, 1, 'the good Ingress is still served');
    assert.equal((await item('good-svc'))!.loadBalancer.ingress.length, 1, 'the good Service is still served');
    assert.equal((await item('svc-rejected-l4rule'))?.loadBalancer.ingress.length, 1, 'a Service naming a Rejected L4Rule is served with the defaults');
    assert.deepEqual(unreported, [], 'every broken object is reported on itself');
  } finally {
    await op?.stop();
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
