// Applications dashboard: every virtual service with VIP, ports, status and why, health, SEs,
// pool health, request rate and bandwidth; filters by name, status and creator. Refreshes live.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { usePoll } from '../hooks.js';
import { fmtBits, fmtRate, portsText } from '../format.js';
import { loadVsRows, metricsAvailable, nameUuids, runtimeAvailable } from '../vsdata.js';
import { Sparkline } from '../ui/charts.js';
import { ErrorBox, Loading, Markers, PageHead } from '../ui/common.js';
import { HealthScore, StatusBadge, statusLabel, statusTone } from '../ui/status.js';

const lastValue = (series) => (series?.length ? series[series.length - 1].value : null);
const creatorOf = (vs) => vs.created_by || (vs.markers ?? []).find((m) => m.key === 'clustername')?.values?.[0] || '';

function Summary({ rows }) {
  const count = (tone) => rows.filter((r) => statusTone(r.state) === tone).length;
  const tiles = [['Virtual services', rows.length, 'neutral'], ['Up', count('good'), 'good'], ['Down', count('bad'), 'bad'],
    ['Degraded / pending', count('warn'), 'warn'], ['Disabled', count('off'), 'off']];
  return html`<ul class="tiles" aria-label="Summary">
    ${tiles.map(([label, n, tone]) => html`<li class=${`tile tone-${tone}`}><span class="tile-n">${n}</span> <span class="tile-label">${label}</span></li>`)}
  </ul>`;
}

function Filters({ f, setF, creators, states }) {
  const upd = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  return html`<div class="toolbar filters" role="search">
    <span class="filter"><label for="flt-name">Name</label><input id="flt-name" type="search" value=${f.name} onInput=${upd('name')}/></span>
    <span class="filter"><label for="flt-status">Status</label><select id="flt-status" onChange=${upd('status')}>
      <option value="">All</option>
      ${states.map((s) => html`<option value=${s} selected=${f.status === s}>${statusLabel(s)}</option>`)}
    </select></span>
    <span class="filter"><label for="flt-creator">Created by</label><select id="flt-creator" onChange=${upd('creator')}>
      <option value="">Anyone</option>
      <option value="-" selected=${f.creator === '-'}>Operator (console / API)</option>
      ${creators.map((c) => html`<option value=${c} selected=${f.creator === c}>${c}</option>`)}
    </select></span>
  </div>`;
}

function Row({ r, names }) {
  const req = lastValue(r.requests);
  const bw = lastValue(r.bandwidth);
  const vs = r.vs;
  return html`<tr data-vs=${vs.name} data-state=${r.state ?? 'UNKNOWN'}>
    <th scope="row" data-label="Name"><a href=${`#/vs/${vs.uuid}`}>${vs.name}</a>
      ${vs.type === 'VS_TYPE_VH_CHILD' ? html`<span class="muted small"> child of ${r.parentName}</span>` : null}
      <div class="row-markers"><${Markers} markers=${vs.markers} createdBy=${vs.created_by}/></div></th>
    <td data-label="VIP">${r.vips.join(', ') || (r.parentName ? html`<span class="muted">parent's</span>` : '–')}</td>
    <td data-label="Ports">${portsText(vs.services, vs.network_profile_ref) || '–'}</td>
    <td data-label="Status"><${StatusBadge} state=${r.state} reason=${r.reason}/>
      ${r.reason && (Array.isArray(r.reason) ? r.reason.length : true) ? html`<div class="reason small">${nameUuids([].concat(r.reason).join('; '), names)}</div>` : null}</td>
    <td data-label="Health"><${HealthScore} score=${r.health}/></td>
    <td data-label="SEs">${r.ses.join(', ') || html`<span class="muted">–</span>`}</td>
    <td data-label="Pools up" class="pools-cell">${r.poolsTotal
      ? html`<span class=${r.poolsUp < r.poolsTotal ? 'tone-bad-text' : ''}>${r.poolsUp}/${r.poolsTotal}</span>
          <span class="muted small"> (servers <span class="servers-up">${r.serversUp ?? '?'}/${r.serversTotal ?? '?'}</span>)</span>`
      : r.serversTotal != null ? html`<span class="muted small">servers <span class="servers-up">${r.serversUp}/${r.serversTotal}</span></span>` : '–'}</td>
    <td data-label="Requests/s" class="num">${r.requests?.length > 1 ? html`<${Sparkline} values=${r.requests.map((p) => p.value)} label=${`${vs.name} requests per second`}/> ${fmtRate(req)}` : '–'}</td>
    <td data-label="Bandwidth" class="num">${r.bandwidth?.length > 1 ? html`<${Sparkline} values=${r.bandwidth.map((p) => p.value)} label=${`${vs.name} bandwidth`}/> ${fmtBits(bw)}` : '–'}</td>
  </tr>`;
}

export function DashboardPage() {
  const { data, error, loading } = usePoll(loadVsRows, []);
  const [f, setF] = useState({ name: '', status: '', creator: '' });
  const rows = data?.rows ?? [];
  const creators = [...new Set(rows.map((r) => creatorOf(r.vs)).filter(Boolean))].sort();
  const states = [...new Set(rows.map((r) => r.state ?? 'OPER_UNKNOWN'))].sort();
  const shown = rows.filter((r) => (!f.name || r.vs.name.toLowerCase().includes(f.name.toLowerCase()))
    && (!f.status || (r.state ?? 'OPER_UNKNOWN') === f.status)
    && (!f.creator || (f.creator === '-' ? !creatorOf(r.vs) : creatorOf(r.vs) === f.creator)));
  return html`<div>
    <${PageHead} title="Applications dashboard"><a class="button primary" href="#/wizard">Create virtual service</a></${PageHead}>
    <${ErrorBox} error=${error} prefix="Refresh failed"/>
    ${loading && !data ? html`<${Loading} what="Loading virtual services"/>` : html`
      <${Summary} rows=${rows}/>
      <${Filters} f=${f} setF=${setF} creators=${creators} states=${states}/>
      ${!runtimeAvailable() ? html`<p class="muted small">Runtime status is not available on this controller yet.</p>` : null}
      ${!metricsAvailable() ? html`<p class="muted small">This controller has no metrics API yet: requests/s and bandwidth are computed by the console from the service engines' counters while this page is open.</p>` : null}
      <div class="table-wrap"><table class="list dashboard" aria-label="Virtual services">
        <thead><tr>${['Name', 'VIP', 'Ports', 'Status', 'Health', 'SEs', 'Pools up', 'Requests/s', 'Bandwidth'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
        <tbody>
          ${shown.map((r) => html`<${Row} key=${r.vs.uuid} r=${r} names=${data?.names}/>`)}
          ${shown.length === 0 ? html`<tr><td colspan="9" class="muted">${rows.length ? 'No virtual service matches the filters.' : 'No virtual services yet.'} <a href="#/wizard">Create one</a>.</td></tr>` : null}
        </tbody>
      </table></div>
      <p class="muted small" aria-live="polite">Updated ${new Date().toLocaleTimeString()}</p>`}
  </div>`;
}
