// EVH translation beyond the tables (fixtures ingress-evh*.yaml, l4-evh.yaml): AviInfraSettings
// name and place EVH objects as in SNI mode, and a secure host waits for its secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { translate } from '../../src/operator/translate/index.js';
import { loadCrdFixture } from './crd/harness.js';
import { loadFixture } from './translate-harness.js';

const sha1 = (s: string) => `c1--${createHash('sha1').update(s).digest('hex')}`;

test('EVH with AviInfraSettings: Shared-L7-EVH-<infra>-N on the setting\'s SE group, children Encode(P + <infra>- + host) unless namespace-scoped', () => {
  const f = loadCrdFixture('infrasetting.yaml');
  const t = translate(f.snapshot, { ...f.settings, enableEVH: true }, f.infra, f.known);
  const vs = new Map(t.objects.filter((o) => o.type === 'virtualservice').map((o) => [o.name, o.body]));
  // infra1 (IngressClass parameters, MEDIUM): FNV-1a(a.avi.internal) & 3 = 3.
  assert.equal(vs.get('c1--Shared-L7-EVH-infra1-3')?.se_group_ref, '/api/serviceenginegroup?name=SEG-1');
  assert.equal(vs.get('c1--Shared-L7-EVH-infra1-3')?.vh_type, 'VS_TYPE_VH_ENHANCED');
  const a = vs.get(sha1('c1--infra1-a.avi.internal'));
  assert.equal(a?.vh_parent_vs_ref, '/api/virtualservice?name=c1--Shared-L7-EVH-infra1-3');
  assert.deepEqual((a?.vh_matches as any[]).map((m) => m.host), ['a.avi.internal']);
  // b.avi.internal's setting comes from its namespace: no `<infra>-` in the child's name (§2.4).
  assert.ok(vs.has(sha1('c1--b.avi.internal')), [...vs.keys()].join(', '));
  assert.ok(![...vs.keys()].some((n) => n.startsWith('c1--Shared-L7-') && !n.includes('-EVH-')), 'no SNI parent in EVH mode');
});

test('EVH: a secure host whose secret is missing gets no child and a Warning; the secret appearing serves it', () => {
  const f = loadFixture('ingress-evh.yaml');
  const secretKey = 'shop/secure-tls';
  const secret = f.snapshot.secrets.get(secretKey)!;
  f.snapshot.secrets.delete(secretKey);
  const child = sha1('c1--secure.example.com');
  const without = translate(f.snapshot, f.settings, f.infra);
  assert.ok(!without.objects.some((o) => o.name === child), 'no child without the secret');
  assert.ok(!without.objects.some((o) => o.name === 'c1--Shared-L7-EVH-7'), 'no parent for a shard with nothing to serve');
  const out = without.outcomes.find((o) => o.ref.name === 'shop')!;
  assert.deepEqual(out.warnings.map((w) => w.reason), ['SecretNotFound']);
  assert.deepEqual(out.vips.map((v) => v.hostname), ['foo.avi.internal'], 'the unserved host is left out of the status');
  f.snapshot.secrets.set(secretKey, secret);
  const withSecret = translate(f.snapshot, f.settings, f.infra);
  assert.equal(withSecret.objects.find((o) => o.type === 'virtualservice' && o.name === child)?.body.vh_parent_vs_ref, '/api/virtualservice?name=c1--Shared-L7-EVH-7');
});

test('EVH fqdnReusePolicy Strict: claims follow the Ingresses that exist; with the claimer gone the next oldest namespace takes the host', () => {
  const f = loadFixture('ingress-evh-strict.yaml');
  const hostsOf = (t: ReturnType<typeof translate>, ns: string, name: string) =>
    t.outcomes.find((o) => o.ref.namespace === ns && o.ref.name === name)!.vips.map((v) => v.hostname);
  const before = translate(f.snapshot, f.settings, f.infra);
  assert.deepEqual(hostsOf(before, 'blue', 'b'), []);
  assert.deepEqual(hostsOf(before, 'green', 'g'), ['other.avi.internal']);
  // red's Ingresses deleted: blue (older than green) now claims both of its hosts, so green is refused.
  f.snapshot.ingresses.delete('red/r');
  f.snapshot.ingresses.delete('red/r2');
  const after = translate(f.snapshot, f.settings, f.infra);
  assert.deepEqual(hostsOf(after, 'blue', 'b'), ['other.avi.internal', 'shop.avi.internal']);
  const green = after.outcomes.find((o) => o.ref.name === 'g')!;
  assert.deepEqual(green.vips, []);
  assert.match(green.warnings[0]!.message, /other\.avi\.internal \(namespace blue\)/);
  // InterNamespaceAllowed (the default) merges hosts across namespaces: only the very same path is refused.
  const merged = translate(f.snapshot, { ...f.settings, l7: { ...f.settings.l7, fqdnReusePolicy: 'InterNamespaceAllowed' } }, f.infra);
  assert.deepEqual(hostsOf(merged, 'blue', 'b'), ['other.avi.internal', 'shop.avi.internal']);
  assert.deepEqual(merged.outcomes.find((o) => o.ref.name === 'g')!.warnings.map((w) => w.reason), ['DuplicateHostPath']);
});
