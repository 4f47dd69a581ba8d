// Input checks of the SE protocol's request bodies: 400 with a message naming the field.
import type { HeartbeatReport } from './registry.js';

export class BadInput extends Error {}

/** Request-log samples one heartbeat may carry (an engine resends those of failed heartbeats, up to this). */
export const MAX_REQUEST_LOGS = 1000;

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

function optString(b: Record<string, any>, field: string, max = 255, pattern?: RegExp): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new BadInput(`${field}: a string of 1 to ${max} characters`);
  if (pattern && !pattern.test(v)) throw new BadInput(`${field}: ${JSON.stringify(v)} has characters that are not allowed`);
  return v;
}

export function validateTokenRequest(body: unknown): { ttl_seconds?: number; max_uses?: number } {
  const b = body === undefined || body === null ? {} : body;
  if (!isObj(b)) throw new BadInput('body: a JSON object {ttl_seconds?, max_uses?}');
  const out: { ttl_seconds?: number; max_uses?: number } = {};
  if (b.ttl_seconds !== undefined) {
    if (typeof b.ttl_seconds !== 'number' || !Number.isFinite(b.ttl_seconds) || b.ttl_seconds < 1 || b.ttl_seconds > 10 * 365 * 86400) throw new BadInput('ttl_seconds: a number of seconds from 1 to 10 years');
    out.ttl_seconds = b.ttl_seconds;
  }
  if (b.max_uses !== undefined) {
    if (!Number.isInteger(b.max_uses) || b.max_uses < 0 || b.max_uses > 1_000_000) throw new BadInput('max_uses: an integer from 0 (unlimited) to 1000000');
    out.max_uses = b.max_uses;
  }
  return out;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function validateJoin(body: unknown): { token: string; name?: string; hostname?: string; version: string; vip_mode: 'loopback' | 'l2'; interface?: string } {
  if (!isObj(body)) throw new BadInput('body: a JSON object {token, name?, hostname?, version, vip_mode, interface?}');
  if (typeof body.token !== 'string' || body.token.length === 0 || body.token.length > 512) throw new BadInput('token: required');
  const vipMode = body.vip_mode ?? 'loopback';
  if (vipMode !== 'loopback' && vipMode !== 'l2') throw new BadInput('vip_mode: "loopback" or "l2"');
  return {
    token: body.token,
    name: optString(body, 'name', 255, NAME),
    hostname: optString(body, 'hostname', 255, NAME),
    version: optString(body, 'version', 64) ?? 'unknown',
    vip_mode: vipMode,
    interface: optString(body, 'interface', 64, /^[A-Za-z0-9_.:@-]+$/),
  };
}

export function validateHeartbeat(body: unknown): HeartbeatReport {
  if (!isObj(body)) throw new BadInput('body: a JSON object');
  if (typeof body.applied_version !== 'number' || !Number.isFinite(body.applied_version)) throw new BadInput('applied_version: a number');
  const vses = body.virtualservices ?? [];
  if (!Array.isArray(vses)) throw new BadInput('virtualservices: a list');
  vses.forEach((v: unknown, i: number) => {
    if (!isObj(v) || typeof v.uuid !== 'string' || (v.oper_state !== 'OPER_UP' && v.oper_state !== 'OPER_DOWN')) throw new BadInput(`virtualservices[${i}]: {uuid, oper_state: OPER_UP|OPER_DOWN, reason?}`);
  });
  const servers = body.servers ?? [];
  if (!Array.isArray(servers)) throw new BadInput('servers: a list');
  servers.forEach((s: unknown, i: number) => {
    if (!isObj(s) || typeof s.pool_uuid !== 'string' || typeof s.ip !== 'string' || typeof s.port !== 'number' || (s.state !== 'UP' && s.state !== 'DOWN')) throw new BadInput(`servers[${i}]: {pool_uuid, ip, port, state: UP|DOWN, reason?}`);
  });
  if (body.standby_vs_uuids !== undefined && (!Array.isArray(body.standby_vs_uuids) || !body.standby_vs_uuids.every((v: unknown) => typeof v === 'string'))) throw new BadInput('standby_vs_uuids: a list of VS UUIDs');
  if (body.request_logs !== undefined && (!Array.isArray(body.request_logs) || body.request_logs.length > MAX_REQUEST_LOGS || !body.request_logs.every(isObj))) throw new BadInput(`request_logs: a list of at most ${MAX_REQUEST_LOGS} samples (objects)`);
  if (body.metrics !== undefined && !isObj(body.metrics)) throw new BadInput('metrics: an object');
  // Counter maps by VS, pool and server: objects of finite numbers (the analytics sum them).
  for (const kind of ['virtualservice', 'pool', 'server']) {
    const m = (body.metrics as Record<string, unknown> | undefined)?.[kind];
    if (m === undefined) continue;
    if (!isObj(m)) throw new BadInput(`metrics.${kind}: an object of counters by key`);
    for (const [k, v] of Object.entries(m)) {
      if (!isObj(v) || !Object.values(v).every((n) => typeof n === 'number' && Number.isFinite(n))) throw new BadInput(`metrics.${kind}[${JSON.stringify(k)}]: an object of numbers`);
    }
  }
  return { ...body, virtualservices: vses, servers } as HeartbeatReport;
}
