// One virtual service: its tree (parent, SNI children, pools, servers with health, policies,
// certificates), analytics charts, events and request logs. Refreshes live.
import { html } from 'htm/preact';
import { del, getObject, getOptional } from '../api.js';
import { navigate, usePoll } from '../hooks.js';
import { fmtBits, fmtRate, fmtTime, portsText } from '../format.js';
import { refName, refUuid } from '../refs.js';
import { loadEvents, loadRequestLogs, loadVsSeries, METRICS, nameUuids, poolHealth, seNames } from '../vsdata.js';
import { LineChart } from '../ui/charts.js';
import { ErrorBox, Loading, Markers, PageHead, Section, Unavailable } from '../ui/common.js';
import { ExpiryBadge, HealthScore, StatusBadge } from '../ui/status.js';

const safe = (p) => p.catch(() => null);

/** The VS runtime, with the health score from the inventory when the controller has one. */
async function loadRuntime(uuid) {
  const [rt, inv, health] = await Promise.all([
    getOptional(`/api/virtualservice/${uuid}/runtime`),
    getOptional(`/api/virtualservice-inventory/${uuid}`).catch(() => null),
    getOptional(`/api/analytics/healthscore/virtualservice/${uuid}`).catch(() => null),
  ]);
  if (!rt && !inv) return null;
  // The analytics health score carries the factors behind it; the inventory's is the fallback.
  return { ...inv?.runtime, ...rt, health_score: health?.health_score != null ? health : inv?.health_score ?? rt?.health_score };
}

async function loadVs(uuid) {
  const vs = await getObject('virtualservice', uuid);
  const poolRefs = new Set(vs.pool_ref ? [vs.pool_ref] : []);
  const pg = vs.pool_group_ref ? await safe(getObject('poolgroup', refUuid(vs.pool_group_ref))) : null;
  for (const m of pg?.members ?? []) poolRefs.add(m.pool_ref);
  const policies = (await Promise.all((vs.http_policies ?? []).map((p) => safe(getObject('httppolicyset', refUuid(p.http_policy_set_ref)))))).filter(Boolean);
  for (const p of policies) for (const r of p.http_request_policy?.rules ?? []) if (r.switching_action?.pool_ref) poolRefs.add(r.switching_action.pool_ref);
  const byUuid = new Map([...poolRefs].map((r) => [refUuid(r), r]));
  const [pools, certs, children, parent, vsvip, runtime, events, logs] = await Promise.all([
    Promise.all([...byUuid.keys()].map((u) => safe(getObject('pool', u)))),
    Promise.all((vs.ssl_key_and_certificate_refs ?? []).map((r) => safe(getObject('sslkeyandcertificate', refUuid(r))))),
    Promise.all((vs.vh_child_vs_uuid ?? []).map((u) => safe(getObject('virtualservice', refUuid(u))))),
    vs.vh_parent_vs_ref ? safe(getObject('virtualservice', refUuid(vs.vh_parent_vs_ref))) : null,
    vs.vsvip_ref ? safe(getObject('vsvip', refUuid(vs.vsvip_ref))) : null,
    safe(loadRuntime(uuid)),
    safe(loadEvents([uuid, ...byUuid.keys(), ...(vs.ssl_key_and_certificate_refs ?? []).map(refUuid)])),
    safe(loadRequestLogs(uuid)),
  ]);
  const metrics = await safe(loadVsSeries(uuid, runtime));
  return { vs, pg, policies, pools: pools.filter(Boolean), certs: certs.filter(Boolean), children: children.filter(Boolean), parent, vsvip, runtime, metrics, events, logs };
}

function ServerList({ pool, health }) {
  const h = health.pools.find((p) => p.uuid === pool.uuid || p.name === pool.name);
  const stateOf = (s) => h?.servers.find((x) => x.ip === s.ip?.addr && (x.port == null || x.port === (s.port ?? pool.default_server_port)));
  return html`<ul class="tree-servers">
    ${(pool.servers ?? []).map((s) => {
      const st = stateOf(s);
      const addr = `${s.ip?.addr}:${s.port ?? pool.default_server_port ?? 80}`;
      return html`<li data-server=${addr}>${addr} ${s.enabled === false ? html`<${StatusBadge} state="OPER_DISABLED"/>` : html`<${StatusBadge} state=${st?.state ?? 'UNKNOWN'} reason=${st?.reason}/>`}
        ${st?.reason ? html`<span class="muted small"> ${[].concat(st.reason).join('; ')}</span>` : null}</li>`;
    })}
    ${(pool.servers ?? []).length === 0 ? html`<li class="muted">No servers</li>` : null}
  </ul>`;
}

function Tree({ d, health }) {
  const { vs } = d;
  return html`<ul class="tree" aria-label="Configuration tree">
    ${d.parent ? html`<li><span class="tree-kind">Parent</span> <a href=${`#/vs/${d.parent.uuid}`}>${d.parent.name}</a></li>` : null}
    <li><span class="tree-kind">Virtual service</span> <strong>${vs.name}</strong>
      <ul>
        ${d.vsvip ? html`<li><span class="tree-kind">VIP</span> ${d.vsvip.name}: ${(d.vsvip.vip ?? []).map((v) => v.ip_address?.addr).filter(Boolean).join(', ') || 'not allocated'}
          ${(d.vsvip.dns_info ?? []).length ? html` <span class="muted">(${d.vsvip.dns_info.map((x) => x.fqdn).join(', ')})</span>` : null}</li>` : null}
        ${d.children.map((c) => html`<li><span class="tree-kind">SNI child</span> <a href=${`#/vs/${c.uuid}`}>${c.name}</a> <span class="muted">${(c.vh_domain_name ?? []).join(', ')}</span></li>`)}
        ${d.pg ? html`<li><span class="tree-kind">Pool group</span> ${d.pg.name}</li>` : null}
        ${d.pools.map((p) => html`<li><span class="tree-kind">Pool</span> <a href=${`#/edit/pool/${p.uuid}`}>${p.name}</a>
          <span class="muted small"> ${(p.lb_algorithm ?? '').replace('LB_ALGORITHM_', '').toLowerCase()}${(p.health_monitor_refs ?? []).length ? `, monitors ${p.health_monitor_refs.map(refName).join(', ')}` : ''}</span>
          <${ServerList} pool=${p} health=${health}/></li>`)}
        ${d.policies.map((p) => html`<li><span class="tree-kind">HTTP policy</span> <a href=${`#/edit/httppolicyset/${p.uuid}`}>${p.name}</a>
          <span class="muted small"> ${(p.http_request_policy?.rules ?? []).length} rule(s)</span></li>`)}
        ${(vs.l4_policies ?? []).map((p) => html`<li><span class="tree-kind">L4 policy</span> ${refName(p.l4_policy_set_ref)}</li>`)}
        ${d.certs.map((c) => html`<li><span class="tree-kind">Certificate</span> <a href=${`#/edit/sslkeyandcertificate/${c.uuid}`}>${c.name}</a>
          <span class="muted small"> ${c.certificate?.subject?.common_name ?? ''}</span> <${ExpiryBadge} cert=${c}/></li>`)}
      </ul></li>
  </ul>`;
}

function Charts({ a }) {
  if (!a) return html`<${Unavailable} what="Analytics"/>`;
  const m = a.series;
  const sum = (a, b) => (a ?? []).map((p, i) => ({ timestamp: p.timestamp, value: p.value + (b?.[i]?.value ?? 0) }));
  const requests = m[METRICS.requests]?.length ? m[METRICS.requests] : m[METRICS.connections];
  return html`<div class="charts">
    <${LineChart} title="Requests/s" series=${requests} format=${fmtRate}/>
    <${LineChart} title="Latency (ms)" series=${m[METRICS.latency]} format=${(x) => `${x.toFixed(1)} ms`}/>
    <${LineChart} title="Errors/s (4xx + 5xx)" series=${sum(m[METRICS.errors4xx], m[METRICS.errors5xx])} format=${fmtRate}/>
    <${LineChart} title="Bandwidth" series=${m[METRICS.bandwidth]} format=${fmtBits}/>
  </div>
  ${a.source === 'runtime' ? html`<p class="muted small">Rates computed by the console from the service engines' counters since this page opened (the controller has no metrics API yet).</p>` : null}`;
}

function Events({ events, names }) {
  if (!events) return html`<${Unavailable} what="The event log"/>`;
  if (!events.length) return html`<p class="muted">No recent events.</p>`;
  return html`<ul class="events">${events.slice(0, 20).map((e) => html`<li>
    <time>${fmtTime(e.report_timestamp ?? e.timestamp ?? e.time ?? e.ts)}</time>
    <strong>${e.event_id ?? e.type ?? e.reason ?? ''}</strong> ${e.obj_name ?? e.object ?? ''} ${nameUuids(`${e.reason && e.event_id ? e.reason : ''} ${e.message ?? e.event_description ?? ''}`, names)}</li>`)}</ul>`;
}

function RequestLogs({ logs }) {
  if (!logs) return html`<${Unavailable} what="Request logging"/>`;
  if (!logs.length) return html`<p class="muted">No request logs yet.</p>`;
  return html`<div class="table-wrap"><table class="list compact" aria-label="Request logs"><thead><tr>${['Time (UTC)', 'Client', 'Request', 'Status', 'Server', 'Latency'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${logs.slice(0, 12).map((l) => html`<tr>
      <td title=${fmtTime(l.report_timestamp ?? l.timestamp ?? l.time ?? l.ts)}>${fmtTime(l.report_timestamp ?? l.timestamp ?? l.time ?? l.ts).slice(11, 19)}</td><td>${l.client_ip ?? l.client ?? ''}</td>
      <td>${l.method ?? ''} ${l.uri_path ?? l.uri ?? l.path ?? ''}</td><td>${l.response_code ?? l.status ?? ''}</td>
      <td>${l.server_ip ?? l.server ?? ''}</td><td>${l.total_time ?? l.latency_ms ?? ''}${l.total_time != null || l.latency_ms != null ? ' ms' : ''}</td></tr>`)}</tbody></table></div>`;
}

function vipText({ vsvip, runtime, parent }) {
  const own = (vsvip?.vip ?? []).map((v) => v.ip_address?.addr).filter(Boolean);
  if (own.length) return own.join(', ');
  const shared = [].concat(runtime?.vip_summary ?? []).map((v) => v.ip_address?.addr).filter(Boolean);
  if (parent) return `${shared.join(', ') || 'the parent\'s'} (of ${parent.name})`;
  return shared.join(', ') || '–';
}

function typeText(vs) {
  const evh = vs.vh_type === 'VS_TYPE_VH_ENHANCED';
  switch (vs.type) {
    case 'VS_TYPE_VH_PARENT': return evh ? 'EVH parent' : 'SNI parent';
    case 'VS_TYPE_VH_CHILD': return evh ? 'EVH child' : 'SNI child';
    default: return 'normal';
  }
}

export function VsDetailPage({ uuid }) {
  const { data, error, loading } = usePoll(() => loadVs(uuid), [uuid]);
  if (loading && !data) return html`<${Loading} what="Loading virtual service"/>`;
  if (!data) return html`<div><${PageHead} title="Virtual service"/><${ErrorBox} error=${error}/></div>`;
  const { vs, runtime } = data;
  const health = poolHealth(runtime);
  const remove = async () => {
    if (!confirm(`Delete virtual service ${vs.name}?`)) return;
    try { await del(`/api/virtualservice/${vs.uuid}`); navigate('/'); } catch (e) { alert(e.message); }
  };
  const ses = seNames(runtime);
  return html`<div>
    <${PageHead} title=${vs.name}>
      <a class="button secondary" href=${`#/edit/virtualservice/${vs.uuid}`}>Edit</a>
      <button type="button" class="danger" onClick=${remove}>Delete</button>
    </${PageHead}>
    <${ErrorBox} error=${error} prefix="Refresh failed"/>
    <div class="vs-summary card">
      <dl class="facts">
        <div><dt>Status</dt><dd><${StatusBadge} state=${runtime?.oper_status?.state ?? (vs.enabled === false ? 'OPER_DISABLED' : undefined)} reason=${runtime?.oper_status?.reason}/>
          ${runtime?.oper_status?.reason?.length ? html`<div class="reason small">${nameUuids([].concat(runtime.oper_status.reason).join('; '), new Map(data.pools.map((p) => [p.uuid, p.name])))}</div>` : null}</dd></div>
        <div><dt>Health</dt><dd><${HealthScore} score=${typeof runtime?.health_score === 'number' ? runtime.health_score : runtime?.health_score?.health_score}/>
          ${(runtime?.health_score?.factors ?? []).length ? html`<ul class="factors small">${runtime.health_score.factors.map((f) => html`<li>${f}</li>`)}</ul>` : null}</dd></div>
        <div><dt>VIP</dt><dd>${vipText(data)}</dd></div>
        <div><dt>Ports</dt><dd>${portsText(vs.services, vs.network_profile_ref) || '–'}</dd></div>
        <div><dt>Type</dt><dd>${typeText(vs)}</dd></div>
        <div><dt>SE group</dt><dd>${refName(vs.se_group_ref) || '–'}</dd></div>
        <div><dt>Service engines</dt><dd>${ses.join(', ') || '–'}</dd></div>
        <div><dt>Servers up</dt><dd class="servers-up">${health.serversTotal != null ? `${health.serversUp}/${health.serversTotal}` : '–'}</dd></div>
        <div><dt>Application profile</dt><dd>${refName(vs.application_profile_ref) || '–'}</dd></div>
        <div><dt>Network profile</dt><dd>${refName(vs.network_profile_ref) || '–'}</dd></div>
      </dl>
      <${Markers} markers=${vs.markers} createdBy=${vs.created_by}/>
    </div>
    <div class="grid-2">
      <${Section} title="Configuration" id="sec-tree"><${Tree} d=${data} health=${health}/></${Section}>
      <${Section} title="Analytics" id="sec-charts"><${Charts} a=${data.metrics}/></${Section}>
    </div>
    <div class="grid-2">
      <${Section} title="Recent events" id="sec-events"><${Events} events=${data.events} names=${new Map(data.pools.map((p) => [p.uuid, p.name]))}/></${Section}>
      <${Section} title="Request logs" id="sec-logs"><${RequestLogs} logs=${data.logs}/></${Section}>
    </div>
  </div>`;
}
