// A list of one object type with create / edit / delete, filtered by name.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { del, list, post } from '../api.js';
import { usePoll } from '../hooks.js';
import { inSentence, KINDS } from '../kinds.js';
import { networkUsage } from '../netusage.js';
import { ErrorBox, Loading, PageHead } from '../ui/common.js';

async function loadRows(kind) {
  const objects = await list(kind);
  const extra = {};
  if (kind === 'network') extra.vsvips = await list('vsvip').catch(() => []);
  return { objects, extra };
}

function JoinToken({ seg, onClose }) {
  const [state, setState] = useState({ busy: false, token: null, error: null });
  const create = async () => {
    setState({ busy: true, token: null, error: null });
    try {
      setState({ busy: false, token: await post(`/api/serviceenginegroup/${seg.uuid}/jointoken`, {}), error: null });
    } catch (error) {
      setState({ busy: false, token: null, error });
    }
  };
  return html`<div class="card inline-panel" role="region" aria-label=${`Join token for ${seg.name}`}>
    <h2>Join a service engine to ${seg.name}</h2>
    ${state.token
      ? html`<p>Token (shown once, expires ${state.token.expires_at ?? 'per controller policy'}):</p>
          <pre class="token" tabindex="0">${state.token.token}</pre>
          <p>On the engine's host:</p>
          <pre tabindex="0">portico engine --controller ${location.origin} --join-token ${state.token.token}</pre>`
      : html`<button type="button" class="primary" onClick=${create} disabled=${state.busy}>Create join token</button>`}
    <${ErrorBox} error=${state.error}/>
    <button type="button" class="secondary" onClick=${onClose}>Close</button>
  </div>`;
}

export function ListPage({ kind }) {
  const spec = KINDS[kind];
  const { data, error, loading, reload } = usePoll(() => loadRows(kind), [kind]);
  const [filter, setFilter] = useState('');
  const [actionError, setActionError] = useState(null);
  const [tokenFor, setTokenFor] = useState(null);
  const remove = async (o) => {
    if (!confirm(`Delete ${inSentence(spec.one)} ${o.name}?`)) return;
    setActionError(null);
    try {
      await del(`/api/${kind}/${o.uuid}`);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const ctx = {
    editHref: (o) => (kind === 'virtualservice' ? `#/vs/${o.uuid}` : `#/edit/${kind}/${o.uuid}`),
    usage: kind === 'network' && data ? (o) => {
      const u = networkUsage(o, data.extra.vsvips ?? []);
      return u.total ? `${u.used} / ${u.total - u.used}` : '–';
    } : undefined,
  };
  const rows = (data?.objects ?? []).filter((o) => !filter || (o.name ?? '').toLowerCase().includes(filter.toLowerCase()));
  const columns = spec.columns ?? [{ label: 'Name', render: (o) => html`<a href=${ctx.editHref(o)}>${o.name}</a>` }];
  return html`<div>
    <${PageHead} title=${spec.title}>
      ${spec.readOnly ? null : html`<a class="button primary" href=${kind === 'virtualservice' ? '#/wizard' : `#/new/${kind}`}>Create ${inSentence(spec.one)}</a>`}
    </${PageHead}>
    <div class="toolbar">
      <label for="list-filter">Filter by name</label>
      <input id="list-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)}/>
      <span class="muted" aria-live="polite">${data ? `${rows.length} of ${data.objects.length}` : ''}</span>
    </div>
    ${tokenFor ? html`<${JoinToken} seg=${tokenFor} onClose=${() => setTokenFor(null)}/>` : null}
    <${ErrorBox} error=${actionError}/>
    <${ErrorBox} error=${error}/>
    ${loading && !data ? html`<${Loading}/>` : html`<div class="table-wrap"><table class="list" aria-label=${spec.title}>
      <thead><tr>${columns.map((c) => html`<th scope="col">${c.label}</th>`)}<th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${rows.map((o) => html`<tr key=${o.uuid} data-name=${o.name}>
          ${columns.map((c) => html`<td data-label=${c.label}>${c.render(o, ctx)}</td>`)}
          <td class="row-actions">
            ${spec.readOnly ? null : html`<a href=${`#/edit/${kind}/${o.uuid}`} aria-label=${`Edit ${o.name}`}>Edit</a>`}
            ${spec.rowActions?.includes('jointoken') ? html`<button type="button" class="link" onClick=${() => setTokenFor(o)} aria-label=${`Join token for ${o.name}`}>Join token</button>` : null}
            ${spec.readOnly ? null : html`<button type="button" class="link danger" onClick=${() => remove(o)} aria-label=${`Delete ${o.name}`}>Delete</button>`}
          </td>
        </tr>`)}
        ${rows.length === 0 ? html`<tr><td colspan=${columns.length + 1} class="muted">No ${spec.title.toLowerCase()}${filter ? ' match the filter' : ' yet'}.</td></tr>` : null}
      </tbody>
    </table></div>`}
  </div>`;
}
