// Oper status and health badges: colour plus text, so the state never relies on colour alone.
import { html } from 'htm/preact';

const TONE = {
  OPER_UP: 'good', UP: 'good', SE_STATE_ENABLED: 'good', CONNECTED: 'good',
  OPER_DOWN: 'bad', DOWN: 'bad', OPER_FAILED: 'bad', OPER_ERROR_DISABLED: 'bad', OPER_UNAVAIL: 'bad',
  OPER_AGGREGATE_DOWN: 'bad', OPER_RESOURCES: 'bad', DISCONNECTED: 'bad',
  OPER_PARTITIONED: 'warn', OPER_PROCESSING: 'warn', OPER_CREATING: 'warn', OPER_INITIALIZING: 'warn',
  OPER_SE_PROCESSING: 'warn', OPER_AWAIT_MANUAL_PLACEMENT: 'warn', OPER_UPGRADING: 'warn',
  OPER_DISABLED: 'off', OPER_INACTIVE: 'off', OPER_UNUSED: 'off', OPER_DISABLING: 'off',
};

export const statusTone = (state) => TONE[state] ?? 'neutral';

/** `OPER_UP` → `Up`, `OPER_AWAIT_MANUAL_PLACEMENT` → `Await manual placement`. */
export function statusLabel(state) {
  if (!state) return 'Unknown';
  const s = String(state).replace(/^(OPER_|SE_STATE_)/, '').replace(/_/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function StatusBadge({ state, reason }) {
  const why = Array.isArray(reason) ? reason.join('; ') : reason;
  return html`<span class="badge tone-${statusTone(state)}" title=${why || ''} data-state=${state || 'UNKNOWN'}>
    <span class="dot" aria-hidden="true"></span>${statusLabel(state)}</span>`;
}

export function HealthScore({ score }) {
  if (score == null || Number.isNaN(Number(score))) return html`<span class="muted">–</span>`;
  const n = Math.round(Number(score));
  const tone = n >= 90 ? 'good' : n >= 60 ? 'warn' : 'bad';
  return html`<span class="health tone-${tone}" aria-label=${`health score ${n} of 100`}>${n}</span>`;
}

/** Expiry of a certificate, from `not_after` / `expiry_status`. */
export function ExpiryBadge({ cert }) {
  const c = cert?.certificate ?? cert ?? {};
  const status = c.expiry_status ?? cert?.expiry_status;
  const notAfter = c.not_after;
  const days = notAfter ? Math.floor((new Date(notAfter).getTime() - Date.now()) / 86400000) : null;
  const tone = status === 'SSL_CERTIFICATE_EXPIRED' || (days != null && days < 0) ? 'bad'
    : status === 'SSL_CERTIFICATE_EXPIRY_WARNING' || (days != null && days < 30) ? 'warn' : 'good';
  const text = days == null ? (status ? statusLabel(status.replace('SSL_CERTIFICATE_', '')) : 'Unknown')
    : days < 0 ? `expired ${-days}d ago` : `expires in ${days}d`;
  return html`<span class="badge tone-${tone}"><span class="dot" aria-hidden="true"></span>${text}</span>`;
}
