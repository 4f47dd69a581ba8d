// Tenant per namespace in translation, as a table (fixtures/tenant/*.yaml): which tenant each
// object is built in, the TenantNotFound outcome of a namespace naming a missing tenant, the same
// result from the incremental translator, and a namespace's annotation edit moving its objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { translate } from '../../src/operator/translate/index.js';
import { IncrementalTranslator } from '../../src/operator/translate/incremental.js';
import type { Infra, Translation } from '../../src/operator/translate/types.js';
import type { ClusterSnapshot } from '../../src/operator/source/types.js';
import { FIXTURES, loadFixture, assertSubset, type Fixture } from './translate-harness.js';

interface TenantExpect { tenants?: Record<string, string>; outcomes?: Record<string, { tenant?: string } & Record<string, unknown>> }

function load(file: string): Fixture & { infra: Infra } {
  const f = loadFixture(join('tenant', file));
  const listed = (f.infra as unknown as { tenants?: string[] }).tenants;
  return { ...f, infra: { ...f.infra, ...(listed ? { tenants: new Set(listed) } : {}) } };
}

function check(file: string, f: Fixture, t: Translation): void {
  const names = t.objects.map((o) => `${o.type}/${o.name}`);
  const e = f.expect as Fixture['expect'] & TenantExpect;
  for (const o of t.objects) {
    const key = `${o.type}/${o.name}`;
    const want = e.tenants?.[key];
    assert.equal(o.tenant, want, `${file}: ${key} tenant`);
    assert.equal(o.body.tenant_ref, `/api/tenant?name=${want ?? f.infra.tenant}`, `${file}: ${key} tenant_ref`);
  }
  for (const k of Object.keys(e.tenants ?? {})) assert.ok(names.includes(k), `${file}: ${k} not built (built: ${names.join(', ')})`);
  for (const a of e.absent ?? []) assert.ok(!names.includes(a), `${file}: ${a} should not be built`);
  for (const x of e.objects ?? []) {
    const o = t.objects.find((y) => y.type === x.type && y.name === x.name);
    assert.ok(o, `${file}: ${x.type}/${x.name} not built`);
    assertSubset(o.body, x.body, `${file}: ${x.type}/${x.name}`);
  }
  for (const [key, want] of Object.entries(e.outcomes ?? {})) {
    const [kind, nsName] = key.split(' ');
    const o = t.outcomes.find((x) => x.ref.kind === kind && `${x.ref.namespace}/${x.ref.name}` === nsName);
    assert.ok(o, `${file}: no outcome for ${key}`);
    assert.equal(o.tenant, want.tenant, `${file}: ${key} tenant`);
    const { tenant: _t, warnings, ...rest } = want as { tenant?: string; warnings?: string[] };
    assertSubset(o, rest, `${file}: ${key}`);
    if (warnings) assert.deepEqual(o.warnings.map((w) => w.reason), warnings, `${file}: ${key} warnings ${JSON.stringify(o.warnings)}`);
  }
}

/** The snapshot with one namespace's annotations replaced (a new Map and object, as providers hand them). */
function withNamespace(s: ClusterSnapshot, ns: string, annotations: Record<string, string>): ClusterSnapshot {
  const namespaces = new Map(s.namespaces);
  namespaces.set(ns, { metadata: { name: ns, annotations } });
  return { ...s, namespaces };
}

for (const file of readdirSync(join(FIXTURES, 'tenant')).filter((x) => x.endsWith('.yaml')).sort()) {
  test(`tenant translation: ${file} (full and incremental)`, () => {
    const f = load(file);
    const t = translate(f.snapshot, f.settings, f.infra);
    check(file, f, t);
    const inc = new IncrementalTranslator(f.settings, f.infra);
    for (const _ of inc.update(f.snapshot, undefined)) { /* consumed */ }
    assert.equal(JSON.stringify(inc.translation().objects), JSON.stringify(t.objects), `${file}: incremental objects`);
    assert.deepEqual(inc.translation().outcomes, t.outcomes, `${file}: incremental outcomes`);
  });
}

test('tenant translation: no tenant list (start-up, nothing checked yet) trusts every named tenant', () => {
  const f = load('tenant-per-namespace.yaml');
  const { tenants: _t, ...infra } = f.infra;
  const t = translate(f.snapshot, f.settings, infra);
  const vs = t.objects.find((o) => o.name === 'c1--team-b-web' && o.type === 'virtualservice');
  assert.equal(vs?.tenant, 'team-b');
  assert.equal(vs?.body.tenant_ref, '/api/tenant?name=team-b');
});

test('tenant translation: editing a namespace annotation moves its objects (incremental = full)', () => {
  const f = load('tenant-per-namespace.yaml');
  const inc = new IncrementalTranslator(f.settings, { ...f.infra, tenants: new Set(['team-a', 'team-c']) });
  for (const _ of inc.update(f.snapshot, undefined)) { /* consumed */ }
  const moved = withNamespace(f.snapshot, 'team-a', { 'ako.vmware.com/tenant-name': 'team-c' });
  const changed = new Set<string>();
  for (const u of inc.update(moved, undefined)) for (const k of u.changed) changed.add(k);
  for (const k of ['vsvip/c1--team-a-web', 'pool/c1--team-a-web-TCP-80', 'l4policyset/c1--team-a-web', 'virtualservice/c1--team-a-web']) {
    assert.ok(changed.has(k), `${k} changed`);
  }
  assert.ok(!changed.has('virtualservice/c1--default-web'), 'another namespace is untouched');
  const full = translate(moved, f.settings, { ...f.infra, tenants: new Set(['team-a', 'team-c']) });
  assert.equal(JSON.stringify(inc.translation().objects), JSON.stringify(full.objects));
  assert.equal(full.objects.find((o) => o.name === 'c1--team-a-web-TCP-80')?.tenant, 'team-c');
  // Annotation removed: back to the configured tenant.
  const back = withNamespace(moved, 'team-a', {});
  for (const _ of inc.update(back, undefined)) { /* consumed */ }
  assert.equal(inc.translation().objects.find((o) => o.name === 'c1--team-a-web' && o.type === 'virtualservice')?.tenant, undefined);
});
