// Service engines: state, last heartbeat, applied config version, virtual services, CPU, memory.
import { html } from 'htm/preact';
import { getOptional, list } from '../api.js';
import { usePoll } from '../hooks.js';
import { fmtAgo, fmtBytes } from '../format.js';
import { refName, refUuid } from '../refs.js';
import { ErrorBox, Loading, PageHead } from '../ui/common.js';
import { StatusBadge } from '../ui/status.js';
import { mapLimit } from '../vsdata.js';

/**
 * SE uuid → names of the virtual services it holds: from the SE records' placement
 * (`placed_vs_uuids`), or, on a controller without placement, from the VS runtimes.
 */
async function vsesBySe(ses) {
  const vses = await list('virtualservice', { fields: 'name' });
  const names = new Map(vses.map((v) => [v.uuid, v.name]));
  if (ses.some((se) => Array.isArray(se.placed_vs_uuids))) {
    return new Map(ses.map((se) => [se.uuid, (se.placed_vs_uuids ?? []).map((u) => names.get(u) ?? u)]));
  }
  const runtimes = await mapLimit(vses.slice(0, 500), 6, (vs) => getOptional(`/api/virtualservice/${vs.uuid}/runtime`).catch(() => null));
  const out = new Map();
  runtimes.forEach((rt, i) => {
    for (const se of rt?.se_list ?? []) {
      if (se.connected === false) continue;
      const key = se.se_uuid ?? refUuid(se.se_ref ?? '');
      out.set(key, [...(out.get(key) ?? []), vses[i].name]);
    }
  });
  return out;
}

async function load() {
  const [ses, inventory] = await Promise.all([
    list('serviceengine'),
    getOptional('/api/serviceengine-inventory?include_name=true&page_size=200').catch(() => null),
  ]);
  const held = await vsesBySe(ses).catch(() => new Map());
  const inv = new Map((inventory?.results ?? []).map((i) => [i.uuid ?? i.config?.uuid, i]));
  return ses.map((se) => ({ se, inv: inv.get(se.uuid), held: held.get(se.uuid) ?? [] }));
}

const first = (...xs) => xs.find((x) => x !== undefined && x !== null);

function seFacts({ se, inv, held }) {
  const rt = inv?.runtime ?? {};
  const os = se.oper_status ?? rt.oper_status ?? {};
  const connected = first(se.se_connected, rt.se_connected);
  const state = os.state ?? (connected === true ? 'OPER_UP' : connected === false ? 'OPER_DOWN' : undefined);
  const vses = held.length ? held : first(se.virtualservices, se.vs_refs, inv?.virtualservices, inv?.vs_refs, os.virtualservices, rt.virtualservices) ?? [];
  return {
    state, reason: os.reason,
    heartbeat: typeof rt.heartbeat_age_ms === 'number' ? Date.now() - rt.heartbeat_age_ms : first(se.last_heartbeat, rt.last_heartbeat),
    version: se.version, versionMismatch: rt.version_mismatch === true,
    applied: first(se.applied_version, rt.applied_version),
    desired: first(se.config_version, se.desired_version, rt.config_version),
    vses: vses.map((v) => (typeof v === 'string' ? refName(v) : v.name ?? refName(v.uuid ?? v.vs_ref ?? ''))),
    cpu: first(se.cpu_percent, se.resources?.cpu_percent, os.cpu_percent, rt.cpu_percent),
    rss: first(se.rss_bytes, se.memory_bytes, se.resources?.rss_bytes, os.rss_bytes, rt.rss_bytes, rt.memory_bytes),
  };
}

export function ServiceEnginesPage() {
  const { data, error, loading } = usePoll(load, []);
  return html`<div>
    <${PageHead} title="Service Engines"><a class="button secondary" href="#/list/serviceenginegroup">Join an engine (SE groups)</a></${PageHead}>
    <p class="muted small">Engines join an SE group with a token: <code>portico engine --controller ${location.origin} --join-token TOKEN</code>.</p>
    <${ErrorBox} error=${error} prefix="Refresh failed"/>
    ${loading && !data ? html`<${Loading}/>` : html`<div class="table-wrap"><table class="list" aria-label="Service engines">
      <thead><tr>${['Name', 'SE group', 'State', 'Heartbeat', 'Config version', 'Software', 'Virtual services', 'CPU', 'Memory'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>
        ${(data ?? []).map((row) => {
          const f = seFacts(row);
          const mismatch = f.desired != null && f.applied != null && f.desired !== f.applied;
          return html`<tr key=${row.se.uuid} data-name=${row.se.name}>
            <th scope="row" data-label="Name">${row.se.name}</th>
            <td data-label="SE group">${refName(row.se.se_group_ref) || '–'}</td>
            <td data-label="State"><${StatusBadge} state=${f.state} reason=${f.reason}/></td>
            <td data-label="Heartbeat">${fmtAgo(f.heartbeat)}</td>
            <td data-label="Config version">${f.applied ?? '–'}${mismatch ? html` <span class="badge tone-warn">expected ${f.desired}</span>` : null}</td>
            <td data-label="Software">${f.version ?? '–'}${f.versionMismatch ? html` <span class="badge tone-warn" title="differs from the controller's version">mismatch</span>` : null}</td>
            <td data-label="Virtual services">${f.vses.join(', ') || html`<span class="muted">none</span>`}</td>
            <td data-label="CPU" class="num">${f.cpu != null ? `${Number(f.cpu).toFixed(1)}%` : '–'}</td>
            <td data-label="Memory" class="num">${fmtBytes(f.rss)}</td>
          </tr>`;
        })}
        ${(data ?? []).length === 0 ? html`<tr><td colspan="9" class="muted">No service engines have joined yet.</td></tr>` : null}
      </tbody></table></div>`}
  </div>`;
}
