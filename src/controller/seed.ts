// The objects every controller has (shared/reference/avi-api.md §2.20) and the local-mode
// defaults (INTERFACES.md): created at start when missing, so a start interrupted half-way
// finishes the job next time. They are system objects: shared from the admin tenant, undeletable.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectService, Caller } from './objects.js';
import type { Store } from './store/types.js';
import { ADMIN } from './api/refs.js';
import { selfSigned } from './certs/selfsigned.js';
import { parseCidr, hostRange, formatAddr } from './ipam/addr.js';
import { badRequest } from './errors.js';

export const DEFAULT_VIP_CIDR = '127.77.0.0/24';
const SYSTEM: Caller = { tenant: ADMIN, internal: true, system: true };
const cloud = '/api/cloud?name=Default-Cloud';

function systemObjects(): Array<[string, Record<string, unknown>]> {
  const app = (name: string, type: string, extra: Record<string, unknown> = {}) => ['applicationprofile', { name, type: `APPLICATION_PROFILE_TYPE_${type}`, ...extra }] as [string, Record<string, unknown>];
  const net = (name: string, type: string, extra: Record<string, unknown> = {}) => ['networkprofile', { name, profile: { type: `PROTOCOL_TYPE_${type}`, ...extra } }] as [string, Record<string, unknown>];
  const hm = (name: string, type: string, extra: Record<string, unknown> = {}) => ['healthmonitor', { name, type: `HEALTH_MONITOR_${type}`, ...extra }] as [string, Record<string, unknown>];
  return [
    ['cloud', { name: 'Default-Cloud', vtype: 'CLOUD_NONE', description: 'local cloud: service engines run on this machine' }],
    ['vrfcontext', { name: 'global', cloud_ref: cloud, system_default: true }],
    ['vrfcontext', { name: 'management', cloud_ref: cloud, system_default: true }],
    ['serviceenginegroup', { name: 'Default-Group', cloud_ref: cloud }],
    app('System-HTTP', 'HTTP', { http_profile: {} }),
    app('System-Secure-HTTP', 'HTTP', { http_profile: { x_forwarded_proto_enabled: true, hsts_enabled: true, secure_cookie_enabled: true, http_to_https: true } }),
    app('System-L4-Application', 'L4'),
    app('System-SSL-Application', 'SSL'),
    app('System-DNS', 'DNS', { dns_service_profile: {} }),
    app('System-Syslog', 'SYSLOG'),
    net('System-TCP-Proxy', 'TCP_PROXY', { tcp_proxy_profile: {} }),
    net('System-TCP-Fast-Path', 'TCP_FAST_PATH', { tcp_fast_path_profile: {} }),
    net('System-UDP-Fast-Path', 'UDP_FAST_PATH', { udp_fast_path_profile: {} }),
    net('System-UDP-Per-Pkt', 'UDP_FAST_PATH', { udp_fast_path_profile: { per_pkt_loadbalance: true } }),
    net('System-UDP-Proxy', 'UDP_PROXY', { udp_proxy_profile: {} }),
    net('System-SCTP-Proxy', 'SCTP_PROXY'),
    hm('System-TCP', 'TCP', { tcp_monitor: {} }),
    hm('System-UDP', 'UDP', { udp_monitor: {} }),
    hm('System-SCTP', 'SCTP'),
    hm('System-Ping', 'PING'),
    hm('System-HTTP', 'HTTP', { http_monitor: { http_response_code: ['HTTP_2XX', 'HTTP_3XX'] } }),
    hm('System-HTTPS', 'HTTPS', { https_monitor: { http_response_code: ['HTTP_2XX', 'HTTP_3XX'] } }),
    hm('System-DNS', 'DNS', { dns_monitor: { query_name: 'www.google.com' } }),
    ['sslprofile', { name: 'System-Standard', accepted_versions: [{ type: 'SSL_VERSION_TLS1_2' }, { type: 'SSL_VERSION_TLS1_3' }] }],
    ['sslprofile', { name: 'System-Standard-PFS', accepted_versions: [{ type: 'SSL_VERSION_TLS1_2' }, { type: 'SSL_VERSION_TLS1_3' }] }],
    ['sslprofile', { name: 'System-High', accepted_versions: [{ type: 'SSL_VERSION_TLS1_3' }] }],
    ['applicationpersistenceprofile', { name: 'System-Persistence-Client-IP', persistence_type: 'PERSISTENCE_TYPE_CLIENT_IP_ADDRESS', ip_persistence_profile: {} }],
    ['applicationpersistenceprofile', { name: 'System-Persistence-Http-Cookie', persistence_type: 'PERSISTENCE_TYPE_HTTP_COOKIE', http_cookie_persistence_profile: {} }],
    ['analyticsprofile', { name: 'System-Analytics-Profile' }],
  ];
}

function certObject(name: string, keyType: 'rsa' | 'ec'): Record<string, unknown> {
  const { cert, key } = selfSigned({ commonName: 'System Default Cert', altNames: ['localhost'], organization: 'Portico', keyType });
  return { name, type: 'SSL_CERTIFICATE_TYPE_SYSTEM', certificate: { certificate: cert }, key };
}

function localObjects(vipCidr: string): Array<[string, Record<string, unknown>]> {
  const p = parseCidr(vipCidr);
  if (!p) throw badRequest(`vipCidr: ${vipCidr} is not a CIDR prefix`);
  const [first, last] = hostRange(p);
  const t = p.family === 4 ? 'V4' : 'V6';
  const ip = (value: bigint) => ({ type: t, addr: formatAddr({ family: p.family, value }) });
  return [
    ['network', {
      name: 'local-vip', cloud_ref: cloud, vrf_context_ref: '/api/vrfcontext?name=global', dhcp_enabled: false,
      configured_subnets: [{ prefix: { ip_addr: ip(p.base), mask: p.mask }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: ip(first), end: ip(last) } }] }],
    }],
    ['ipamdnsproviderprofile', { name: 'local-ipam', type: 'IPAMDNS_TYPE_INTERNAL', internal_profile: { usable_networks: [{ nw_ref: '/api/network?name=local-vip' }] } }],
    ['ipamdnsproviderprofile', { name: 'local-dns', type: 'IPAMDNS_TYPE_INTERNAL_DNS', internal_profile: { dns_service_domain: [{ domain_name: 'portico.local', pass_through: true }], ttl: 30 } }],
    ['vsvip', {
      name: 'local-dns-vs', cloud_ref: cloud,
      vip: [{ vip_id: '0', auto_allocate_ip: false, ip_address: ip(first), ipam_network_subnet: { network_ref: '/api/network?name=local-vip' } }],
    }],
    ['virtualservice', {
      name: 'local-dns-vs', cloud_ref: cloud, vsvip_ref: '/api/vsvip?name=local-dns-vs',
      application_profile_ref: '/api/applicationprofile?name=System-DNS', network_profile_ref: '/api/networkprofile?name=System-UDP-Fast-Path',
      services: [{ port: 53 }, { port: 53, override_network_profile_ref: '/api/networkprofile?name=System-TCP-Proxy' }],
    }],
  ];
}

export interface SeedResult { generatedPassword?: string }

/** Creates whatever of the system objects is missing. */
export async function seed(store: Store, objects: ObjectService, o: { dataDir: string; vipCidr?: string; adminPassword?: string }): Promise<SeedResult> {
  const exists = async (type: string, name: string) => (await store.byName(type, ADMIN, name)).length > 0;
  const ensure = async (type: string, body: Record<string, unknown>) => {
    if (!(await exists(type, body.name as string))) await objects.create(type, body, SYSTEM);
  };
  if (!(await store.get(ADMIN))) await objects.create('tenant', { uuid: ADMIN, name: 'admin', description: 'the provider tenant' }, SYSTEM);
  for (const [type, body] of systemObjects()) await ensure(type, body);
  if (!(await exists('sslkeyandcertificate', 'System-Default-Cert'))) await ensure('sslkeyandcertificate', certObject('System-Default-Cert', 'rsa'));
  if (!(await exists('sslkeyandcertificate', 'System-Default-Cert-EC'))) await ensure('sslkeyandcertificate', certObject('System-Default-Cert-EC', 'ec'));
  const local = localObjects(o.vipCidr ?? DEFAULT_VIP_CIDR);
  for (const [type, body] of local.slice(0, 3)) await ensure(type, body);
  const c = (await store.byName('cloud', ADMIN, 'Default-Cloud'))[0]!;
  if (!c.body.ipam_provider_ref || !c.body.dns_provider_ref) {
    await objects.replace('cloud', c.uuid, {
      ...c.body,
      ipam_provider_ref: c.body.ipam_provider_ref ?? '/api/ipamdnsproviderprofile?name=local-ipam',
      dns_provider_ref: c.body.dns_provider_ref ?? '/api/ipamdnsproviderprofile?name=local-dns',
    }, SYSTEM);
  }
  for (const [type, body] of local.slice(3)) await ensure(type, body);
  if (!(await exists('cluster', 'cluster-0-1'))) await ensure('cluster', { name: 'cluster-0-1', nodes: [{ name: 'node-1' }] });
  await ensure('systemconfiguration', { name: 'default' });
  const result: SeedResult = {};
  if (!(await exists('user', 'admin'))) {
    let password = o.adminPassword;
    if (!password) {
      password = randomBytes(12).toString('base64url');
      writeFileSync(join(o.dataDir, 'admin-password'), `${password}\n`, { mode: 0o600 });
      result.generatedPassword = password;
    }
    await objects.create('user', { name: 'admin', password, is_superuser: true, full_name: 'Administrator', default_tenant_ref: '/api/tenant/admin' }, SYSTEM);
  }
  return result;
}
