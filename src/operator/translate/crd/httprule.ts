// HTTPRule (ako-behaviour.md §5): pool settings for the Ingress paths of one FQDN in the rule's
// namespace. `target` is a prefix of the Ingress path (`/` hits every path); the longest target
// that matches a pool wins.
import { X509Certificate } from 'node:crypto';
import type { CustomObject } from '../../source/types.js';
import { ObjectSet, ref } from '../objects.js';
import { SpecReader, lbFields } from './fields.js';
import { pushTo } from '../common.js';

export interface HttpRulePath {
  target: string;
  /** Pool fields set as they are. */
  poolFields: Record<string, unknown>;
  /** PEM of a CA to verify the backend with (an owned PKI profile is made for it). */
  destinationCA?: string;
}

export interface HttpRuleSpec {
  key: string;
  ns: string;
  fqdn: string;
  paths: HttpRulePath[];
}

export function parseHttpRule(o: CustomObject): { spec?: HttpRuleSpec; reader: SpecReader } {
  const r = new SpecReader('spec');
  const ns = o.metadata.namespace ?? 'default';
  const fqdn = r.str(o.spec?.fqdn, 'spec.fqdn', true)?.toLowerCase() ?? '';
  const paths = r.list(o.spec?.paths, 'spec.paths').map((p, i) => parsePath(r, p, `spec.paths[${i}]`));
  const targets = paths.map((p) => p.target);
  if (new Set(targets).size !== targets.length) r.problems.push('spec.paths has a target twice');
  if (r.problems.length) return { reader: r };
  return { spec: { key: `${ns}/${o.metadata.name}`, ns, fqdn, paths }, reader: r };
}

function parsePath(r: SpecReader, v: unknown, at: string): HttpRulePath {
  const p = r.obj(v, at) ?? {};
  const target = r.str(p.target, `${at}.target`, true) ?? '/';
  if (!target.startsWith('/')) r.problems.push(`${at}.target ${JSON.stringify(target)} must start with "/"`);
  const lb = r.obj(p.loadBalancerPolicy, `${at}.loadBalancerPolicy`) ?? {};
  const poolFields = lbFields(r, lb.algorithm, lb.hash, lb.hostHeader, {
    algorithm: `${at}.loadBalancerPolicy.algorithm`, hash: `${at}.loadBalancerPolicy.hash`, header: `${at}.loadBalancerPolicy.hostHeader`,
  });
  const out: HttpRulePath = { target, poolFields };
  const monitors = r.refs_(p.healthMonitors, `${at}.healthMonitors`, 'healthmonitor');
  if (monitors.length) poolFields.health_monitor_refs = monitors.map((m) => ref('healthmonitor', m));
  const persistence = r.ref(p.applicationPersistence, `${at}.applicationPersistence`, 'applicationpersistenceprofile');
  if (persistence) poolFields.application_persistence_profile_ref = ref('applicationpersistenceprofile', persistence);
  const http2 = r.bool(p.enableHTTP2, `${at}.enableHTTP2`);
  if (http2 !== undefined) poolFields.enable_http2 = http2;
  if (http2) r.ignored.push(`${at}.enableHTTP2 (backends are reached over HTTP/1.1)`);
  const tls = r.obj(p.tls, `${at}.tls`);
  if (tls) {
    r.ignored.push(`${at}.tls (backends are reached without TLS)`);
    r.oneOf(tls.type, `${at}.tls.type`, ['reencrypt'] as const);
    if (tls.type === undefined) r.problems.push(`${at}.tls.type is required (reencrypt)`);
    // Re-encryption: an SSL profile on the pool makes the engine speak TLS to the backend.
    poolFields.ssl_profile_ref = ref('sslprofile', r.ref(tls.sslProfile, `${at}.tls.sslProfile`, 'sslprofile') ?? 'System-Standard');
    const pki = r.ref(tls.pkiProfile, `${at}.tls.pkiProfile`, 'pkiprofile');
    const ca = r.str(tls.destinationCA, `${at}.tls.destinationCA`);
    if (pki && ca) r.problems.push(`${at}.tls: pkiProfile and destinationCA cannot both be set`);
    if (pki) poolFields.pki_profile_ref = ref('pkiprofile', pki);
    if (ca) {
      try { new X509Certificate(ca); out.destinationCA = ca; } catch { r.problems.push(`${at}.tls.destinationCA is not a PEM certificate`); }
    }
  }
  return out;
}

/** Applies accepted HTTPRules to the pools of Ingress paths (markers Namespace, Host, Path). */
export function applyHttpRules(set: ObjectSet, rules: HttpRuleSpec[]): Map<string, string[]> {
  const notes = new Map<string, string[]>();
  const byHost = new Map<string, HttpRuleSpec[]>();
  for (const r of rules) {
    const k = `${r.ns}\n${r.fqdn}`;
    pushTo(byHost, k, r);
  }
  if (rules.length === 0) return notes;
  for (const pool of [...set.values('pool')]) {
    const m = markersOf(pool.body);
    if (!m.Host || !m.Path || !m.Namespace) continue;
    const candidates = byHost.get(`${m.Namespace}\n${m.Host}`);
    if (!candidates) continue;
    let best: { rule: HttpRuleSpec; path: HttpRulePath } | undefined;
    for (const rule of candidates) for (const p of rule.paths) {
      if (m.Path.startsWith(p.target) && (!best || p.target.length > best.path.target.length)) best = { rule, path: p };
    }
    if (!best) continue;
    Object.assign(pool.body, best.path.poolFields);
    if (best.path.destinationCA) {
      const pki = `${pool.name}-pkiprofile`;
      if (ObjectSet.tooLong(pki)) { notes.set(best.rule.key, [`${pki.slice(0, 60)}… is over 255 characters: destinationCA not applied`]); continue; }
      set.add('pkiprofile', pki, { ca_certs: [{ certificate: best.path.destinationCA }], crl_check: false }, [{ key: 'Host', values: [m.Host] }], []);
      pool.body.pki_profile_ref = ref('pkiprofile', pki);
      pool.deps.push(`pkiprofile/${pki}`);
    }
  }
  return notes;
}

function markersOf(body: Record<string, unknown>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const m of (body.markers as Array<{ key: string; values: string[] }>) ?? []) out[m.key] = m.values[0];
  return out;
}
