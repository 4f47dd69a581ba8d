// Translation as tables: each YAML fixture in test/operator/fixtures gives values, infra and
// Kubernetes objects, and the controller objects (names, order, fields) and outcomes expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/operator/translate/index.js';
import { fnv1a32, shardOf } from '../../src/operator/translate/names.js';
import { fixtureFiles, loadFixture, snapshotOf, assertSubset } from './translate-harness.js';
import type { ClusterSnapshot } from '../../src/operator/source/types.js';


for (const file of fixtureFiles()) {
  test(`translate: ${file}`, () => {
    const f = loadFixture(file);
    const t = translate(f.snapshot, f.settings, f.infra);
    const names = t.objects.map((o) => `${o.type}/${o.name}`);
    if (f.expect.names) assert.deepEqual(names, f.expect.names, `${file}: object names and order`);
    for (const e of f.expect.objects ?? []) {
      const o = t.objects.find((x) => x.type === e.type && x.name === e.name);
      assert.ok(o, `${file}: ${e.type}/${e.name} not built (built: ${names.join(', ')})`);
      assertSubset(o.body, e.body, `${file}: ${e.type}/${e.name}`);
    }
    for (const a of f.expect.absent ?? []) assert.ok(!names.includes(a), `${file}: ${a} should not be built`);
    for (const [key, want] of Object.entries(f.expect.outcomes ?? {})) {
      const [kind, nsName] = key.split(' ');
      const o = t.outcomes.find((x) => `${x.ref.kind}` === kind && `${x.ref.namespace}/${x.ref.name}` === nsName);
      assert.ok(o, `${file}: no outcome for ${key}`);
      if (want.vips) assert.deepEqual(o.vips, want.vips, `${file}: ${key} vips`);
      if (want.virtualServices) assert.deepEqual(o.virtualServices, want.virtualServices, `${file}: ${key} virtualServices`);
      if (want.warnings) assert.deepEqual(o.warnings.map((w) => w.reason), want.warnings, `${file}: ${key} warnings: ${JSON.stringify(o.warnings)}`);
    }
    for (const key of f.expect.unhandled ?? []) {
      assert.ok(!t.outcomes.some((x) => `${x.ref.kind} ${x.ref.namespace}/${x.ref.name}` === key), `${file}: ${key} should not be handled`);
    }
    // Pure and deterministic: the same input in another map order gives the same bytes.
    const shuffled: ClusterSnapshot = snapshotOf([]);
    for (const k of Object.keys(f.snapshot) as Array<keyof ClusterSnapshot>) {
      if (k === 'custom') for (const [kind, m] of f.snapshot.custom) shuffled.custom.set(kind, new Map([...m].reverse()));
      else (shuffled[k] as Map<string, unknown>) = new Map([...(f.snapshot[k] as Map<string, unknown>)].reverse());
    }
    assert.equal(JSON.stringify(translate(shuffled, f.settings, f.infra)), JSON.stringify(t), `${file}: not deterministic`);
  });
}

test('FNV-1a-32 and shard numbers match the reference vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // Over UTF-8 bytes, as Go hashes a string.
  assert.equal(fnv1a32('héllo.example'), 0xe6507f04);
  assert.equal(fnv1a32('日本.jp'), 0x2c4896af);
  // Shard = hash & (size-1): LARGE 8, MEDIUM 4, SMALL 1.
  assert.equal(shardOf('foobar', 8), 0xbf9cf968 & 7);
  assert.equal(shardOf('foobar', 4), 0xbf9cf968 & 3);
  assert.equal(shardOf('anything', 1), 0);
});
