// AKO's CRDs in translation: each object is read (shape, names of controller objects checked
// against what the controller holds), gets a verdict (Accepted / Rejected with the reason), and
// the accepted ones adjust the objects the builders made. Pure: what the controller holds comes
// in as `known` (read before translation by src/operator/crd-status.ts).
import type { ClusterSnapshot, CustomObject } from '../../source/types.js';
import type { ObjectOutcome } from '../types.js';
import type { ObjectSet } from '../objects.js';
import { byKey } from '../common.js';
import { parseHostRule, applyHostRules, type HostRuleSpec } from './hostrule.js';
import { parseHttpRule, applyHttpRules, type HttpRuleSpec } from './httprule.js';
import { parseInfraSetting, applyInfraToServices, type InfraSpec } from './infrasetting.js';
import { parseL4Rule, applyL4Rules, type L4RuleSpec } from './l4rule.js';
import { SpecReader } from './fields.js';
import { refKey, type CrdVerdict, type KnownRefs, type RefNeed } from './types.js';

export { buildIngressesByInfra } from './infrasetting.js';
export type { CrdVerdict, KnownRefs, RefNeed } from './types.js';

export const CRD_KINDS = ['HostRule', 'HTTPRule', 'AviInfraSetting', 'L4Rule'] as const;

export interface CrdRules {
  /** The snapshot the builders read: only accepted HostRules with a certificate. */
  view: ClusterSnapshot;
  hostRules: HostRuleSpec[];
  httpRules: HttpRuleSpec[];
  infras: Map<string, InfraSpec>;
  l4Rules: Map<string, L4RuleSpec>;
  /** Rejected objects by kind → key → reason. */
  rejected: Map<string, Map<string, string>>;
  /** Fields accepted but not applied, by kind → key. */
  ignored: Map<string, Map<string, string[]>>;
  objects: Array<{ kind: string; key: string; o: CustomObject }>;
}

function created(o: CustomObject): string {
  const t = o.metadata.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
}

/** CRD objects of the handled kinds, oldest first (the oldest wins a conflict). */
function crdObjects(snapshot: ClusterSnapshot): Array<{ kind: string; key: string; o: CustomObject }> {
  const out: Array<{ kind: string; key: string; o: CustomObject }> = [];
  for (const kind of CRD_KINDS) {
    const list = byKey(snapshot.custom.get(kind) ?? new Map<string, CustomObject>());
    list.sort((a, b) => (created(a[1]) < created(b[1]) ? -1 : created(a[1]) > created(b[1]) ? 1 : 0));
    // AviInfraSetting is cluster-scoped: known by its name alone, whatever the source put in metadata.
    for (const [key, o] of list) out.push({ kind, key: kind === 'AviInfraSetting' ? o.metadata.name : key, o });
  }
  return out;
}

function parse(kind: string, o: CustomObject, snapshot: ClusterSnapshot): { spec?: unknown; reader: SpecReader } {
  // A spec that is not a mapping (a manifest typo the API server's CRD schema would refuse) is
  // rejected as such, not read as an empty spec (which some kinds would accept).
  const raw: unknown = o.spec;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    const reader = new SpecReader('spec');
    reader.problems.push(`spec: expected an object, got ${Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}`);
    return { reader };
  }
  if (kind === 'HostRule') return parseHostRule(o, snapshot);
  if (kind === 'HTTPRule') return parseHttpRule(o);
  if (kind === 'AviInfraSetting') return parseInfraSetting(o);
  return parseL4Rule(o);
}

/** Every controller object the CRDs name (what the controller is asked about before translation). */
export function crdRefNeeds(snapshot: ClusterSnapshot): RefNeed[] {
  const seen = new Map<string, RefNeed>();
  for (const { kind, o } of crdObjects(snapshot)) for (const n of parse(kind, o, snapshot).reader.refs) seen.set(refKey(n.type, n.name), n);
  return [...seen.values()];
}

const missingMessage = (n: RefNeed) => `${n.field}: ${n.type === 'network-uuid' ? 'network with uuid' : n.type} ${n.name} not found on the controller`;

export function readCrds(snapshot: ClusterSnapshot, known: KnownRefs | undefined): CrdRules {
  const rules: CrdRules = {
    view: snapshot, hostRules: [], httpRules: [], infras: new Map(), l4Rules: new Map(), rejected: new Map(), ignored: new Map(), objects: crdObjects(snapshot),
  };
  for (const kind of CRD_KINDS) { rules.rejected.set(kind, new Map()); rules.ignored.set(kind, new Map()); }
  const claimed = new Map<string, string>();
  const acceptedHostRules = new Map<string, CustomObject>();
  for (const { kind, key, o } of rules.objects) {
    const { spec, reader } = parse(kind, o, snapshot);
    const problems = [...reader.problems];
    // Only refs the controller was asked about count: without `known` they are trusted.
    for (const n of reader.refs) if (known?.get(refKey(n.type, n.name)) === null) problems.push(missingMessage(n));
    if (!problems.length && kind === 'HostRule') {
      const hr = spec as HostRuleSpec;
      for (const [claim, what] of [[`${hr.fqdnType}:${hr.fqdn}`, `fqdn ${hr.fqdn}`], ...hr.aliases.map((a) => [`Exact:${a}`, `alias ${a}`])] as const) {
        const other = claimed.get(claim);
        if (other) problems.push(`${what} is already used by HostRule ${other}`);
      }
    }
    if (problems.length) { rules.rejected.get(kind)!.set(key, problems.join('; ')); continue; }
    if (reader.ignored.length) rules.ignored.get(kind)!.set(key, reader.ignored);
    if (kind === 'HostRule') {
      const hr = spec as HostRuleSpec;
      claimed.set(`${hr.fqdnType}:${hr.fqdn}`, key);
      for (const a of hr.aliases) claimed.set(`Exact:${a}`, key);
      rules.hostRules.push(hr);
      // The builders read HostRules only for certificates (ingress-parse): give them just those.
      if (hr.cert) acceptedHostRules.set(key, o);
    } else if (kind === 'HTTPRule') rules.httpRules.push(spec as HttpRuleSpec);
    else if (kind === 'AviInfraSetting') rules.infras.set(key, spec as InfraSpec);
    else rules.l4Rules.set(key, spec as L4RuleSpec);
  }
  if (snapshot.custom.has('HostRule')) {
    const custom = new Map(snapshot.custom);
    custom.set('HostRule', acceptedHostRules);
    rules.view = { ...snapshot, custom };
  }
  return rules;
}

/** Applies the accepted rules to the built objects; returns every CRD object's verdict. */
export function applyCrds(set: ObjectSet, rules: CrdRules, known: KnownRefs | undefined, outcomes: ObjectOutcome[]): CrdVerdict[] {
  const infraProblems = rules.rejected.get('AviInfraSetting')!;
  applyInfraToServices(set, rules.view, outcomes, rules.infras, known, infraProblems);
  const notes = new Map<string, Map<string, string[]>>([
    ['HostRule', applyHostRules(set, rules.hostRules, rules.view)],
    ['HTTPRule', applyHttpRules(set, rules.httpRules)],
    ['L4Rule', applyL4Rules(set, rules.view, rules.l4Rules, new Set(rules.rejected.get('L4Rule')!.keys()), outcomes)],
  ]);
  return rules.objects.map(({ kind, key, o }) => {
    const ref = { kind, namespace: kind === 'AviInfraSetting' ? '' : o.metadata.namespace ?? '', name: o.metadata.name, apiVersion: o.apiVersion, ...(o.metadata.uid ? { uid: o.metadata.uid } : {}) };
    const why = rules.rejected.get(kind)!.get(key);
    if (why) return { ref, status: 'Rejected', error: why };
    const parts: string[] = [];
    const ignored = rules.ignored.get(kind)!.get(key);
    if (ignored?.length) parts.push(`stored, not applied by the data plane: ${ignored.join(', ')}`);
    parts.push(...(notes.get(kind)?.get(key) ?? []));
    return { ref, status: 'Accepted', error: parts.join('; ') };
  });
}
