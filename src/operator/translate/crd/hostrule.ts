// HostRule (ako-behaviour.md §5): VS-level settings for one FQDN (Exact), every FQDN under a
// domain (Wildcard) or every FQDN/shared VS whose name contains a string (Contains). Applied
// after the builders, onto the virtual services that serve the matching FQDNs.
import type { ClusterSnapshot, CustomObject } from '../../source/types.js';
import type { DesiredObject } from '../types.js';
import { ObjectSet, ref } from '../objects.js';
import { certFromSecret } from '../tls.js';
import { SpecReader } from './fields.js';
import { pushTo } from '../common.js';

export type FqdnType = 'Exact' | 'Wildcard' | 'Contains';
interface CertSpec { name: string; type: 'ref' | 'secret' }

export interface HostRuleSpec {
  key: string;
  ns: string;
  fqdn: string;
  fqdnType: FqdnType;
  enableVirtualHost?: boolean;
  cert?: CertSpec;
  altCert?: CertSpec;
  sslProfile?: string;
  policySets: string[];
  overwrite: boolean;
  datascripts: string[];
  aliases: string[];
  /** VS fields set as they are (profile refs and the refs the data plane stores only). */
  vsFields: Record<string, unknown>;
  listeners?: Array<{ port: number; enableSSL: boolean }>;
  loadBalancerIP?: string;
  ignored: string[];
}

const FQDN_TYPES = ['Exact', 'Wildcard', 'Contains'] as const;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function parseHostRule(o: CustomObject, snapshot: ClusterSnapshot): { spec?: HostRuleSpec; reader: SpecReader } {
  const r = new SpecReader('spec');
  const ns = o.metadata.namespace ?? 'default';
  const vh = r.obj(o.spec?.virtualhost, 'spec.virtualhost');
  if (!vh) { r.problems.push('spec.virtualhost is required'); return { reader: r }; }
  const at = 'spec.virtualhost';
  const fqdn = r.str(vh.fqdn, `${at}.fqdn`, true)?.toLowerCase();
  const fqdnType = r.oneOf(vh.fqdnType, `${at}.fqdnType`, FQDN_TYPES) ?? 'Exact';
  if (fqdn && fqdnType === 'Wildcard' && !fqdn.startsWith('*.')) r.problems.push(`${at}.fqdn ${fqdn}: a Wildcard fqdn starts with "*."`);
  const spec: HostRuleSpec = { key: `${ns}/${o.metadata.name}`, ns, fqdn: fqdn ?? '', fqdnType, policySets: [], overwrite: false, datascripts: [], aliases: [], vsFields: {}, ignored: r.ignored };
  const enable = r.bool(vh.enableVirtualHost, `${at}.enableVirtualHost`);
  if (enable !== undefined) spec.enableVirtualHost = enable;

  const tls = r.obj(vh.tls, `${at}.tls`);
  if (tls) {
    spec.cert = certSpec(r, tls.sslKeyCertificate, `${at}.tls.sslKeyCertificate`, ns, snapshot, true);
    const kc = r.obj(tls.sslKeyCertificate, `${at}.tls.sslKeyCertificate`);
    const alt = kc && certSpec(r, kc.alternateCertificate, `${at}.tls.sslKeyCertificate.alternateCertificate`, ns, snapshot, false);
    if (alt) spec.altCert = alt;
    const profile = r.ref(tls.sslProfile, `${at}.tls.sslProfile`, 'sslprofile');
    if (profile) spec.sslProfile = profile;
    r.oneOf(tls.termination, `${at}.tls.termination`, ['edge'] as const);
  }
  const hp = r.obj(vh.httpPolicy, `${at}.httpPolicy`);
  if (hp) {
    spec.policySets = r.refs_(hp.policySets, `${at}.httpPolicy.policySets`, 'httppolicyset');
    spec.overwrite = r.bool(hp.overwrite, `${at}.httpPolicy.overwrite`) ?? false;
  }
  spec.datascripts = r.refs_(vh.datascripts, `${at}.datascripts`, 'vsdatascriptset');
  const app = r.ref(vh.applicationProfile, `${at}.applicationProfile`, 'applicationprofile');
  if (app) spec.vsFields.application_profile_ref = ref('applicationprofile', app);
  const analytics = r.ref(vh.analyticsProfile, `${at}.analyticsProfile`, 'analyticsprofile');
  if (analytics) spec.vsFields.analytics_profile_ref = ref('analyticsprofile', analytics);
  // WAF and error pages: the controller stores the refs; Portico's engines do not run them.
  const waf = r.str(vh.wafPolicy, `${at}.wafPolicy`);
  if (waf) { spec.vsFields.waf_policy_ref = ref('wafpolicy', waf); r.ignored.push(`${at}.wafPolicy`); }
  const errorPage = r.str(vh.errorPageProfile, `${at}.errorPageProfile`);
  if (errorPage) { spec.vsFields.error_page_profile_ref = ref('errorpageprofile', errorPage); r.ignored.push(`${at}.errorPageProfile`); }
  for (const f of ['icapProfile', 'networkSecurityPolicy', 'analyticsPolicy', 'gslb', 'l7Rule', 'useRegex', 'applicationRootPath']) r.ignore(vh[f], `${at}.${f}`);

  spec.aliases = r.strings(vh.aliases, `${at}.aliases`).map((a) => a.toLowerCase());
  if (spec.aliases.length && fqdnType !== 'Exact') r.problems.push(`${at}.aliases need fqdnType Exact (it is ${fqdnType})`);
  if (fqdn && spec.aliases.includes(fqdn)) r.problems.push(`${at}.aliases must not repeat the fqdn ${fqdn}`);
  if (new Set(spec.aliases).size !== spec.aliases.length) r.problems.push(`${at}.aliases has duplicates`);

  const tcp = r.obj(vh.tcpSettings, `${at}.tcpSettings`);
  if (tcp) {
    const listeners = r.list(tcp.listeners, `${at}.tcpSettings.listeners`).map((l, i) => {
      const lo = r.obj(l, `${at}.tcpSettings.listeners[${i}]`) ?? {};
      const port = r.int(lo.port, `${at}.tcpSettings.listeners[${i}].port`, 1, 65535, true);
      return { port: port ?? 0, enableSSL: r.bool(lo.enableSSL, `${at}.tcpSettings.listeners[${i}].enableSSL`) ?? false };
    });
    if (new Set(listeners.map((l) => l.port)).size !== listeners.length) r.problems.push(`${at}.tcpSettings.listeners has a port twice`);
    if (listeners.length) spec.listeners = listeners;
    const ip = r.str(tcp.loadBalancerIP, `${at}.tcpSettings.loadBalancerIP`);
    if (ip && !IPV4.test(ip)) r.problems.push(`${at}.tcpSettings.loadBalancerIP ${ip} is not an IPv4 address`);
    else if (ip) spec.loadBalancerIP = ip;
  }
  return r.problems.length ? { reader: r } : { spec, reader: r };
}

function certSpec(r: SpecReader, v: unknown, field: string, ns: string, snapshot: ClusterSnapshot, required: boolean): CertSpec | undefined {
  const kc = r.obj(v, field);
  if (!kc) { if (required) r.problems.push(`${field} is required`); return undefined; }
  const type = r.oneOf(kc.type, `${field}.type`, ['ref', 'secret'] as const) ?? 'ref';
  const name = type === 'ref' ? r.ref(kc.name, `${field}.name`, 'sslkeyandcertificate') : r.str(kc.name, `${field}.name`, true);
  if (!name) return undefined;
  if (type === 'secret') {
    const secret = snapshot.secrets.get(`${ns}/${name}`);
    if (!secret) r.problems.push(`${field}.name: secret ${ns}/${name} not found`);
    else {
      const c = certFromSecret(secret);
      if (!c.ok) r.problems.push(`${field}.name: secret ${ns}/${name} ${c.reason}`);
    }
  }
  return { name, type };
}

/** The FQDN matches this rule. */
export function hostRuleMatches(rule: HostRuleSpec, host: string): boolean {
  if (rule.fqdnType === 'Exact') return host === rule.fqdn;
  if (rule.fqdnType === 'Wildcard') return host === rule.fqdn || host.endsWith(rule.fqdn.slice(1));
  return host.includes(rule.fqdn);
}

const nameOfRef = (r: unknown): string | undefined => {
  if (typeof r !== 'string') return undefined;
  const i = r.indexOf('?name=');
  return i >= 0 ? decodeURIComponent(r.slice(i + 6)) : undefined;
};

/** Which FQDNs a VS stands for, and what kind of VS it is (VS-level fields need its own VS). */
function vsHosts(set: ObjectSet, vs: DesiredObject): { kind: 'child' | 'dedicated' | 'parent' | 'l4'; hosts: string[] } {
  const b = vs.body;
  if (b.type === 'VS_TYPE_VH_CHILD') return { kind: 'child', hosts: (b.vh_domain_name as string[]) ?? [] };
  if (b.type === 'VS_TYPE_VH_PARENT') {
    const vip = set.get('vsvip', nameOfRef(b.vsvip_ref) ?? '');
    const fqdns = ((vip?.body.dns_info as Array<{ fqdn: string }>) ?? []).map((d) => d.fqdn).filter((f) => f.startsWith(`${vs.name}.`) || f.startsWith(`${vs.name}-`));
    return { kind: 'parent', hosts: [vs.name.toLowerCase(), ...fqdns.map((f) => f.toLowerCase())] };
  }
  const host = (b.markers as Array<{ key: string; values: string[] }>).find((m) => m.key === 'Host')?.values[0];
  return host ? { kind: 'dedicated', hosts: [host] } : { kind: 'l4', hosts: [] };
}

/**
 * Applies accepted HostRules to the built objects. Returns, per rule, notes for its status
 * (fields that did not apply where they matched).
 */
export function applyHostRules(set: ObjectSet, rules: HostRuleSpec[], snapshot: ClusterSnapshot): Map<string, string[]> {
  const notes = new Map<string, string[]>();
  const note = (r: HostRuleSpec, s: string) => { const l = notes.get(r.key) ?? []; if (!l.includes(s)) l.push(s); notes.set(r.key, l); };
  if (rules.length === 0) return notes;
  let matches: HostMatches | undefined;
  const grown = new Map<{ value: string[] }, Set<string>>();
  const vses = [...set.values('virtualservice')].map((vs) => ({ vs, ...vsHosts(set, vs) })).filter((v) => v.kind !== 'l4');
  // Exact rules (most of them) look their VSes up by host; the others scan.
  const byHost = new Map<string, typeof vses>();
  for (const v of vses) for (const h of v.hosts) pushTo(byHost, h, v);
  for (const rule of rules) {
    const candidates = rule.fqdnType === 'Exact' ? byHost.get(rule.fqdn) ?? [] : vses;
    for (const { vs, kind, hosts } of candidates) {
      if (kind === 'l4' || !hosts.some((h) => hostRuleMatches(rule, h))) continue;
      applyToVs(set, vs, kind, rule, snapshot, (s) => note(rule, s));
    }
    if (rule.aliases.length) addAliasesToParentRules(matches ??= hostMatchIndex(set), rule, grown);
  }
  for (const [hdr, values] of grown) hdr.value = [...values];
  return notes;
}

function applyToVs(set: ObjectSet, vs: DesiredObject, kind: 'child' | 'dedicated' | 'parent', rule: HostRuleSpec, snapshot: ClusterSnapshot, note: (s: string) => void): void {
  const b = vs.body;
  if (rule.enableVirtualHost !== undefined) b.enabled = rule.enableVirtualHost;
  Object.assign(b, rule.vsFields);
  if (rule.sslProfile) b.ssl_profile_ref = ref('sslprofile', rule.sslProfile);
  // The primary certificate is the builders' (ingress-parse reads accepted Exact HostRules); a
  // Wildcard/Contains rule's ref and the alternate certificate are set here.
  if (rule.cert) {
    const refs = b.ssl_key_and_certificate_refs as string[] | undefined;
    if (kind === 'parent') note('tls applies to secure FQDNs, not to a shared parent VS');
    else if (!refs) note(`tls: no Ingress lists ${rule.fqdn} under spec.tls, so it has no TLS virtual service`);
    else {
      const certs = rule.cert.type === 'ref' ? [ref('sslkeyandcertificate', rule.cert.name)] : refs.slice(0, 1);
      if (rule.altCert?.type === 'ref') certs.push(ref('sslkeyandcertificate', rule.altCert.name));
      else if (rule.altCert) {
        const pem = certFromSecret(snapshot.secrets.get(`${rule.ns}/${rule.altCert.name}`)!);
        const certName = `${vs.name}-alt`;
        if (pem.ok) {
          set.add('sslkeyandcertificate', certName, { type: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', certificate: { certificate: pem.cert }, key: pem.key }, [{ key: 'Host', values: [rule.fqdn] }], []);
          if (!vs.deps.includes(`sslkeyandcertificate/${certName}`)) vs.deps.push(`sslkeyandcertificate/${certName}`);
          certs.push(ref('sslkeyandcertificate', certName));
        }
      }
      b.ssl_key_and_certificate_refs = certs;
    }
  }
  if (rule.policySets.length) {
    const mine = rule.policySets.map((p) => ({ index: 0, http_policy_set_ref: ref('httppolicyset', p) }));
    const ours = rule.overwrite ? [] : ((b.http_policies as Array<{ index: number; http_policy_set_ref: string }>) ?? []);
    let next = ours.reduce((m, p) => Math.max(m, p.index), 10) + 1;
    for (const m of mine) m.index = next++;
    b.http_policies = [...ours, ...mine];
  }
  if (rule.datascripts.length) b.vs_datascripts = rule.datascripts.map((d, i) => ({ index: i, vs_datascript_set_ref: ref('vsdatascriptset', d) }));
  if (rule.aliases.length) {
    if (kind === 'child') b.vh_domain_name = [...new Set([...(b.vh_domain_name as string[]), ...rule.aliases])];
    const vipName = nameOfRef(kind === 'child' ? set.get('virtualservice', nameOfRef(b.vh_parent_vs_ref) ?? '')?.body.vsvip_ref : b.vsvip_ref);
    const vip = vipName ? set.get('vsvip', vipName) : undefined;
    if (vip) addDns(vip, rule.aliases);
  }
  if (rule.listeners || rule.loadBalancerIP) {
    if (kind === 'child') { note('tcpSettings apply to a shared parent or dedicated VS only (use fqdnType Contains with the parent name)'); return; }
    if (rule.listeners) b.services = rule.listeners.map((l) => ({ port: l.port, port_range_end: l.port, enable_ssl: l.enableSSL }));
    if (rule.loadBalancerIP) {
      const vip = set.get('vsvip', nameOfRef(b.vsvip_ref) ?? '');
      const v = (vip?.body.vip as Array<Record<string, unknown>> | undefined)?.[0];
      if (v) v.ip_address = { type: 'V4', addr: rule.loadBalancerIP };
    }
  }
}

/** Host-header matches of the policy sets, by host, with the VsVip of the same name (the parent's). Built once per translation. */
type HostMatches = Map<string, Array<{ hdr: { value: string[] }; vip?: DesiredObject }>>;

function hostMatchIndex(set: ObjectSet): HostMatches {
  const index: HostMatches = new Map();
  for (const ps of set.values('httppolicyset')) {
    const vip = set.get('vsvip', ps.name);
    for (const r of ((ps.body.http_request_policy as { rules?: Array<Record<string, any>> })?.rules) ?? []) {
      const hdr = r.match?.host_hdr;
      if (!hdr || !Array.isArray(hdr.value)) continue;
      for (const h of hdr.value as string[]) {
        pushTo(index, h, { hdr, ...(vip ? { vip } : {}) });
      }
    }
  }
  return index;
}

// The FQDNs of a VsVip's DNS records, kept beside it while rules add to them (a parent has thousands).
const dnsSets = new WeakMap<DesiredObject, Set<string>>();

/** Adds FQDNs to a VsVip's DNS records (once each). */
function addDns(vip: DesiredObject, fqdns: string[]): void {
  const dns = (vip.body.dns_info as Array<{ fqdn: string }>) ?? [];
  let have = dnsSets.get(vip);
  if (!have) dnsSets.set(vip, (have = new Set(dns.map((d) => d.fqdn))));
  for (const f of fqdns) if (!have.has(f)) { dns.push({ fqdn: f }); have.add(f); }
  vip.body.dns_info = dns;
}

/** Insecure hosts route by Host header on the shared parent: aliases join those matches and the parent's DNS records. */
function addAliasesToParentRules(index: HostMatches, rule: HostRuleSpec, grown: Map<{ value: string[] }, Set<string>>): void {
  for (const { hdr, vip } of index.get(rule.fqdn) ?? []) {
    // A parent's redirect rule lists every secure host: grow a set, write the list once at the end.
    let values = grown.get(hdr);
    if (!values) grown.set(hdr, (values = new Set(hdr.value)));
    for (const a of rule.aliases) values.add(a);
    if (vip) addDns(vip, rule.aliases);
  }
}
