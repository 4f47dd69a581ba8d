// What the dashboard and the VS page know about a virtual service, gathered from the config API,
// the runtime / inventory endpoints and the metrics API (the last two may be missing: the console
// then shows what it has and says what is not available).
import { apiPath, getOptional, list } from './api.js';
import { refName, refUuid } from './refs.js';
import { derivedSeries, recordCounters } from './rates.js';

export const METRICS = {
  requests: 'l7_client.avg_complete_responses',
  connections: 'l4_client.avg_complete_conns',
  bandwidth: 'l4_client.avg_bandwidth',
  latency: 'l7_client.avg_client_txn_latency',
  errors4xx: 'l7_client.avg_resp_4xx',
  errors5xx: 'l7_client.avg_resp_5xx',
};

const METRICS_API_MAX_VSES = 50;

// Endpoints from later issues: once one answers 404 we stop asking for it until a reload.
const missing = new Set();
async function optional(key, path) {
  if (missing.has(key)) return null;
  const r = await getOptional(path);
  if (r === null) missing.add(key);
  return r;
}

/** All results of an optional collection endpoint, or null when it does not exist. */
async function optionalList(key, path) {
  const first = await optional(key, path);
  if (!first) return null;
  const out = [...(first.results ?? [])];
  let next = first.next;
  for (let i = 0; next && i < 20; i++) {
    const page = await getOptional(apiPath(next));
    out.push(...(page?.results ?? []));
    next = page?.next;
  }
  return out;
}

const asArray = (x) => (Array.isArray(x) ? x : x ? [x] : []);

/** `fn` over `items` with at most `limit` calls in flight: a dashboard of many VSes is no burst. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Series by metric id from a metrics answer (a single object, or wrapped in `{results}`). */
export function parseMetrics(resp) {
  const out = {};
  if (!resp) return out;
  const blocks = Array.isArray(resp.results) ? resp.results : [resp];
  for (const b of blocks) {
    for (const s of asArray(b.series)) {
      const id = s.header?.name ?? b.metric_id;
      if (id) out[id] = (s.data ?? []).map((p) => ({ timestamp: p.timestamp, value: p.is_null ? 0 : Number(p.value) || 0 }));
    }
  }
  return out;
}

export async function loadMetrics(uuid, ids, { step = 5, limit = 60 } = {}) {
  const q = new URLSearchParams({ metric_id: ids.join(','), step: String(step), limit: String(limit) });
  const r = await optional('metrics', `/api/analytics/metrics/virtualservice/${uuid}?${q}`);
  return r ? parseMetrics(r) : null;
}

/** SE names from a runtime's vip_summary / se list, whatever shape this controller uses. */
export function seNames(rt) {
  const names = new Set();
  for (const v of asArray(rt?.vip_summary)) {
    for (const se of asArray(v.service_engine)) names.add(refName(se.url ?? se.se_ref ?? se.uuid ?? ''));
  }
  for (const se of asArray(rt?.se_list ?? rt?.service_engines ?? rt?.ses)) {
    names.add(typeof se === 'string' ? refName(se) : se.se_name ?? se.name ?? refName(se.se_ref ?? se.url ?? se.se_uuid ?? se.uuid ?? ''));
  }
  names.delete('');
  return [...names];
}

/** A flat `servers: [{pool_uuid, ip, port, state}]` runtime list, grouped by pool. */
function poolsFromServers(servers) {
  if (!Array.isArray(servers)) return undefined;
  const byPool = new Map();
  for (const s of servers) {
    const key = s.pool_uuid ?? refUuid(s.pool_ref ?? '');
    if (!byPool.has(key)) byPool.set(key, { uuid: key, servers: [] });
    byPool.get(key).servers.push(s);
  }
  return [...byPool.values()];
}

/** Pools with their servers' health from a runtime (or inventory) record. */
export function poolHealth(rt) {
  const pools = asArray(rt?.pools ?? rt?.pool_runtime ?? rt?.pool_summary ?? poolsFromServers(rt?.servers)).map((p) => {
    const servers = asArray(p.servers).map((s) => ({
      ip: s.ip?.addr ?? s.ip ?? s.ip_addr ?? '', port: s.port,
      state: s.state ?? s.oper_status?.state ?? s.oper_state ?? 'UNKNOWN',
      reason: s.reason ?? s.oper_status?.reason,
    }));
    const total = p.num_servers ?? servers.length;
    const up = p.num_servers_up ?? servers.filter((s) => /UP$/.test(s.state)).length;
    return { uuid: p.uuid ?? refUuid(p.pool_ref ?? p.url ?? ''), name: p.name ?? refName(p.pool_ref ?? p.url ?? ''), total, up, servers,
      state: p.oper_status?.state ?? p.state ?? (total === 0 ? 'UNKNOWN' : up === 0 ? 'OPER_DOWN' : 'OPER_UP') };
  });
  const serversTotal = pools.length ? pools.reduce((n, p) => n + p.total, 0) : rt?.num_servers ?? rt?.servers_total;
  const serversUp = pools.length ? pools.reduce((n, p) => n + p.up, 0) : rt?.num_servers_up ?? rt?.servers_up;
  return { pools, poolsUp: pools.filter((p) => p.up > 0).length, poolsTotal: pools.length, serversUp, serversTotal };
}

function healthScore(rec) {
  const h = rec?.health_score;
  if (typeof h === 'number') return h;
  return h?.health_score ?? h?.value ?? null;
}

/** One row per virtual service: config + VIP + runtime + metrics. */
export async function loadVsRows() {
  const [vses, vsvips] = await Promise.all([list('virtualservice'), list('vsvip').catch(() => [])]);
  const vipsByUuid = new Map(vsvips.map((v) => [v.uuid, v]));
  const inventory = await optionalList('inventory', '/api/virtualservice-inventory?include_name=true&page_size=200&include=config,runtime,health_score');
  const invByUuid = new Map((inventory ?? []).map((i) => [i.uuid ?? i.config?.uuid, i]));
  // The inventory gives health scores; a VS's own runtime has what an inventory may leave out
  // (servers, SEs, counters): asked only for those VSes.
  const complete = (inv) => Array.isArray(inv?.runtime?.servers) && Array.isArray(inv?.runtime?.se_list);
  const runtimes = await mapLimit(vses, 6, (vs) => (complete(invByUuid.get(vs.uuid)) ? null
    : optional('runtime', `/api/virtualservice/${vs.uuid}/runtime`).catch(() => null)));
  // History from the metrics API costs a call per VS: worth it for a screenful; beyond that the
  // rates come from the counters the inventory already carries.
  const wantMetrics = [METRICS.requests, METRICS.bandwidth, METRICS.connections];
  const metrics = vses.length > METRICS_API_MAX_VSES ? vses.map(() => null)
    : await mapLimit(vses, 6, (vs) => loadMetrics(vs.uuid, wantMetrics, { step: 5, limit: 30 }).catch(() => null));
  const names = new Map([...vses, ...vsvips].map((o) => [o.uuid, o.name]));
  for (const p of await list('pool', { fields: 'name' }).catch(() => [])) names.set(p.uuid, p.name);
  const rows = vses.map((vs, i) => {
    const inv = invByUuid.get(vs.uuid);
    const rt = inv?.runtime || runtimes[i] ? { ...inv?.runtime, ...runtimes[i] } : null;
    const vsvip = vipsByUuid.get(refUuid(vs.vsvip_ref ?? ''));
    const parentVip = vs.vh_parent_vs_ref ? refName(vs.vh_parent_vs_ref) : '';
    const addrs = (vsvip?.vip ?? []).map((v) => v.ip_address?.addr).filter(Boolean);
    const summaryAddrs = asArray(rt?.vip_summary).map((v) => v.ip_address?.addr ?? v.ip_address).filter((a) => typeof a === 'string');
    let m = metrics[i];
    if (!m && rt?.metrics) {
      recordCounters(vs.uuid, rt.metrics);
      m = derivedSeries(vs.uuid, METRICS);
    }
    return {
      vs, vsvip, inv, rt,
      vips: addrs.length ? addrs : summaryAddrs,
      parentName: parentVip,
      state: rt?.oper_status?.state ?? (vs.enabled === false ? 'OPER_DISABLED' : undefined),
      reason: rt?.oper_status?.reason,
      health: healthScore(inv) ?? healthScore(rt),
      ses: seNames(rt),
      ...poolHealth(rt),
      requests: m ? (m[METRICS.requests]?.length ? m[METRICS.requests] : m[METRICS.connections]) ?? [] : null,
      bandwidth: m ? m[METRICS.bandwidth] ?? [] : null,
    };
  });
  return { rows, names };
}

const UUID_IN_TEXT = /\b([a-z]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;

/** A controller message with the object UUIDs it names replaced by those objects' names. */
export function nameUuids(text, names) {
  if (!names) return text;
  return String(text).replace(UUID_IN_TEXT, (u) => names.get(u) ?? u);
}

export const runtimeAvailable = () => !missing.has('runtime') || !missing.has('inventory');
export const metricsAvailable = () => !missing.has('metrics');

/** Analytics series of one VS: the metrics API, else rates from the runtime's counters, else null. */
export async function loadVsSeries(uuid, runtime) {
  const m = await loadMetrics(uuid, Object.values(METRICS), { step: 5, limit: 60 }).catch(() => null);
  if (m) return { series: m, source: 'metrics' };
  if (!runtime?.metrics) return null;
  recordCounters(uuid, runtime.metrics);
  return { series: derivedSeries(uuid, METRICS), source: 'runtime' };
}

/**
 * Recent events about any of `uuids` (a VS, its pools, its certificates: a server going down is
 * an event of its pool), newest first; null when the controller has no event log.
 */
export async function loadEvents(uuids) {
  const wanted = new Set(uuids);
  const candidates = [
    ['events', '/api/analytics/events?page_size=500'],
    ['logs', '/api/analytics/logs?type=2&page_size=500'],
  ];
  for (const [key, path] of candidates) {
    const r = await optional(key, path).catch(() => null);
    if (r) return asArray(r.results ?? r.events ?? r).filter((e) => !e.obj_uuid || wanted.has(e.obj_uuid)).slice(0, 20);
  }
  return null;
}

export async function loadRequestLogs(uuid) {
  const r = await optional('reqlogs', `/api/analytics/logs?virtualservice=${uuid}&type=1&page_size=20`).catch(() => null);
  return r ? asArray(r.results ?? r.logs ?? r) : null;
}
