// Ingresses → routes: class eligibility, hosts, paths and backends checked, TLS hosts and their
// certificates resolved (HostRule > Ingress secret > default secret). Problems become Warnings.
import type { V1Ingress, V1IngressBackend, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ClusterSnapshot, CustomObject } from '../source/types.js';
import type { OperatorSettings } from '../settings/types.js';
import type { ObjectOutcome } from './types.js';
import { AVI_LB_CLASS } from './l4.js';
import { byKey, namespaceFilter, outcome, warn } from './common.js';
import { certFromSecret } from './tls.js';

export type PathType = 'Exact' | 'Prefix';

export interface Backend { svc: V1Service; port: V1ServicePort }

export interface Route {
  ns: string;
  ing: string;
  host: string;
  /** As written (names use it); `match` is the normalised form rules use. */
  path: string;
  match: string;
  pathType: PathType;
  backend: Backend;
  out: ObjectOutcome;
}

/** A certificate for a secure host: PEM from a secret, or an existing controller certificate (HostRule `ref`). */
export type HostCert = { kind: 'pem'; cert: string; key: string; source: string } | { kind: 'ref'; name: string };

export interface ParsedIngress {
  ns: string;
  name: string;
  out: ObjectOutcome;
  routes: Route[];
  /** Hosts this Ingress lists under spec.tls (and in its rules), or every host with enable-tls. */
  tlsHosts: Map<string, HostCert | { kind: 'error'; reason: string; reasonCode: string }>;
  defaultBackend?: Backend;
  /** Every host of its rules (valid ones), for status. */
  hosts: string[];
}

const HOST_RE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TRAILING_SLASHES = /\/+$/;
const A_ENABLE_TLS = 'ako.vmware.com/enable-tls';
const IS_DEFAULT_CLASS = 'ingressclass.kubernetes.io/is-default-class';

export function validHost(host: string): boolean {
  return host.length <= 253 && HOST_RE.test(host);
}

/** Names of the IngressClasses served by this operator, and the default one (if any). */
export function aviClasses(snapshot: ClusterSnapshot): { names: Set<string>; hasDefault: boolean } {
  const names = new Set<string>();
  let hasDefault = false;
  for (const c of snapshot.ingressClasses.values()) {
    if (c.spec?.controller !== AVI_LB_CLASS) continue;
    names.add(c.metadata?.name ?? '');
    if (c.metadata?.annotations?.[IS_DEFAULT_CLASS] === 'true') hasDefault = true;
  }
  return { names, hasDefault };
}

function created(i: V1Ingress): string {
  const t = i.metadata?.creationTimestamp as unknown;
  if (t instanceof Date) return t.toISOString();
  return typeof t === 'string' ? t : '';
}

/** Eligible Ingresses, oldest first (the oldest wins a conflict). */
export function eligibleIngresses(snapshot: ClusterSnapshot, settings: OperatorSettings): V1Ingress[] {
  const { names, hasDefault } = aviClasses(snapshot);
  const nsOk = namespaceFilter(snapshot, settings);
  const list: Array<[string, V1Ingress]> = [];
  for (const [key, ing] of byKey(snapshot.ingresses)) {
    if (!nsOk(ing.metadata?.namespace ?? 'default')) continue;
    const cls = ing.spec?.ingressClassName;
    if (cls ? !names.has(cls) : !hasDefault) continue;
    list.push([key, ing]);
  }
  return list.sort((a, b) => {
    const ta = created(a[1]);
    const tb = created(b[1]);
    return ta < tb ? -1 : ta > tb ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  }).map(([, i]) => i);
}

function resolveBackend(snapshot: ClusterSnapshot, ns: string, b: V1IngressBackend | undefined, out: ObjectOutcome, where: string): Backend | undefined {
  if (!b?.service) {
    warn(out, 'UnsupportedBackend', `${where}: only service backends are supported`);
    return undefined;
  }
  const svc = snapshot.services.get(`${ns}/${b.service.name}`);
  if (!svc) {
    warn(out, 'UnknownService', `${where}: service ${ns}/${b.service.name} not found`);
    return undefined;
  }
  const ports = svc.spec?.ports ?? [];
  const want = b.service.port;
  let port: V1ServicePort | undefined;
  if (want?.name) port = ports.find((p) => p.name === want.name);
  else {
    const number = want?.number || 80;
    port = ports.find((p) => p.port === number);
  }
  if (!port) {
    const what = want?.name ? `named ${want.name}` : `${want?.number || 80}`;
    warn(out, 'UnknownPort', `${where}: service ${ns}/${b.service.name} has no port ${what}`);
    return undefined;
  }
  return { svc, port };
}

function hostRuleCert(snapshot: ClusterSnapshot, host: string): { hr: CustomObject; name: string; type: string } | undefined {
  const rules = snapshot.custom.get('HostRule');
  if (!rules) return undefined;
  for (const [, hr] of byKey(rules)) {
    const vh = (hr.spec?.virtualhost ?? {}) as Record<string, any>;
    if (vh.fqdn !== host || (vh.fqdnType && vh.fqdnType !== 'Exact')) continue;
    const kc = vh.tls?.sslKeyCertificate;
    if (kc?.name) return { hr, name: String(kc.name), type: String(kc.type ?? 'ref') };
  }
  return undefined;
}

function secretCert(snapshot: ClusterSnapshot, ns: string, name: string): HostCert | { kind: 'error'; reason: string; reasonCode: string } {
  const secret = snapshot.secrets.get(`${ns}/${name}`);
  if (!secret) return { kind: 'error', reasonCode: 'SecretNotFound', reason: `secret ${ns}/${name} not found` };
  const r = certFromSecret(secret);
  if (!r.ok) return { kind: 'error', reasonCode: 'InvalidSecret', reason: `secret ${ns}/${name} ${r.reason}` };
  return { kind: 'pem', cert: r.cert, key: r.key, source: `${ns}/${name}` };
}

export function parseIngress(snapshot: ClusterSnapshot, settings: OperatorSettings, ing: V1Ingress, generatedDomain: string | undefined): ParsedIngress {
  const ns = ing.metadata?.namespace ?? 'default';
  const name = ing.metadata?.name ?? '';
  const out = outcome('Ingress', ns, name, ing.metadata?.uid);
  const p: ParsedIngress = { ns, name, out, routes: [], tlsHosts: new Map(), hosts: [] };
  const hosts = new Set<string>();
  (ing.spec?.rules ?? []).forEach((rule, ri) => {
    let host = (rule.host ?? '').toLowerCase();
    if (!host) {
      // AKO: a rule without host gets `<ingress>.<namespace>.<sub-domain>`; without a DNS profile it cannot be named.
      if (!generatedDomain) { warn(out, 'InvalidHost', `rules[${ri}] has no host and the cloud has no DNS domain to name one`); return; }
      host = `${name}.${ns}.${generatedDomain}`;
    }
    if (!validHost(host)) { warn(out, 'InvalidHost', `rules[${ri}].host ${JSON.stringify(rule.host)} is not a valid DNS name`); return; }
    hosts.add(host);
    (rule.http?.paths ?? []).forEach((hp, pi) => {
      const where = `rules[${ri}].http.paths[${pi}]`;
      const path = hp.path || '/';
      if (!path.startsWith('/')) { warn(out, 'InvalidPath', `${where}.path ${JSON.stringify(hp.path)} must start with "/"`); return; }
      const pathType: PathType = hp.pathType === 'Exact' ? 'Exact' : 'Prefix';
      const backend = resolveBackend(snapshot, ns, hp.backend, out, where);
      if (!backend) return;
      const match = pathType === 'Prefix' ? path.replace(TRAILING_SLASHES, '') || '/' : path;
      p.routes.push({ ns, ing: name, host, path, match, pathType, backend, out });
    });
  });
  p.hosts = [...hosts].sort();
  if (ing.spec?.defaultBackend) {
    const b = resolveBackend(snapshot, ns, ing.spec.defaultBackend, out, 'spec.defaultBackend');
    if (b) p.defaultBackend = b;
  }
  // TLS: a host is secure only when listed in spec.tls and in the rules.
  const enableTls = ing.metadata?.annotations?.[A_ENABLE_TLS] === 'true';
  const tlsFor = new Map<string, string | undefined>();
  for (const t of ing.spec?.tls ?? []) for (const h of t.hosts ?? []) if (hosts.has(h.toLowerCase())) tlsFor.set(h.toLowerCase(), t.secretName);
  if (enableTls) for (const h of hosts) if (!tlsFor.has(h)) tlsFor.set(h, undefined);
  // A HostRule certificate makes an insecure host secure (AKO): it gets an SNI child with that certificate.
  for (const h of hosts) if (!tlsFor.has(h) && hostRuleCert(snapshot, h)) tlsFor.set(h, undefined);
  for (const [host, secretName] of tlsFor) {
    const hr = hostRuleCert(snapshot, host);
    if (hr) {
      if (hr.type === 'secret') p.tlsHosts.set(host, secretCert(snapshot, hr.hr.metadata.namespace ?? ns, hr.name));
      else p.tlsHosts.set(host, { kind: 'ref', name: hr.name });
    } else if (secretName) p.tlsHosts.set(host, secretCert(snapshot, ns, secretName));
    else p.tlsHosts.set(host, secretCert(snapshot, settings.akoNamespace, 'router-certs-default'));
  }
  return p;
}

/** Services an Ingress names as backends (`ns/name`), found or not, added to `into`. */
export function backendKeys(ing: V1Ingress, into: Set<string>): void {
  const ns = ing.metadata?.namespace ?? 'default';
  const add = (b: V1IngressBackend | undefined) => { if (b?.service?.name) into.add(`${ns}/${b.service.name}`); };
  add(ing.spec?.defaultBackend);
  for (const r of ing.spec?.rules ?? []) for (const p of r.http?.paths ?? []) add(p.backend);
}
