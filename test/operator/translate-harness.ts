// Loads a translation fixture (YAML: values, infra, Kubernetes objects, expectations) into the
// operator's inputs. Tokens @cert@ / @key@ stand for the base64 test certificate and key.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { emptySnapshot, type ClusterSnapshot, type CustomObject } from '../../src/operator/source/types.js';
import { summarizePod } from '../../src/operator/source/pods.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import type { OperatorSettings } from '../../src/operator/settings/types.js';
import type { Infra } from '../../src/operator/translate/types.js';

export const FIXTURES = join(process.cwd(), 'test/operator/fixtures');

export interface Fixture {
  file: string;
  name: string;
  settings: OperatorSettings;
  infra: Infra;
  snapshot: ClusterSnapshot;
  expect: {
    names?: string[];
    objects?: Array<{ type: string; name: string; body: Record<string, unknown> }>;
    absent?: string[];
    outcomes?: Record<string, { vips?: Array<{ vsvip: string; hostname?: string }>; warnings?: string[]; virtualServices?: string[] }>;
    unhandled?: string[];
  };
}

export const DEFAULT_INFRA: Infra = {
  tenant: 'admin', cloud: 'Default-Cloud', vrf: 'global', seGroup: 'Default-Group', dnsDomains: ['avi.internal'],
  vipNetworks: [{ name: 'vip-net', subnet: { addr: '10.10.10.0', mask: 24 } }], licenseTier: 'ENTERPRISE',
};

const MAPS: Record<string, keyof Omit<ClusterSnapshot, 'custom'>> = {
  Service: 'services', EndpointSlice: 'endpointSlices', Ingress: 'ingresses', IngressClass: 'ingressClasses',
  Secret: 'secrets', Namespace: 'namespaces', Node: 'nodes', Pod: 'pods',
};

export function snapshotOf(objects: Array<Record<string, any>>): ClusterSnapshot {
  const snap = emptySnapshot();
  for (const o of objects) {
    const ns = o.metadata?.namespace ?? (['Namespace', 'Node', 'IngressClass'].includes(o.kind) ? undefined : 'default');
    if (ns && !o.metadata.namespace) o.metadata.namespace = ns;
    const key = ns ? `${ns}/${o.metadata.name}` : o.metadata.name;
    const map = MAPS[o.kind];
    // Pods are held as the sources hold them: summarised.
    if (map) (snap[map] as Map<string, unknown>).set(key, o.kind === 'Pod' ? summarizePod(o) : o);
    else {
      let m = snap.custom.get(o.kind);
      if (!m) snap.custom.set(o.kind, (m = new Map<string, CustomObject>()));
      m.set(key, o as CustomObject);
    }
  }
  return snap;
}

export function loadFixture(file: string): Fixture {
  const cert = readFileSync(join(process.cwd(), 'test/fixtures/tls/secure.example.com.crt')).toString('base64');
  const key = readFileSync(join(process.cwd(), 'test/fixtures/tls/secure.example.com.key')).toString('base64');
  const text = readFileSync(join(FIXTURES, file), 'utf8').replaceAll('@cert@', cert).replaceAll('@key@', key);
  const doc = parseAllDocuments(text)[0]!.toJS() as Record<string, any>;
  const values = { AKOSettings: { clusterName: 'c1' }, ...(doc.values ?? {}) };
  if (!values.AKOSettings.clusterName) values.AKOSettings.clusterName = 'c1';
  const { settings, problems } = settingsFromValues(values, {});
  if (problems.length) throw new Error(`${file}: values problems: ${JSON.stringify(problems)}`);
  return {
    file, name: doc.name ?? file, settings,
    infra: { ...DEFAULT_INFRA, ...(doc.infra ?? {}) },
    snapshot: snapshotOf(doc.objects ?? []),
    expect: doc.expect ?? {},
  };
}

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();
}

/** Every field of `want` is in `got` with the same value; arrays match element by element, same length. */
export function assertSubset(got: unknown, want: unknown, where: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${where}: expected an array, got ${JSON.stringify(got)}`);
    assert.equal(got.length, want.length, `${where}: length ${got.length} ≠ ${want.length}: ${JSON.stringify(got)}`);
    want.forEach((w, i) => assertSubset(got[i], w, `${where}[${i}]`));
  } else if (want && typeof want === 'object') {
    assert.ok(got && typeof got === 'object', `${where}: expected an object, got ${JSON.stringify(got)}`);
    for (const [k, v] of Object.entries(want)) assertSubset((got as Record<string, unknown>)[k], v, `${where}.${k}`);
  } else {
    assert.deepEqual(got, want, where);
  }
}
