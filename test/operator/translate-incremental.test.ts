// The incremental translator must build exactly what the full translation builds, whatever the
// order of changes: every translation fixture is replayed object by object (added, touched,
// changed by a table of edits, removed), and after each step the incremental result is compared
// with translate() on the same snapshot, and the keys it reports changed must cover every object
// that really changed (or the sync would miss a write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { translate } from '../../src/operator/translate/index.js';
import { IncrementalTranslator, objectKey } from '../../src/operator/translate/incremental.js';
import type { ClusterSnapshot } from '../../src/operator/source/types.js';
import type { OperatorSettings } from '../../src/operator/settings/types.js';
import type { Infra } from '../../src/operator/translate/types.js';
import { FIXTURES, fixtureFiles, loadFixture } from './translate-harness.js';

type Kind = Exclude<keyof ClusterSnapshot, 'custom'>;
type Obj = Record<string, any>;
interface Item { kind: Kind | `custom:${string}`; key: string; o: Obj }

function itemsOf(s: ClusterSnapshot): Item[] {
  const out: Item[] = [];
  for (const k of Object.keys(s) as Array<keyof ClusterSnapshot>) {
    if (k === 'custom') for (const [kind, m] of s.custom) for (const [key, o] of m) out.push({ kind: `custom:${kind}`, key, o: o as Obj });
    else for (const [key, o] of s[k] as Map<string, Obj>) out.push({ kind: k, key, o });
  }
  return out;
}

/** A new snapshot with one object set (or deleted): only that kind's map is new, as providers do. */
function withItem(s: ClusterSnapshot, kind: Item['kind'], key: string, o: Obj | undefined): ClusterSnapshot {
  const next: ClusterSnapshot = { ...s };
  if (kind.startsWith('custom:')) {
    const ck = kind.slice(7);
    next.custom = new Map(s.custom);
    const m = new Map(s.custom.get(ck) ?? []);
    if (o) m.set(key, o as never); else m.delete(key);
    next.custom.set(ck, m);
  } else {
    const m = new Map(s[kind as Kind] as Map<string, Obj>);
    if (o) m.set(key, o); else m.delete(key);
    (next[kind as Kind] as Map<string, Obj>) = m;
  }
  return next;
}

/** Edits a changed object may get (each applies to some kinds; the fixtures cover the rest). */
const EDITS: Array<{ what: string; kind: Kind; edit: (o: Obj) => boolean }> = [
  { what: 'endpoint address changes', kind: 'endpointSlices', edit: (o) => { const ep = o.endpoints?.[0]; if (!ep?.addresses?.[0]) return false; ep.addresses[0] = '10.99.0.1'; return true; } },
  { what: 'endpoint goes unready', kind: 'endpointSlices', edit: (o) => { const ep = o.endpoints?.[0]; if (!ep) return false; ep.conditions = { ready: false }; return true; } },
  { what: 'slice moves to another service', kind: 'endpointSlices', edit: (o) => { if (!o.metadata.labels) return false; o.metadata.labels['kubernetes.io/service-name'] = 'moved'; return true; } },
  { what: 'service port changes', kind: 'services', edit: (o) => { const p = o.spec?.ports?.[0]; if (!p) return false; p.port = 8081; return true; } },
  { what: 'service becomes LoadBalancer', kind: 'services', edit: (o) => { if (!o.spec || o.spec.type === 'LoadBalancer') return false; o.spec.type = 'LoadBalancer'; return true; } },
  { what: 'service leaves LoadBalancer', kind: 'services', edit: (o) => { if (o.spec?.type !== 'LoadBalancer') return false; o.spec.type = 'ClusterIP'; return true; } },
  { what: 'service joins a shared VIP', kind: 'services', edit: (o) => { o.metadata.annotations = { ...(o.metadata.annotations ?? {}), 'ako.vmware.com/enable-shared-vip': 'shared1' }; return true; } },
  { what: 'ingress loses its first rule', kind: 'ingresses', edit: (o) => { if (!o.spec?.rules?.length) return false; o.spec.rules.shift(); return true; } },
  { what: 'ingress backend renamed', kind: 'ingresses', edit: (o) => { const b = o.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service; if (!b) return false; b.name = 'missing'; return true; } },
  { what: 'secret emptied', kind: 'secrets', edit: (o) => { o.data = {}; return true; } },
  { what: 'namespace relabelled', kind: 'namespaces', edit: (o) => { o.metadata.labels = { ...(o.metadata.labels ?? {}), flip: 'x' }; return true; } },
  { what: 'pod loses its NodePortLocal annotation', kind: 'pods', edit: (o) => { if (!o.metadata.annotations) return false; delete o.metadata.annotations; return true; } },
  { what: 'pod NodePortLocal node port changes', kind: 'pods', edit: (o) => { const a = o.metadata.annotations?.['nodeportlocal.antrea.io']; if (!a?.startsWith('[{')) return false; o.metadata.annotations['nodeportlocal.antrea.io'] = a.replace(/"nodePort":\s*\d+/, '"nodePort":62999'); return true; } },
  { what: 'pod goes unready', kind: 'pods', edit: (o) => { if (!o.ready) return false; o.ready = false; return true; } },
  { what: 'pod relabelled', kind: 'pods', edit: (o) => { o.metadata.labels = { moved: 'yes' }; return true; } },
  { what: 'node address changes', kind: 'nodes', edit: (o) => { const a = o.status?.addresses?.[0]; if (!a) return false; a.address = '192.0.2.99'; return true; } },
];

class Replay {
  private readonly inc: IncrementalTranslator;
  snap: ClusterSnapshot;
  private last: Map<string, string> = new Map();
  steps = 0;

  constructor(private readonly file: string, private readonly settings: OperatorSettings, private readonly infra: Infra, start: ClusterSnapshot) {
    this.inc = new IncrementalTranslator(settings, infra);
    this.snap = start;
    this.check('start');
  }

  set(what: string, kind: Item['kind'], key: string, o: Obj | undefined): void {
    this.snap = withItem(this.snap, kind, key, o);
    this.check(what);
  }

  private check(what: string): void {
    this.steps++;
    const where = `${this.file}: after ${what}`;
    const reported = new Set<string>();
    for (const u of this.inc.update(this.snap, undefined)) for (const k of [...u.changed, ...u.removed]) reported.add(k);
    const full = translate(this.snap, this.settings, this.infra);
    const got = this.inc.translation();
    assert.deepEqual(got.objects.map(objectKey), full.objects.map(objectKey), `${where}: object names and order`);
    assert.equal(JSON.stringify(got), JSON.stringify(full), `${where}: incremental ≠ full translation`);
    const now = new Map(full.objects.map((o) => [objectKey(o), o.cksum]));
    assert.deepEqual(new Map([...this.inc.wanted].map(([k, w]) => [k, w.cksum])), now, `${where}: wanted checksums`);
    for (const [k, c] of now) if (this.last.get(k) !== c) assert.ok(reported.has(k), `${where}: ${k} changed but was not reported`);
    for (const k of this.last.keys()) if (!now.has(k)) assert.ok(reported.has(k), `${where}: ${k} removed but was not reported`);
    this.last = now;
  }
}

function replay(file: string, settings: OperatorSettings, infra: Infra, snapshot: ClusterSnapshot): number {
  const empty: ClusterSnapshot = { ...snapshot };
  for (const k of Object.keys(empty) as Array<keyof ClusterSnapshot>) (empty[k] as Map<string, unknown>) = new Map();
  const r = new Replay(file, settings, infra, empty);
  const items = itemsOf(snapshot);
  // Added one by one, in an order unlike the fixture's (backends after the Ingresses that name them).
  for (const it of [...items].reverse()) r.set(`adding ${it.kind} ${it.key}`, it.kind, it.key, it.o);
  // Touched: a new object with the same content (a resync) changes nothing.
  for (const it of items) r.set(`touching ${it.kind} ${it.key}`, it.kind, it.key, structuredClone(it.o));
  // Edited, then put back.
  for (const e of EDITS) {
    for (const it of items.filter((x) => x.kind === e.kind)) {
      const o = structuredClone(it.o);
      if (!e.edit(o)) continue;
      r.set(`${e.what} (${it.key})`, it.kind, it.key, o);
      r.set(`undoing ${e.what} (${it.key})`, it.kind, it.key, it.o);
    }
  }
  // Removed one by one.
  for (const it of items) r.set(`removing ${it.kind} ${it.key}`, it.kind, it.key, undefined);
  return r.steps;
}

for (const file of fixtureFiles()) {
  test(`incremental translation = full translation: ${file}`, () => {
    const f = loadFixture(file);
    assert.ok(replay(file, f.settings, f.infra, f.snapshot) > 3);
  });
}

// CRD fixtures: while a CRD object exists everything is one unit; appearing and disappearing CRDs switch modes.
for (const file of readdirSync(join(FIXTURES, 'crd')).filter((x) => x.endsWith('.yaml')).sort()) {
  test(`incremental translation = full translation: crd/${file}`, () => {
    const f = loadFixture(join('crd', file));
    assert.ok(replay(`crd/${file}`, f.settings, f.infra, f.snapshot) > 3);
  });
}
