// CRD translation as tables: each fixture in test/operator/fixtures/crd gives Kubernetes objects
// with HostRules, HTTPRules, AviInfraSettings and L4Rules, the controller objects they name that
// are missing, and expects verdicts, the changed controller objects, and (the CRDs removed) the
// defaults back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../../src/operator/translate/index.js';
import type { DesiredObject } from '../../../src/operator/translate/types.js';
import { crdFixtureFiles, loadCrdFixture, type ObjectExpectation } from './harness.js';
import { assertSubset } from '../translate-harness.js';


function dig(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

function checkObjects(objects: DesiredObject[], want: ObjectExpectation[] | undefined, absent: string[] | undefined, where: string): void {
  const names = objects.map((o) => `${o.type}/${o.name}`);
  for (const e of want ?? []) {
    const o = objects.find((x) => x.type === e.type && x.name === e.name);
    assert.ok(o, `${where}: ${e.type}/${e.name} not built (built: ${names.join(', ')})`);
    if (e.body) assertSubset(o.body, e.body, `${where}: ${e.type}/${e.name}`);
    for (const f of e.without ?? []) assert.equal(dig(o.body, f), undefined, `${where}: ${e.type}/${e.name} should have no ${f}`);
  }
  for (const a of absent ?? []) assert.ok(!names.includes(a), `${where}: ${a} should not be built`);
}

for (const file of crdFixtureFiles()) {
  test(`CRD translation: ${file}`, () => {
    const f = loadCrdFixture(file);
    const t = translate(f.snapshot, f.settings, f.infra, f.known);
    const verdicts = Object.fromEntries((t.crdStatuses ?? []).map((v) => [
      `${v.ref.kind}/${v.ref.namespace ? `${v.ref.namespace}/` : ''}${v.ref.name}`, v.error ? `${v.status}: ${v.error}` : v.status,
    ]));
    assert.deepEqual(verdicts, f.expect.crd, `${file}: verdicts`);
    checkObjects(t.objects, f.expect.objects, f.expect.absent, file);
    for (const [key, reasons] of Object.entries(f.expect.warnings ?? {})) {
      const o = t.outcomes.find((x) => `${x.ref.kind} ${x.ref.namespace}/${x.ref.name}` === key);
      assert.ok(o, `${file}: no outcome for ${key}`);
      assert.deepEqual(o.warnings.map((w) => w.reason), reasons, `${file}: ${key} warnings: ${JSON.stringify(o.warnings)}`);
    }
    // Deterministic: the same input in another map order gives the same bytes.
    const again = translate({ ...f.snapshot, custom: new Map([...f.snapshot.custom].map(([k, m]) => [k, new Map([...m].reverse())])) }, f.settings, f.infra, f.known);
    assert.equal(JSON.stringify(again), JSON.stringify(t), `${file}: not deterministic`);
    // Every CRD object removed: the defaults come back, nothing of the CRDs is left.
    const bare = translate({ ...f.snapshot, custom: new Map() }, f.settings, f.infra, new Map());
    assert.deepEqual(bare.crdStatuses, []);
    checkObjects(bare.objects, f.withoutCrds?.objects, f.withoutCrds?.absent, `${file} without CRDs`);
  });
}
