// L4Rule (ako-behaviour.md §5), the part Portico's objects carry: VIP address, VS profiles and
// certificates, listener TLS, and per-port backend settings (lb algorithm, monitors, persistence,
// TLS to the backend). A Service picks it with the annotation `ako.vmware.com/l4rule: <name>`.
import type { ClusterSnapshot, CustomObject } from '../../source/types.js';
import type { DesiredObject, ObjectOutcome } from '../types.js';
import { ObjectSet, ref } from '../objects.js';
import { warn } from '../common.js';
import { SpecReader, lbFields } from './fields.js';

export const A_L4RULE = 'ako.vmware.com/l4rule';
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const IP = /^[0-9a-fA-F:.]+$/;

export interface L4RuleSpec {
  key: string;
  loadBalancerIP?: string;
  vsFields: Record<string, unknown>;
  listeners: Array<{ port: number; protocol: string; enableSsl: boolean }>;
  backends: Array<{ port: number; protocol: string; poolFields: Record<string, unknown> }>;
}

export function parseL4Rule(o: CustomObject): { spec?: L4RuleSpec; reader: SpecReader } {
  const r = new SpecReader('spec');
  const s = o.spec ?? {};
  const spec: L4RuleSpec = { key: `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, vsFields: {}, listeners: [], backends: [] };
  const ip = r.str(s.loadBalancerIP, 'spec.loadBalancerIP');
  if (ip && !IP.test(ip)) r.problems.push(`spec.loadBalancerIP ${ip} is not an IP address`);
  else if (ip) spec.loadBalancerIP = ip;
  const profiles: Array<[string, string, string]> = [
    ['applicationProfileRef', 'applicationprofile', 'application_profile_ref'],
    ['networkProfileRef', 'networkprofile', 'network_profile_ref'],
    ['analyticsProfileRef', 'analyticsprofile', 'analytics_profile_ref'],
    ['sslProfileRef', 'sslprofile', 'ssl_profile_ref'],
  ];
  for (const [field, type, vsField] of profiles) {
    const name = r.ref(s[field], `spec.${field}`, type);
    if (name) spec.vsFields[vsField] = ref(type, name);
  }
  const certs = r.refs_(s.sslKeyAndCertificateRefs, 'spec.sslKeyAndCertificateRefs', 'sslkeyandcertificate');
  if (certs.length > 2) r.problems.push('spec.sslKeyAndCertificateRefs: at most 2 (an RSA and an EC certificate)');
  if (certs.length) spec.vsFields.ssl_key_and_certificate_refs = certs.map((c) => ref('sslkeyandcertificate', c));
  const scripts = r.refs_(s.vsDatascriptRefs, 'spec.vsDatascriptRefs', 'vsdatascriptset');
  if (scripts.length) spec.vsFields.vs_datascripts = scripts.map((d, i) => ({ index: i, vs_datascript_set_ref: ref('vsdatascriptset', d) }));
  for (const f of ['networkSecurityPolicyRef', 'securityPolicyRef', 'performanceLimits', 'revokeVipRoute', 'analyticsPolicy']) r.ignore(s[f], `spec.${f}`);

  r.list(s.listenerProperties, 'spec.listenerProperties').forEach((v, i) => {
    const at = `spec.listenerProperties[${i}]`;
    const l = r.obj(v, at) ?? {};
    const port = r.int(l.port, `${at}.port`, 1, 65535, true);
    const protocol = r.oneOf(l.protocol, `${at}.protocol`, PROTOCOLS) ?? 'TCP';
    spec.listeners.push({ port: port ?? 0, protocol, enableSsl: r.bool(l.enableSsl, `${at}.enableSsl`) ?? false });
  });
  r.list(s.backendProperties, 'spec.backendProperties').forEach((v, i) => {
    const at = `spec.backendProperties[${i}]`;
    const b = r.obj(v, at) ?? {};
    const port = r.int(b.port, `${at}.port`, 1, 65535, true);
    const protocol = r.oneOf(b.protocol, `${at}.protocol`, PROTOCOLS) ?? 'TCP';
    const poolFields = lbFields(r, b.lbAlgorithm, b.lbAlgorithmHash, b.lbAlgorithmConsistentHashHdr, {
      algorithm: `${at}.lbAlgorithm`, hash: `${at}.lbAlgorithmHash`, header: `${at}.lbAlgorithmConsistentHashHdr`,
    });
    const enabled = r.bool(b.enabled, `${at}.enabled`);
    if (enabled !== undefined) poolFields.enabled = enabled;
    const monitors = r.refs_(b.healthMonitorRefs, `${at}.healthMonitorRefs`, 'healthmonitor');
    if (monitors.length) poolFields.health_monitor_refs = monitors.map((m) => ref('healthmonitor', m));
    const single: Array<[string, string, string]> = [
      ['applicationPersistenceProfileRef', 'applicationpersistenceprofile', 'application_persistence_profile_ref'],
      ['sslProfileRef', 'sslprofile', 'ssl_profile_ref'],
      ['sslKeyAndCertificateRef', 'sslkeyandcertificate', 'ssl_key_and_certificate_ref'],
      ['pkiProfileRef', 'pkiprofile', 'pki_profile_ref'],
    ];
    for (const [field, type, poolField] of single) {
      const name = r.ref(b[field], `${at}.${field}`, type);
      if (name) poolFields[poolField] = ref(type, name);
    }
    for (const f of ['healthMonitorCrdRefs', 'minServersUp', 'analyticsPolicy', 'sslProfileRef', 'sslKeyAndCertificateRef', 'pkiProfileRef']) r.ignore(b[f], `${at}.${f}`);
    spec.backends.push({ port: port ?? 0, protocol, poolFields });
  });
  return r.problems.length ? { reader: r } : { spec, reader: r };
}

/** Applies each Service's L4Rule to its L4 virtual service, VsVip and pools. */
export function applyL4Rules(set: ObjectSet, snapshot: ClusterSnapshot, accepted: Map<string, L4RuleSpec>, rejected: Set<string>, outcomes: ObjectOutcome[]): Map<string, string[]> {
  const notes = new Map<string, string[]>();
  let pools: Map<string, DesiredObject> | undefined;
  for (const out of outcomes) {
    if (out.ref.kind !== 'Service') continue;
    const svc = snapshot.services.get(`${out.ref.namespace}/${out.ref.name}`);
    const name = svc?.metadata?.annotations?.[A_L4RULE];
    if (!name) continue;
    const key = `${out.ref.namespace}/${name}`;
    const rule = accepted.get(key);
    if (!rule) {
      warn(out, 'L4RuleNotApplied', rejected.has(key) ? `L4Rule ${key} is Rejected: defaults used` : `L4Rule ${key} not found: defaults used`);
      continue;
    }
    for (const vsName of out.virtualServices) {
      const vs = set.get('virtualservice', vsName);
      if (!vs) continue;
      Object.assign(vs.body, rule.vsFields);
      if (rule.loadBalancerIP) {
        const v = (set.get('vsvip', vsName)?.body.vip as Array<Record<string, unknown>> | undefined)?.[0];
        if (v) v.ip_address = { type: rule.loadBalancerIP.includes(':') ? 'V6' : 'V4', addr: rule.loadBalancerIP };
      }
      const services = (vs.body.services as Array<Record<string, unknown>>) ?? [];
      for (const l of rule.listeners) {
        const s = services.find((x) => x.port === l.port);
        if (s) s.enable_ssl = l.enableSsl;
        else addNote(notes, rule.key, `listenerProperties port ${l.port}: Service ${key.split('/')[0]}/${out.ref.name} has no such port`);
      }
    }
    pools ??= l4PoolIndex(set);
    for (const b of rule.backends) {
      const pool = pools.get(`${out.ref.namespace}/${out.ref.name}/${b.protocol}/${b.port}`);
      if (pool) Object.assign(pool.body, b.poolFields);
      else addNote(notes, rule.key, `backendProperties ${b.protocol}/${b.port}: Service ${out.ref.namespace}/${out.ref.name} has no such port`);
    }
  }
  return notes;
}

/** L4 pools by `namespace/service/PROTOCOL/port` (their markers), built once per translation. */
function l4PoolIndex(set: ObjectSet): Map<string, DesiredObject> {
  const index = new Map<string, DesiredObject>();
  for (const p of set.values('pool')) {
    const m = p.body.markers as Array<{ key: string; values: string[] }>;
    const v = (k: string) => m.find((x) => x.key === k)?.values[0];
    if (v('Protocol') && v('Port')) index.set(`${v('Namespace')}/${v('ServiceName')}/${v('Protocol')}/${v('Port')}`, p);
  }
  return index;
}

function addNote(notes: Map<string, string[]>, key: string, s: string): void {
  const l = notes.get(key) ?? [];
  if (!l.includes(s)) l.push(s);
  notes.set(key, l);
}
