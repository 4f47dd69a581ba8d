// Small shared pieces: loading/error/empty states, markers, page headings.
import { html } from 'htm/preact';
import { ApiError } from '../api.js';

export function Loading({ what = 'Loading' }) {
  return html`<p class="muted" role="status">${what}…</p>`;
}

export function ErrorBox({ error, prefix }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? `${error.message} (HTTP ${error.status})` : String(error.message ?? error);
  return html`<div class="error-box" role="alert">${prefix ? `${prefix}: ` : ''}${msg}</div>`;
}

export function Unavailable({ what }) {
  return html`<p class="muted unavailable">${what} is not available on this controller yet.</p>`;
}

/** Markers (`[{key, values}]`) show who made an object: cluster, namespace, service, ingress… */
export function Markers({ markers, createdBy }) {
  const list = (markers ?? []).filter((m) => m && m.key);
  if (!list.length && !createdBy) return null;
  return html`<span class="markers">
    ${createdBy ? html`<span class="chip chip-owner" title="created_by">${createdBy}</span>` : null}
    ${list.map((m) => html`<span class="chip" title=${m.key}><span class="chip-key">${m.key}</span> ${(m.values ?? []).join(', ')}</span>`)}
  </span>`;
}

export function PageHead({ title, children }) {
  return html`<div class="page-head"><h1>${title}</h1><div class="actions">${children}</div></div>`;
}

export function Section({ title, children, id }) {
  return html`<section class="card" aria-labelledby=${id}><h2 id=${id}>${title}</h2>${children}</section>`;
}
