// Passthrough Ingress translation. The tables are fixtures beside the others
// (test/operator/fixtures/ingress-passthrough*.yaml: objects, names, shards, outcomes), run by
// translate.test.ts and translate-incremental.test.ts; here, the wording of the warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/operator/translate/index.js';
import { shardOf } from '../../src/operator/translate/names.js';
import { loadFixture, snapshotOf } from './translate-harness.js';

test('passthrough warnings name the rule, the service and the reason', () => {
  const f = loadFixture('ingress-passthrough-bad-input.yaml');
  const bad = translate(f.snapshot, f.settings, f.infra).outcomes.find((o) => o.ref.name === 'bad')!;
  assert.deepEqual(bad.warnings.map((w) => w.message), [
    'rules[0] has no host: a passthrough Ingress is routed by the TLS SNI host name',
    'rules[1].http.paths[0]: service default/nope not found',
    'rules[2].http.paths[0]: service default/app has no port 8443',
    'spec.defaultBackend is not used by a passthrough Ingress: connections are routed by SNI host only',
    'host *.wild.example.test: a passthrough Ingress routes by the exact SNI name; wildcard hosts are not served',
    'passthrough host a.example.test is already served by ingress default/old',
  ]);
});

test('an AviInfraSetting on the IngressClass: its name in the passthrough names, its shard size and SE group', () => {
  const f = loadFixture('ingress-passthrough.yaml');
  const snap = snapshotOf([
    { kind: 'IngressClass', metadata: { name: 'avi-infra' }, spec: { controller: 'ako.vmware.com/avi-lb', parameters: { apiGroup: 'ako.vmware.com', kind: 'AviInfraSetting', name: 'infra1' } } },
    { kind: 'AviInfraSetting', apiVersion: 'ako.vmware.com/v1beta1', metadata: { name: 'infra1' }, spec: { seGroup: { name: 'SEG-1' }, l7Settings: { shardSize: 'MEDIUM' } } },
    { kind: 'Service', metadata: { name: 'app', namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ port: 443 }] } },
    { kind: 'Ingress', metadata: { name: 'pt', namespace: 'default', annotations: { 'passthrough.ako.vmware.com/enabled': 'true' } }, spec: {
      ingressClassName: 'avi-infra',
      rules: ['a.example.test', 'b.example.test'].map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app', port: { number: 443 } } } }] } })),
    } },
  ]);
  const t = translate(snap, f.settings, f.infra);
  const names = t.objects.map((o) => `${o.type}/${o.name}`);
  // MEDIUM: a.example.test → shard 2, b.example.test → shard 1 (FNV-1a & 3).
  for (const [host, n] of [['a.example.test', shardOf('a.example.test', 4)], ['b.example.test', shardOf('b.example.test', 4)]] as const) {
    const vs = `c1--Shared-Passthrough-infra1-${n}`;
    assert.ok(names.includes(`virtualservice/${vs}`) && names.includes(`virtualservice/${vs}-insecure`), names.join(', '));
    assert.ok(names.includes(`poolgroup/c1--infra1-${host}`) && names.includes(`pool/c1--infra1-${host}-app`), names.join(', '));
    assert.equal(t.objects.find((o) => o.name === vs && o.type === 'virtualservice')!.body.se_group_ref, '/api/serviceenginegroup?name=SEG-1');
    const ds = t.objects.find((o) => o.type === 'vsdatascriptset' && o.name === vs)!;
    assert.match((ds.body.datascript as any)[0].script, /pg_name = "c1--infra1-"\.\.sname/);
  }
  assert.deepEqual([shardOf('a.example.test', 4), shardOf('b.example.test', 4)], [2, 1]);
});
