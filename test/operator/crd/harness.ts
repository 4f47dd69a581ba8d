// Loads a CRD translation fixture (test/operator/fixtures/crd/*.yaml): values, infra, objects as
// in the translate fixtures, plus `missing` (controller objects the CRDs name that do not exist;
// every other one does) and expectations on CRD verdicts and on the translation without CRDs.
// Tokens: @cert@ / @key@ base64 test certificate and key, @capem@ the certificate as a quoted PEM string.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { settingsFromValues } from '../../../src/operator/settings/values.js';
import type { OperatorSettings } from '../../../src/operator/settings/types.js';
import type { ClusterSnapshot } from '../../../src/operator/source/types.js';
import type { Infra } from '../../../src/operator/translate/types.js';
import { crdRefNeeds, type KnownRefs } from '../../../src/operator/translate/crd/index.js';
import { refKey } from '../../../src/operator/translate/crd/types.js';
import { DEFAULT_INFRA, FIXTURES, snapshotOf } from '../translate-harness.js';

export const CRD_FIXTURES = join(FIXTURES, 'crd');

export interface ObjectExpectation { type: string; name: string; body?: Record<string, unknown>; without?: string[] }

export interface CrdFixture {
  file: string;
  name: string;
  settings: OperatorSettings;
  infra: Infra;
  snapshot: ClusterSnapshot;
  known: KnownRefs;
  expect: {
    crd: Record<string, string>;
    objects?: ObjectExpectation[];
    absent?: string[];
    warnings?: Record<string, string[]>;
  };
  /** The same objects without any CRD: the defaults come back. */
  withoutCrds?: { objects?: ObjectExpectation[]; absent?: string[] };
}

export const CA_PEM = readFileSync(join(process.cwd(), 'test/fixtures/tls/secure.example.com.crt'), 'utf8');
export const KEY_PEM = readFileSync(join(process.cwd(), 'test/fixtures/tls/secure.example.com.key'), 'utf8');

export function loadCrdFixture(file: string): CrdFixture {
  const cert = Buffer.from(CA_PEM).toString('base64');
  const key = Buffer.from(KEY_PEM).toString('base64');
  const text = readFileSync(join(CRD_FIXTURES, file), 'utf8').replaceAll('@cert@', cert).replaceAll('@key@', key).replaceAll('@capem@', JSON.stringify(CA_PEM));
  const doc = parseAllDocuments(text)[0]!.toJS() as Record<string, any>;
  const values = { ...(doc.values ?? {}), AKOSettings: { clusterName: 'c1', ...(doc.values?.AKOSettings ?? {}) } };
  const { settings, problems } = settingsFromValues(values, {});
  if (problems.length) throw new Error(`${file}: values problems: ${JSON.stringify(problems)}`);
  const snapshot = snapshotOf(doc.objects ?? []);
  const missing = new Set<string>(doc.missing ?? []);
  const known: KnownRefs = new Map();
  for (const n of crdRefNeeds(snapshot)) {
    const k = refKey(n.type, n.name);
    known.set(k, missing.has(k) ? null : (doc.networks?.[k] ?? {}));
  }
  return {
    file, name: doc.name ?? file, settings, infra: { ...DEFAULT_INFRA, ...(doc.infra ?? {}) }, snapshot, known,
    expect: { crd: {}, ...(doc.expect ?? {}) }, ...(doc.withoutCrds ? { withoutCrds: doc.withoutCrds } : {}),
  };
}

export function crdFixtureFiles(): string[] {
  return readdirSync(CRD_FIXTURES).filter((f) => f.endsWith('.yaml')).sort();
}
