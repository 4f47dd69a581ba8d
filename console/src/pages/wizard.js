// The virtual service wizard. Basic: name, VIP (auto from a network's static pool, or a static
// address), port, pool servers. Advanced: SE group, VRF, profiles, monitors, certificates,
// policies. Creates vsvip → pool → virtual service; if a step is refused, what was created is
// removed again and the controller's message is shown next to the field it is about.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, del, post } from '../api.js';
import { ipCodec } from '../codecs.js';
import { fieldForMessage } from '../errors.js';
import { navigate } from '../hooks.js';
import { useRefOptions } from '../refoptions.js';
import { Field } from '../ui/fields.js';
import { PageHead } from '../ui/common.js';

const APP_TYPES = {
  http: { label: 'HTTP (L7)', app: 'System-HTTP', net: 'System-TCP-Proxy', port: 80, monitor: 'System-TCP' },
  https: { label: 'HTTPS (L7, TLS)', app: 'System-Secure-HTTP', net: 'System-TCP-Proxy', port: 443, ssl: true, monitor: 'System-TCP' },
  tcp: { label: 'L4 TCP', app: 'System-L4-Application', net: 'System-TCP-Proxy', port: 80, monitor: 'System-TCP' },
  udp: { label: 'L4 UDP', app: 'System-L4-Application', net: 'System-UDP-Fast-Path', port: 53, monitor: 'System-UDP' },
  dns: { label: 'DNS', app: 'System-DNS', net: 'System-UDP-Fast-Path', port: 53, monitor: 'System-UDP' },
};

const F = {
  name: { key: 'name', label: 'Name', required: true, aliases: ['already exists'] },
  appType: { key: 'app_type', label: 'Application type', type: 'select', required: true, options: Object.keys(APP_TYPES), optionLabel: (k) => APP_TYPES[k].label },
  vipMode: { key: 'vip_mode', label: 'VIP address', type: 'select', required: true, options: ['auto', 'static'], optionLabel: (k) => (k === 'auto' ? 'Auto-allocate from a network' : 'Static address') },
  network: { key: 'network_ref', label: 'VIP network', type: 'ref', refType: 'network', help: "Leave empty to use the first usable network of the cloud's IPAM profile.",
    aliases: ['network', 'ipam_network_subnet', 'network_ref', 'No available free IPs', 'usable'] },
  staticIp: { key: 'static_ip', label: 'Static VIP address', placeholder: '10.22.13.65', when: (d) => d.vip_mode === 'static', aliases: ['ip_address', 'addr', 'vip'] },
  fqdn: { key: 'fqdn', label: 'FQDN (optional)', placeholder: 'app.avi.internal', aliases: ['dns_info', 'fqdn', 'domain'] },
  port: { key: 'port', label: 'Service port', type: 'number', required: true, min: 1, max: 65535, aliases: ['services', 'port'] },
  servers: { key: 'servers', label: 'Pool servers', type: 'rows', itemLabel: 'Server', wide: true, newRow: () => ({}),
    fields: [{ key: 'ip', label: 'IP address', type: 'codec', codec: ipCodec, placeholder: '10.244.1.5', required: true },
      { key: 'port', label: 'Port', type: 'number', min: 1, max: 65535 }],
    aliases: ['servers', 'server', 'ip', 'default_server_port'] },
  seGroup: { key: 'se_group_ref', label: 'SE group', type: 'ref', refType: 'serviceenginegroup', aliases: ['se_group', 'serviceenginegroup'] },
  vrf: { key: 'vrf_context_ref', label: 'VRF context', type: 'ref', refType: 'vrfcontext', aliases: ['vrf', 'vrfcontext', 'VrfContext'] },
  appProfile: { key: 'application_profile_ref', label: 'Application profile (overrides the type)', type: 'ref', refType: 'applicationprofile', aliases: ['application_profile'] },
  netProfile: { key: 'network_profile_ref', label: 'Network profile (overrides the type)', type: 'ref', refType: 'networkprofile', aliases: ['network_profile'] },
  monitors: { key: 'health_monitor_refs', label: 'Health monitors', type: 'refs', refType: 'healthmonitor', aliases: ['health_monitor', 'healthmonitor'] },
  lb: { key: 'lb_algorithm', label: 'Load balancing', type: 'select', options: ['LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_ROUND_ROBIN', 'LB_ALGORITHM_CONSISTENT_HASH'], aliases: ['lb_algorithm'] },
  certs: { key: 'ssl_key_and_certificate_refs', label: 'SSL certificates', type: 'refs', refType: 'sslkeyandcertificate', aliases: ['ssl_key_and_certificate', 'certificate', 'enable_ssl'] },
  sslProfile: { key: 'ssl_profile_ref', label: 'SSL profile', type: 'ref', refType: 'sslprofile', aliases: ['ssl_profile'] },
  policy: { key: 'http_policy_set_ref', label: 'HTTP policy set', type: 'ref', refType: 'httppolicyset', aliases: ['http_policies', 'http_policy_set', 'httppolicyset'] },
};
const BASIC = [F.name, F.appType, F.vipMode, F.network, F.staticIp, F.fqdn, F.port, F.servers];
const ADVANCED = [F.seGroup, F.vrf, F.appProfile, F.netProfile, F.monitors, F.lb, F.certs, F.sslProfile, F.policy];
// Which wizard fields a refusal of each created object can be about (plus the name, always).
const STEP_FIELDS = {
  vsvip: [F.name, F.network, F.staticIp, F.fqdn, F.vrf],
  pool: [F.name, F.servers, F.monitors, F.lb, F.vrf],
  virtualservice: [F.name, F.port, F.seGroup, F.vrf, F.appProfile, F.netProfile, F.certs, F.sslProfile, F.policy],
};

function vsvipBody(d) {
  const vip = { vip_id: '0', auto_allocate_ip: d.vip_mode !== 'static' };
  if (d.vip_mode === 'static') vip.ip_address = ipCodec.fromText(d.static_ip ?? '') ?? { addr: '', type: 'V4' };
  if (d.network_ref) vip.ipam_network_subnet = { network_ref: d.network_ref };
  const body = { name: d.name, vip: [vip] };
  if (d.fqdn) body.dns_info = [{ fqdn: d.fqdn.trim() }];
  if (d.vrf_context_ref) body.vrf_context_ref = d.vrf_context_ref;
  return body;
}

function poolBody(d, t) {
  const body = {
    name: `${d.name}-pool`,
    default_server_port: d.port ?? t.port,
    servers: (d.servers ?? []).map((s) => (s.port ? { ip: s.ip, port: s.port } : { ip: s.ip })),
    health_monitor_refs: d.health_monitor_refs?.length ? d.health_monitor_refs : [`/api/healthmonitor?name=${t.monitor}`],
  };
  if (d.lb_algorithm) body.lb_algorithm = d.lb_algorithm;
  if (d.vrf_context_ref) body.vrf_ref = d.vrf_context_ref;
  return body;
}

function vsBody(d, t, vsvipUuid, poolUuid) {
  const body = {
    name: d.name,
    enabled: true,
    vsvip_ref: `/api/vsvip/${vsvipUuid}`,
    services: [{ port: d.port ?? t.port, enable_ssl: Boolean(t.ssl) }],
    application_profile_ref: d.application_profile_ref ?? `/api/applicationprofile?name=${t.app}`,
    network_profile_ref: d.network_profile_ref ?? `/api/networkprofile?name=${t.net}`,
  };
  if (poolUuid) body.pool_ref = `/api/pool/${poolUuid}`;
  if (d.se_group_ref) body.se_group_ref = d.se_group_ref;
  if (d.vrf_context_ref) body.vrf_context_ref = d.vrf_context_ref;
  if (d.ssl_key_and_certificate_refs?.length) body.ssl_key_and_certificate_refs = d.ssl_key_and_certificate_refs;
  if (d.ssl_profile_ref) body.ssl_profile_ref = d.ssl_profile_ref;
  if (d.http_policy_set_ref) body.http_policies = [{ index: 11, http_policy_set_ref: d.http_policy_set_ref }];
  return body;
}

export function WizardPage() {
  const [d, setD] = useState({ app_type: 'http', vip_mode: 'auto', port: 80, servers: [{}] });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState('');
  const options = useRefOptions([...BASIC, ...ADVANCED]);
  const t = APP_TYPES[d.app_type] ?? APP_TYPES.http;

  const setDraft = (next) => {
    // Switching the application type moves the port to that type's usual one, unless typed.
    if (next.app_type !== d.app_type && d.port === APP_TYPES[d.app_type]?.port) next = { ...next, port: APP_TYPES[next.app_type].port };
    setD(next);
  };

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const created = [];
    let step = 'vsvip';
    try {
      if (!d.name?.trim()) throw new ApiError(400, 'name: a virtual service needs a name', 'wizard');
      setProgress('Allocating the VIP…');
      const vsvip = await post('/api/vsvip', vsvipBody(d));
      created.push(`/api/vsvip/${vsvip.uuid}`);
      let poolUuid = null;
      if ((d.servers ?? []).some((s) => s.ip)) {
        step = 'pool';
        setProgress('Creating the pool…');
        const pool = await post('/api/pool', poolBody({ ...d, servers: d.servers.filter((s) => s.ip) }, t));
        created.push(`/api/pool/${pool.uuid}`);
        poolUuid = pool.uuid;
      }
      step = 'virtualservice';
      setProgress('Creating the virtual service…');
      const vs = await post('/api/virtualservice', vsBody(d, t, vsvip.uuid, poolUuid));
      navigate(`/vs/${vs.uuid}`);
    } catch (err) {
      for (const path of created.reverse()) await del(path).catch(() => {});
      const message = err.message ?? String(err);
      const spec = fieldForMessage(message, STEP_FIELDS[step]);
      setError({ message, key: spec?.key ?? null, step });
    } finally {
      setBusy(false);
      setProgress('');
    }
  };

  const errorFor = (loc) => (error && error.key === loc ? error.message : null);
  const advancedError = error?.key && ADVANCED.some((s) => s.key === error.key);
  return html`<div>
    <${PageHead} title="Create virtual service"/>
    <form class="card object-form wizard" onSubmit=${submit} noValidate aria-label="Create virtual service">
      ${error && !error.key ? html`<p class="field-error form-error" role="alert">${error.message}</p>` : null}
      <fieldset class="wizard-step"><legend>Basic</legend>
        <div class="fields">${BASIC.map((f) => html`<${Field} spec=${f} obj=${d} onObj=${setDraft} options=${options} errorFor=${errorFor} idPrefix="wz"/>`)}</div>
      </fieldset>
      <details class="wizard-step" open=${advancedError}>
        <summary>Advanced</summary>
        <div class="fields">${ADVANCED.map((f) => html`<${Field} spec=${f} obj=${d} onObj=${setDraft} options=${options} errorFor=${errorFor} idPrefix="wz"/>`)}</div>
      </details>
      <p class="muted small">Creates VS VIP <code>${d.name || '…'}</code>, pool <code>${d.name || '…'}-pool</code> (${t.monitor} monitor unless chosen) and the virtual service with ${t.app} / ${t.net}.</p>
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Creating…' : 'Create virtual service'}</button>
        <a class="button secondary" href="#/">Cancel</a>
        <span role="status" class="muted">${progress}</span>
      </div>
    </form>
  </div>`;
}
