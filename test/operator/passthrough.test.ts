// Passthrough Ingress translation. The tables are fixtures beside the others
// (test/operator/fixtures/ingress-passthrough*.yaml: objects, names, shards, outcomes), run by
// translate.test.ts and translate-incremental.test.ts; here, the wording of the warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/operator/translate/index.js';
import { loadFixture } from './translate-harness.js';

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
