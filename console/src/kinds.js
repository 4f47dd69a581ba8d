// Every object type the console lists, creates and edits: its place in the menu, its list
// columns and its form fields. Field keys are the API's own field paths (avi-api.md §2).
import { html } from 'htm/preact';
import { ipCodec, prefixCodec, labelsCodec, markersCodec, linesCodec, jsonCodec } from './codecs.js';
import { refName } from './refs.js';
import { prefixText, portsText, fmtDate } from './format.js';
import { ExpiryBadge, StatusBadge } from './ui/status.js';
import { Markers } from './ui/common.js';

const text = (key, label, extra = {}) => ({ key, label, ...extra });
const num = (key, label, extra = {}) => ({ key, label, type: 'number', ...extra });
const bool = (key, label, extra = {}) => ({ key, label, type: 'bool', ...extra });
const select = (key, label, options, extra = {}) => ({ key, label, type: 'select', options, ...extra });
const ref = (key, label, refType, extra = {}) => ({ key, label, type: 'ref', refType, ...extra });
const refs = (key, label, refType, extra = {}) => ({ key, label, type: 'refs', refType, ...extra });
const codec = (key, label, c, extra = {}) => ({ key, label, type: 'codec', codec: c, ...extra });
const rows = (key, label, itemLabel, fields, extra = {}) => ({ key, label, type: 'rows', itemLabel, fields, wide: true, ...extra });

const name = text('name', 'Name', { required: true, aliases: ['already exists', 'Name'] });
const cloud = ref('cloud_ref', 'Cloud', 'cloud');
const markers = codec('markers', 'Markers', markersCodec, { multiline: true, rows: 2, placeholder: 'clustername=my-cluster', help: 'One key=value1,value2 per line.', wide: true });

const refCol = (label, key) => ({ label, render: (o) => refName(o[key]) || html`<span class="muted">–</span>` });
const nameCol = { label: 'Name', render: (o, ctx) => html`<a href=${ctx.editHref(o)}>${o.name}</a>` };
const markersCol = { label: 'Markers', render: (o) => html`<${Markers} markers=${o.markers} createdBy=${o.created_by}/>` };

const ipRange = (r) => `${r.range?.begin?.addr ?? '?'}–${r.range?.end?.addr ?? '?'}`;

/** A cloud's own state when the controller reports one; otherwise whether VIPs can be allocated. */
function cloudStatus(o) {
  const state = o.oper_status?.state ?? o.state;
  if (state) return html`<${StatusBadge} state=${state} reason=${o.oper_status?.reason}/>`;
  return o.ipam_provider_ref
    ? html`<span class="badge tone-good"><span class="dot" aria-hidden="true"></span>IPAM ready${o.dns_provider_ref ? ', DNS ready' : ''}</span>`
    : html`<span class="badge tone-warn" title="Virtual services need an explicit VIP network"><span class="dot" aria-hidden="true"></span>No IPAM profile</span>`;
}

/** What the controller parsed from a certificate, shown above its form. */
function certSummary(o) {
  const c = o.certificate ?? {};
  if (!c.subject && !c.not_after) return null;
  return html`<dl class="facts">
    <div><dt>Subject</dt><dd>${c.subject?.common_name ?? c.subject?.distinguished_name ?? '–'}</dd></div>
    <div><dt>Issuer</dt><dd>${c.issuer?.common_name ?? '–'}${c.self_signed ? ' (self-signed)' : ''}</dd></div>
    <div><dt>SANs</dt><dd>${(c.subject_alt_names ?? []).join(', ') || '–'}</dd></div>
    <div><dt>Valid</dt><dd>${fmtDate(c.not_before)} → ${fmtDate(c.not_after)} <${ExpiryBadge} cert=${o}/></dd></div>
    <div><dt>Fingerprint</dt><dd class="small">${c.fingerprint ?? '–'}</dd></div>
  </dl>`;
}

export const KINDS = {
  cloud: {
    title: 'Clouds', one: 'Cloud', section: 'infrastructure',
    fields: [
      name,
      select('vtype', 'Type', ['CLOUD_NONE', 'CLOUD_LINUXSERVER', 'CLOUD_VCENTER', 'CLOUD_NSXT', 'CLOUD_AWS', 'CLOUD_AZURE', 'CLOUD_GCP', 'CLOUD_OPENSTACK']),
      ref('ipam_provider_ref', 'IPAM profile', 'ipamdnsproviderprofile'),
      ref('dns_provider_ref', 'DNS profile', 'ipamdnsproviderprofile'),
      bool('dhcp_enabled', 'DHCP enabled'),
      num('mtu', 'MTU', { min: 68, max: 9000 }),
    ],
    columns: [nameCol, { label: 'Type', render: (o) => o.vtype ?? '–' },
      refCol('IPAM profile', 'ipam_provider_ref'), refCol('DNS profile', 'dns_provider_ref'),
      { label: 'Status', render: cloudStatus }],
  },
  network: {
    title: 'Networks', one: 'Network', section: 'infrastructure',
    fields: [
      name, cloud, ref('vrf_context_ref', 'VRF context', 'vrfcontext'),
      rows('configured_subnets', 'Subnets', 'Subnet', [
        codec('prefix', 'Prefix (CIDR)', prefixCodec, { placeholder: '10.22.13.0/24', required: true }),
        rows('static_ip_ranges', 'Static IP ranges', 'Range', [
          codec('range.begin', 'First address', ipCodec, { placeholder: '10.22.13.61' }),
          codec('range.end', 'Last address', ipCodec, { placeholder: '10.22.13.70' }),
          select('type', 'Used for', ['STATIC_IPS_FOR_VIP', 'STATIC_IPS_FOR_SE', 'STATIC_IPS_FOR_VIP_AND_SE']),
        ], { newRow: () => ({ type: 'STATIC_IPS_FOR_VIP' }) }),
      ], { aliases: ['static_ip_ranges', 'prefix', 'subnet', 'range'] }),
      bool('dhcp_enabled', 'DHCP enabled', { default: true }),
      markers,
    ],
    columns: [nameCol, refCol('Cloud', 'cloud_ref'), refCol('VRF', 'vrf_context_ref'),
      { label: 'Subnets', render: (o) => (o.configured_subnets ?? []).map((s) => prefixText(s.prefix)).join(', ') || '–' },
      { label: 'Static ranges', render: (o) => (o.configured_subnets ?? []).flatMap((s) => s.static_ip_ranges ?? []).map(ipRange).join(', ') || '–' },
      { label: 'Used / free', render: (o, ctx) => ctx.usage?.(o) ?? '–' },
      markersCol],
  },
  vrfcontext: {
    title: 'VRF Contexts', one: 'VRF context', section: 'infrastructure',
    fields: [
      name, cloud,
      rows('static_routes', 'Static routes', 'Route', [
        text('route_id', 'Route ID', { required: true }),
        codec('prefix', 'Prefix (CIDR)', prefixCodec, { placeholder: '10.244.1.0/24' }),
        codec('next_hop', 'Next hop', ipCodec, { placeholder: '10.22.13.11' }),
      ]),
      markers,
    ],
    columns: [nameCol, refCol('Cloud', 'cloud_ref'),
      { label: 'Static routes', render: (o) => String((o.static_routes ?? []).length) },
      { label: 'System', render: (o) => (o.system_default ? 'yes' : '') }, markersCol],
  },
  serviceenginegroup: {
    title: 'Service Engine Groups', one: 'SE group', section: 'infrastructure',
    fields: [
      name, cloud,
      text('se_name_prefix', 'SE name prefix', { placeholder: 'Avi' }),
      select('ha_mode', 'HA mode', ['HA_MODE_SHARED', 'HA_MODE_SHARED_PAIR', 'HA_MODE_LEGACY_ACTIVE_STANDBY']),
      select('algo', 'Placement', ['PLACEMENT_ALGO_PACKED', 'PLACEMENT_ALGO_DISTRIBUTED']),
      num('max_se', 'Max SEs', { min: 0 }),
      num('buffer_se', 'Buffer SEs', { min: 0 }),
      num('max_vs_per_se', 'Max VSes per SE', { min: 1 }),
      num('min_scaleout_per_vs', 'Min scale-out per VS', { min: 1 }),
      num('max_scaleout_per_vs', 'Max scale-out per VS', { min: 1 }),
      bool('realtime_se_metrics.enabled', 'Real-time SE metrics'),
      num('realtime_se_metrics.duration', 'Real-time metrics duration (min, 0 = forever)', { min: 0, when: (o) => o?.realtime_se_metrics?.enabled }),
      codec('labels', 'Labels', labelsCodec, { multiline: true, rows: 2, placeholder: 'clustername=my-cluster', help: 'One key=value per line.' }),
      markers,
    ],
    columns: [nameCol, refCol('Cloud', 'cloud_ref'), { label: 'Prefix', render: (o) => o.se_name_prefix ?? '–' },
      { label: 'HA mode', render: (o) => (o.ha_mode ?? '').replace('HA_MODE_', '') || '–' },
      { label: 'SEs (max / buffer)', render: (o) => `${o.max_se ?? '–'} / ${o.buffer_se ?? '–'}` },
      { label: 'VS per SE', render: (o) => o.max_vs_per_se ?? '–' },
      { label: 'Scale-out', render: (o) => `${o.min_scaleout_per_vs ?? '–'}–${o.max_scaleout_per_vs ?? '–'}` },
      { label: 'Labels', render: (o) => (o.labels ?? []).map((l) => `${l.key}=${l.value}`).join(', ') || '' }],
    rowActions: ['jointoken'],
  },
  serviceengine: {
    title: 'Service Engines', one: 'Service engine', section: 'infrastructure', readOnly: true,
    fields: [name, ref('se_group_ref', 'SE group', 'serviceenginegroup'),
      select('enable_state', 'Enable state', ['SE_STATE_ENABLED', 'SE_STATE_DISABLED_FOR_PLACEMENT', 'SE_STATE_DISABLED', 'SE_STATE_DISABLED_FORCE'])],
    custom: 'serviceengines',
  },
  ipamdnsproviderprofile: {
    title: 'IPAM/DNS Profiles', one: 'IPAM/DNS profile', section: 'templates',
    fields: [
      name,
      select('type', 'Type', ['IPAMDNS_TYPE_INTERNAL', 'IPAMDNS_TYPE_INTERNAL_DNS'], { required: true,
        optionLabel: (o) => (o === 'IPAMDNS_TYPE_INTERNAL' ? 'Avi Vantage IPAM (internal)' : 'Avi Vantage DNS (internal)') }),
      refs('internal_profile.usable_networks', 'Usable networks', 'network', { itemKey: 'nw_ref', when: (o) => o?.type !== 'IPAMDNS_TYPE_INTERNAL_DNS', aliases: ['usable_networks', 'nw_ref'] }),
      bool('allocate_ip_in_vrf', 'Allocate IP in VRF', { when: (o) => o?.type !== 'IPAMDNS_TYPE_INTERNAL_DNS' }),
      rows('internal_profile.dns_service_domain', 'DNS service domains', 'Domain', [
        text('domain_name', 'Domain name', { required: true, placeholder: 'avi.internal' }),
        num('record_ttl', 'Record TTL (s)', { min: 1 }),
      ], { when: (o) => o?.type === 'IPAMDNS_TYPE_INTERNAL_DNS', aliases: ['dns_service_domain', 'domain_name'] }),
      num('internal_profile.ttl', 'Default TTL (s)', { min: 1, when: (o) => o?.type === 'IPAMDNS_TYPE_INTERNAL_DNS' }),
      markers,
    ],
    defaults: () => ({ type: 'IPAMDNS_TYPE_INTERNAL' }),
    columns: [nameCol, { label: 'Type', render: (o) => (o.type ?? '').replace('IPAMDNS_TYPE_', '') },
      { label: 'Usable networks', render: (o) => (o.internal_profile?.usable_networks ?? []).map((n) => refName(n.nw_ref)).join(', ') || '–' },
      { label: 'Domains', render: (o) => (o.internal_profile?.dns_service_domain ?? []).map((d) => d.domain_name).join(', ') || '–' },
      { label: 'In VRF', render: (o) => (o.allocate_ip_in_vrf ? 'yes' : '') }],
  },
  applicationprofile: {
    title: 'Application Profiles', one: 'Application profile', section: 'templates',
    fields: [
      name,
      select('type', 'Type', ['APPLICATION_PROFILE_TYPE_HTTP', 'APPLICATION_PROFILE_TYPE_L4', 'APPLICATION_PROFILE_TYPE_SSL', 'APPLICATION_PROFILE_TYPE_DNS', 'APPLICATION_PROFILE_TYPE_SYSLOG'], { required: true }),
      bool('http_profile.connection_multiplexing_enabled', 'Connection multiplexing', { when: (o) => o?.type === 'APPLICATION_PROFILE_TYPE_HTTP', default: true }),
      bool('http_profile.xff_enabled', 'Add X-Forwarded-For', { when: (o) => o?.type === 'APPLICATION_PROFILE_TYPE_HTTP', default: true }),
      bool('http_profile.websockets_enabled', 'WebSockets', { when: (o) => o?.type === 'APPLICATION_PROFILE_TYPE_HTTP', default: true }),
      bool('http_profile.http_to_https', 'Redirect HTTP to HTTPS', { when: (o) => o?.type === 'APPLICATION_PROFILE_TYPE_HTTP' }),
      num('http_profile.keepalive_timeout', 'Keep-alive timeout (ms)', { min: 0, when: (o) => o?.type === 'APPLICATION_PROFILE_TYPE_HTTP' }),
      bool('preserve_client_ip', 'Preserve client IP'),
      markers,
    ],
    defaults: () => ({ type: 'APPLICATION_PROFILE_TYPE_HTTP' }),
    columns: [nameCol, { label: 'Type', render: (o) => (o.type ?? '').replace('APPLICATION_PROFILE_TYPE_', '') }, markersCol],
  },
  networkprofile: {
    title: 'Network Profiles', one: 'Network profile', section: 'templates',
    fields: [name, select('profile.type', 'Protocol', ['PROTOCOL_TYPE_TCP_PROXY', 'PROTOCOL_TYPE_TCP_FAST_PATH', 'PROTOCOL_TYPE_UDP_FAST_PATH', 'PROTOCOL_TYPE_UDP_PROXY'], { required: true }), markers],
    defaults: () => ({ profile: { type: 'PROTOCOL_TYPE_TCP_PROXY' } }),
    columns: [nameCol, { label: 'Protocol', render: (o) => (o.profile?.type ?? '').replace('PROTOCOL_TYPE_', '') }, markersCol],
  },
  healthmonitor: {
    title: 'Health Monitors', one: 'Health monitor', section: 'templates',
    fields: [
      name,
      select('type', 'Type', ['HEALTH_MONITOR_TCP', 'HEALTH_MONITOR_HTTP', 'HEALTH_MONITOR_HTTPS', 'HEALTH_MONITOR_UDP', 'HEALTH_MONITOR_DNS', 'HEALTH_MONITOR_PING'], { required: true }),
      num('send_interval', 'Send interval (s)', { min: 1, max: 3600 }),
      num('receive_timeout', 'Receive timeout (s)', { min: 1, max: 2400 }),
      num('successful_checks', 'Successful checks', { min: 1, max: 50 }),
      num('failed_checks', 'Failed checks', { min: 1, max: 50 }),
      num('monitor_port', 'Monitor port', { min: 1, max: 65535 }),
      text('http_monitor.http_request', 'HTTP request', { placeholder: 'GET / HTTP/1.0', when: (o) => o?.type === 'HEALTH_MONITOR_HTTP' }),
      refsOfCodes('http_monitor.http_response_code', (o) => o?.type === 'HEALTH_MONITOR_HTTP'),
      text('https_monitor.http_request', 'HTTPS request', { placeholder: 'GET / HTTP/1.0', when: (o) => o?.type === 'HEALTH_MONITOR_HTTPS' }),
      refsOfCodes('https_monitor.http_response_code', (o) => o?.type === 'HEALTH_MONITOR_HTTPS'),
      markers,
    ],
    defaults: () => ({ type: 'HEALTH_MONITOR_HTTP' }),
    columns: [nameCol, { label: 'Type', render: (o) => (o.type ?? '').replace('HEALTH_MONITOR_', '') },
      { label: 'Interval / timeout', render: (o) => `${o.send_interval ?? '–'}s / ${o.receive_timeout ?? '–'}s` },
      { label: 'Up / down after', render: (o) => `${o.successful_checks ?? '–'} / ${o.failed_checks ?? '–'}` }, markersCol],
  },
  sslkeyandcertificate: {
    title: 'SSL Certificates', one: 'SSL certificate', section: 'templates',
    fields: [
      name,
      select('type', 'Type', ['SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', 'SSL_CERTIFICATE_TYPE_CA', 'SSL_CERTIFICATE_TYPE_SYSTEM'], { required: true }),
      { key: 'certificate.certificate', label: 'Certificate (PEM)', type: 'textarea', rows: 8, wide: true, required: true,
        placeholder: '-----BEGIN CERTIFICATE-----', aliases: ['certificate', 'Import error', 'common_name'] },
      { key: 'key', label: 'Private key (PEM)', type: 'secret', rows: 6, wide: true,
        placeholder: 'PEM: -----BEGIN … KEY-----', help: 'Write-only: the controller never shows it again. Leave empty to keep the stored key.' },
      markers,
    ],
    defaults: () => ({ type: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE' }),
    summary: certSummary,
    columns: [nameCol,
      { label: 'Subject', render: (o) => o.certificate?.subject?.common_name ?? '–' },
      { label: 'SANs', render: (o) => (o.certificate?.subject_alt_names ?? []).join(', ') || '–' },
      { label: 'Issuer', render: (o) => o.certificate?.issuer?.common_name ?? '–' },
      { label: 'Expires', render: (o) => html`${fmtDate(o.certificate?.not_after)} <${ExpiryBadge} cert=${o}/>` },
      markersCol],
  },
  sslprofile: {
    title: 'SSL Profiles', one: 'SSL profile', section: 'templates',
    fields: [
      name,
      { key: 'accepted_versions', label: 'Accepted TLS versions', type: 'codec', codec: {
        toText: (v) => (v ?? []).map((x) => x.type).join('\n'),
        fromText: (s) => s.split('\n').map((x) => x.trim()).filter(Boolean).map((type) => ({ type })),
      }, multiline: true, rows: 3, placeholder: 'SSL_VERSION_TLS1_2\nSSL_VERSION_TLS1_3', help: 'One version per line.' },
      text('accepted_ciphers', 'Accepted ciphers (OpenSSL list)', { wide: true }),
      num('ssl_session_timeout', 'Session timeout (s)', { min: 0 }),
    ],
    columns: [nameCol, { label: 'Versions', render: (o) => (o.accepted_versions ?? []).map((v) => v.type.replace('SSL_VERSION_', '')).join(', ') || '–' }],
  },
  pool: {
    title: 'Pools', one: 'Pool', section: 'applications',
    fields: [
      name, cloud,
      num('default_server_port', 'Default server port', { min: 1, max: 65535 }),
      select('lb_algorithm', 'Load balancing', ['LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_ROUND_ROBIN', 'LB_ALGORITHM_CONSISTENT_HASH']),
      select('lb_algorithm_hash', 'Hash key', ['LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS', 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT', 'LB_ALGORITHM_CONSISTENT_HASH_URI'],
        { when: (o) => o?.lb_algorithm === 'LB_ALGORITHM_CONSISTENT_HASH' }),
      refs('health_monitor_refs', 'Health monitors', 'healthmonitor'),
      ref('application_persistence_profile_ref', 'Persistence profile', 'applicationpersistenceprofile'),
      rows('servers', 'Servers', 'Server', [
        codec('ip', 'IP address', ipCodec, { required: true, placeholder: '10.244.1.5' }),
        num('port', 'Port', { min: 1, max: 65535 }),
        num('ratio', 'Ratio', { min: 1, max: 20 }),
        bool('enabled', 'Enabled', { default: true }),
      ], { newRow: () => ({ enabled: true }), aliases: ['server', 'ip', 'port'] }),
      markers,
    ],
    columns: [nameCol, { label: 'Servers', render: (o) => (o.servers ?? []).map((s) => `${s.ip?.addr}:${s.port ?? o.default_server_port ?? ''}`).join(', ') || '–' },
      { label: 'Algorithm', render: (o) => (o.lb_algorithm ?? '').replace('LB_ALGORITHM_', '') || '–' }, markersCol],
  },
  poolgroup: {
    title: 'Pool Groups', one: 'Pool group', section: 'applications',
    fields: [name, cloud,
      rows('members', 'Members', 'Member', [ref('pool_ref', 'Pool', 'pool', { required: true }), num('ratio', 'Ratio', { min: 1, max: 1000 }), text('priority_label', 'Priority label')]),
      markers],
    columns: [nameCol, { label: 'Members', render: (o) => (o.members ?? []).map((m) => refName(m.pool_ref)).join(', ') || '–' }, markersCol],
  },
  vsvip: {
    title: 'VS VIPs', one: 'VS VIP', section: 'applications',
    fields: [
      name, cloud, ref('vrf_context_ref', 'VRF context', 'vrfcontext'),
      rows('vip', 'VIPs', 'VIP', [
        text('vip_id', 'VIP id', { placeholder: '0' }),
        bool('auto_allocate_ip', 'Allocate automatically'),
        codec('ip_address', 'Static address', ipCodec),
        ref('ipam_network_subnet.network_ref', 'Network', 'network'),
      ], { newRow: () => ({ vip_id: '0', auto_allocate_ip: true }), aliases: ['ip_address', 'ipam_network_subnet', 'No available free IPs'] }),
      rows('dns_info', 'DNS names', 'FQDN', [text('fqdn', 'FQDN', { placeholder: 'app.avi.internal' })], { aliases: ['fqdn'] }),
      markers,
    ],
    columns: [nameCol, { label: 'Addresses', render: (o) => (o.vip ?? []).map((v) => v.ip_address?.addr).filter(Boolean).join(', ') || '–' },
      { label: 'FQDNs', render: (o) => (o.dns_info ?? []).map((d) => d.fqdn).join(', ') || '–' }, markersCol],
  },
  virtualservice: {
    title: 'Virtual Services', one: 'Virtual service', section: 'applications',
    fields: [
      name, bool('enabled', 'Enabled', { default: true }),
      select('type', 'Type', ['VS_TYPE_NORMAL', 'VS_TYPE_VH_PARENT', 'VS_TYPE_VH_CHILD']),
      cloud, ref('vrf_context_ref', 'VRF context', 'vrfcontext'), ref('se_group_ref', 'SE group', 'serviceenginegroup'),
      ref('vsvip_ref', 'VS VIP', 'vsvip', { when: (o) => o?.type !== 'VS_TYPE_VH_CHILD' }),
      rows('services', 'Services (ports)', 'Service', [
        num('port', 'Port', { required: true, min: 0, max: 65535 }), num('port_range_end', 'Range end', { min: 0, max: 65535 }),
        bool('enable_ssl', 'TLS'), ref('override_network_profile_ref', 'Network profile override', 'networkprofile'),
      ], { when: (o) => o?.type !== 'VS_TYPE_VH_CHILD', aliases: ['port'] }),
      ref('vh_parent_vs_ref', 'Parent virtual service', 'virtualservice', { when: (o) => o?.type === 'VS_TYPE_VH_CHILD' }),
      codec('vh_domain_name', 'SNI domain names', linesCodec, { multiline: true, rows: 2, when: (o) => o?.type === 'VS_TYPE_VH_CHILD' }),
      ref('pool_ref', 'Pool', 'pool'), ref('pool_group_ref', 'Pool group', 'poolgroup'),
      ref('application_profile_ref', 'Application profile', 'applicationprofile'),
      ref('network_profile_ref', 'Network profile', 'networkprofile'),
      refs('ssl_key_and_certificate_refs', 'SSL certificates', 'sslkeyandcertificate'),
      ref('ssl_profile_ref', 'SSL profile', 'sslprofile'),
      rows('http_policies', 'HTTP policies', 'Policy', [num('index', 'Index', { required: true }), ref('http_policy_set_ref', 'Policy set', 'httppolicyset', { required: true })]),
      markers,
    ],
    defaults: () => ({ enabled: true, type: 'VS_TYPE_NORMAL', services: [{ port: 80 }] }),
    columns: [nameCol, { label: 'Type', render: (o) => (o.type ?? 'VS_TYPE_NORMAL').replace('VS_TYPE_', '') },
      { label: 'Ports', render: (o) => portsText(o.services, o.network_profile_ref) || '–' }, refCol('VS VIP', 'vsvip_ref'), refCol('Pool', 'pool_ref'),
      refCol('SE group', 'se_group_ref'), markersCol],
  },
  httppolicyset: {
    title: 'HTTP Policy Sets', one: 'HTTP policy set', section: 'templates',
    fields: [name,
      codec('http_request_policy', 'Request policy (JSON)', jsonCodec, { multiline: true, rows: 10, wide: true, placeholder: '{"rules": []}' }),
      codec('http_security_policy', 'Security policy (JSON)', jsonCodec, { multiline: true, rows: 4, wide: true }),
      markers],
    columns: [nameCol, { label: 'Request rules', render: (o) => String(o.http_request_policy?.rules?.length ?? 0) }, markersCol],
  },
  tenant: {
    title: 'Tenants', one: 'Tenant', section: 'administration',
    fields: [name, text('description', 'Description', { wide: true })],
    columns: [nameCol, { label: 'Description', render: (o) => o.description ?? '' }],
  },
};

function refsOfCodes(key, when) {
  return { key, label: 'Healthy response codes', type: 'codec', when, multiline: true, rows: 2, codec: linesCodec,
    placeholder: 'HTTP_2XX\nHTTP_3XX', help: 'One per line: HTTP_ANY, HTTP_1XX … HTTP_5XX.' };
}

/** `Network` → `network`, `SSL certificate` stays: for use inside a sentence. */
export function inSentence(one) {
  const first = one.split(' ')[0];
  return /^[A-Z0-9/]{2,}$/.test(first) ? one : one.charAt(0).toLowerCase() + one.slice(1);
}

export const SECTIONS = [
  { id: 'applications', title: 'Applications', kinds: ['virtualservice', 'pool', 'poolgroup', 'vsvip'] },
  { id: 'infrastructure', title: 'Infrastructure', kinds: ['cloud', 'network', 'vrfcontext', 'serviceenginegroup', 'serviceengine'] },
  { id: 'templates', title: 'Templates', kinds: ['ipamdnsproviderprofile', 'applicationprofile', 'networkprofile', 'healthmonitor', 'sslkeyandcertificate', 'sslprofile', 'httppolicyset'] },
  { id: 'administration', title: 'Administration', kinds: ['tenant'] },
];

