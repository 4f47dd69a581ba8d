// applyDefaults must give exactly what TypeBox's Value.Default gives, for every registered type,
// on bodies that leave out, give, or half-give each field (nested objects, arrays, enums).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { allTypes } from '../../../src/model/registry.js';
import { applyDefaults } from '../../../src/controller/api/defaults.js';

/** A small seeded generator (mulberry32): the same bodies on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A value for `schema`: each property given with probability `p`, sometimes of the wrong shape. */
function sample(schema: TSchema, r: () => number, p: number, depth = 0): unknown {
  if (r() < 0.05) return r() < 0.5 ? 'x' : 7; // a wrong shape: defaults must behave as TypeBox's on it too
  switch (schema[Kind]) {
    case 'Object': {
      const out: Record<string, unknown> = {};
      if (depth > 6) return out;
      for (const [k, s] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) if (r() < p) out[k] = sample(s, r, p, depth + 1);
      return out;
    }
    case 'Array': return depth > 6 ? [] : Array.from({ length: Math.floor(r() * 3) }, () => sample(schema.items as TSchema, r, p, depth + 1));
    case 'Union': { const m = schema.anyOf as TSchema[]; return sample(m[Math.floor(r() * m.length)]!, r, p, depth + 1); }
    case 'Literal': return schema.const;
    case 'Integer': case 'Number': return Math.floor(r() * 100);
    case 'Boolean': return r() < 0.5;
    default: return 'v';
  }
}

test('applyDefaults equals Value.Default for every type, on sparse, dense and wrongly shaped bodies', () => {
  let checked = 0;
  for (const info of allTypes) {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed * 7919 + info.type.length);
      const body = sample(info.schema, r, [0, 0.1, 0.3, 0.7][seed % 4]!) as Record<string, unknown>;
      const want = Value.Default(info.schema, structuredClone(body));
      const got = applyDefaults(info.schema, structuredClone(body));
      assert.deepEqual(got, want, `${info.type}, seed ${seed}: ${JSON.stringify(body).slice(0, 300)}`);
      checked++;
    }
    assert.deepEqual(applyDefaults(info.schema, { name: 'n' }), Value.Default(info.schema, { name: 'n' }), info.type);
  }
  assert.ok(checked > 400);
});
