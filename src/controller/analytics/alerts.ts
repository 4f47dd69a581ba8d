// Alert levels of the analytics events, and a VS's alert summary for the inventory: the
// conditions open now (VS down or partitioned, pool servers down, SEs not reporting,
// certificates expiring or expired), and the events of the last day about the VS and what it
// uses (its pools, SEs and certificates), counted by level.
import type { VsRuntime } from '../engines/registry.js';

export const ALERT_LEVELS = ['ALERT_HIGH', 'ALERT_MEDIUM', 'ALERT_LOW'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** The level of each event id (ups and placement changes are informational). */
export const EVENT_LEVEL: Record<string, AlertLevel> = {
  VS_DOWN: 'ALERT_HIGH', SE_DOWN: 'ALERT_HIGH',
  VS_PARTITIONED: 'ALERT_MEDIUM', SERVER_DOWN: 'ALERT_MEDIUM', SSL_CERT_EXPIRE: 'ALERT_MEDIUM',
  VS_UP: 'ALERT_LOW', SERVER_UP: 'ALERT_LOW', SE_UP: 'ALERT_LOW', VS_PLACEMENT_CHANGED: 'ALERT_LOW', REALTIME_METRICS_OFF: 'ALERT_LOW',
};

export interface OpenAlert { level: AlertLevel; event_id: string; obj_uuid: string; reason: string }
export interface AlertSummary {
  /** Conditions open now, by level, and each of them. */
  open: Record<AlertLevel, number>;
  alerts: OpenAlert[];
  /** Events of the last 24 hours about the VS, its pools, SEs and certificates, by level. */
  events_24h: Record<AlertLevel, number>;
}

export interface CertInfo { uuid: string; name: string; not_after: string }

const DAY_MS = 86_400_000;
export const CERT_WARN_DAYS = 30;

/** What is wrong with a VS now, as alerts. */
export function openAlerts(vs: { uuid: string; name: string; enabled?: unknown }, rt: VsRuntime, certs: CertInfo[], now = Date.now()): OpenAlert[] {
  const out: OpenAlert[] = [];
  const state = rt.oper_status.state;
  if (state === 'OPER_DOWN') out.push({ level: 'ALERT_HIGH', event_id: 'VS_DOWN', obj_uuid: vs.uuid, reason: `virtual service ${vs.name} is down: ${rt.oper_status.reason.join('; ') || 'no reason given'}` });
  if (state === 'OPER_PARTITIONED') out.push({ level: 'ALERT_MEDIUM', event_id: 'VS_PARTITIONED', obj_uuid: vs.uuid, reason: rt.oper_status.reason.join('; ') });
  for (const se of rt.se_list) {
    if (!se.connected) out.push({ level: se.standby ? 'ALERT_MEDIUM' : 'ALERT_HIGH', event_id: 'SE_DOWN', obj_uuid: se.se_uuid, reason: `service engine ${se.se_name}${se.standby ? ' (standby)' : ''} is not connected` });
  }
  for (const s of rt.servers) {
    if (s.state !== 'UP') out.push({ level: 'ALERT_MEDIUM', event_id: 'SERVER_DOWN', obj_uuid: s.pool_uuid, reason: `server ${s.ip}:${s.port} is down${s.reason ? `: ${s.reason}` : ''}` });
  }
  for (const c of certs) {
    const days = (Date.parse(c.not_after) - now) / DAY_MS;
    if (days < 0) out.push({ level: 'ALERT_HIGH', event_id: 'SSL_CERT_EXPIRE', obj_uuid: c.uuid, reason: `certificate ${c.name} expired on ${c.not_after}` });
    else if (days < CERT_WARN_DAYS) out.push({ level: 'ALERT_MEDIUM', event_id: 'SSL_CERT_EXPIRE', obj_uuid: c.uuid, reason: `certificate ${c.name} expires in ${Math.floor(days)} days (${c.not_after})` });
  }
  return out;
}

/** The summary from the open alerts and the last day's event counts (event id → count). */
export function alertSummary(open: OpenAlert[], eventCounts: Array<{ event_id: string; n: number }>): AlertSummary {
  const zero = () => ({ ALERT_HIGH: 0, ALERT_MEDIUM: 0, ALERT_LOW: 0 });
  const byLevel = zero();
  for (const a of open) byLevel[a.level]++;
  const events = zero();
  for (const e of eventCounts) events[EVENT_LEVEL[e.event_id] ?? 'ALERT_LOW'] += e.n;
  return { open: byLevel, alerts: open, events_24h: events };
}
