// The analytics API in Avi's shape (shared/reference/avi-api.md §4): metrics series per VS,
// pool and pool server,
// health score with its factors, events and request logs (`/api/analytics/logs`), and the
// scale out / scale in actions of a VS.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AnalyticsStore, SeriesRow } from './store.js';
import { serverAddr, serverEntity, type AnalyticsCollector } from './collector.js';
import type { PlacementManager } from '../placement/manager.js';
import { EVENT_LEVEL } from './alerts.js';

type Q = Record<string, string | undefined>;
type StoredLike = { uuid: string; tenant_ref?: unknown };
type Req = FastifyRequest<{ Params: { uuid: string }; Querystring: Q }>;

interface Metric { units: string; value(r: SeriesRow, step: number): number | undefined }
const perSecond = (f: (r: SeriesRow) => number): Metric => ({ units: 'PER_SECOND', value: (r, s) => f(r) / s });
const responses = (r: SeriesRow) => r.responses_2xx + r.responses_3xx + r.responses_4xx + r.responses_5xx;
const latency: Metric = { units: 'MILLISECONDS', value: (r) => (r.latency_count ? r.latency_ms_sum / r.latency_count : 0) };

/** The metric ids served, and how each comes from a stored row. */
export const METRICS: Record<string, Metric> = {
  'l4_client.avg_bandwidth': { units: 'BITS_PER_SECOND', value: (r, s) => ((r.bytes_in + r.bytes_out) * 8) / s },
  'l4_client.avg_rx_bytes': perSecond((r) => r.bytes_in),
  'l4_client.avg_tx_bytes': perSecond((r) => r.bytes_out),
  'l4_client.avg_new_established_conns': perSecond((r) => r.connections),
  'l4_client.avg_complete_conns': perSecond((r) => r.requests),
  'l7_client.avg_complete_responses': perSecond(responses),
  'l7_client.sum_total_responses': { units: 'METRIC_COUNT', value: responses },
  'l7_client.avg_resp_2xx': perSecond((r) => r.responses_2xx),
  'l7_client.avg_resp_3xx': perSecond((r) => r.responses_3xx),
  'l7_client.avg_resp_4xx': perSecond((r) => r.responses_4xx),
  'l7_client.avg_resp_5xx': perSecond((r) => r.responses_5xx),
  'l7_client.pct_response_errors': { units: 'PERCENT', value: (r) => (responses(r) ? ((r.responses_4xx + r.responses_5xx) * 100) / responses(r) : 0) },
  'l7_client.avg_client_txn_latency': latency,
  'l7_server.avg_resp_latency': latency,
  'l4_server.avg_health': { units: 'PERCENT', value: (r) => (r.servers_total ? (r.servers_up * 100) / r.servers_total : undefined) },
  'healthscore.health_score_value': { units: 'METRIC_COUNT', value: (r) => r.health },
  'l4_client.max_open_conns': { units: 'METRIC_COUNT', value: (r) => r.open_conns },
};

const serverResponses = (r: SeriesRow) => r.responses_2xx + r.responses_3xx + r.responses_4xx + r.responses_5xx;
/** Per pool and per pool server: the traffic the SEs sent it (bytes as the clients saw them). */
export const POOL_METRICS: Record<string, Metric> = {
  'l4_server.avg_bandwidth': METRICS['l4_client.avg_bandwidth']!,
  'l4_server.avg_rx_bytes': METRICS['l4_client.avg_rx_bytes']!,
  'l4_server.avg_tx_bytes': METRICS['l4_client.avg_tx_bytes']!,
  'l4_server.avg_complete_conns': METRICS['l4_client.avg_complete_conns']!,
  'l4_server.avg_open_conns': { units: 'METRIC_COUNT', value: (r) => r.open_conns },
  'l4_server.max_open_conns': { units: 'METRIC_COUNT', value: (r) => r.open_conns },
  'l7_server.avg_complete_responses': perSecond(serverResponses),
  'l7_server.sum_total_responses': { units: 'METRIC_COUNT', value: serverResponses },
  'l7_server.avg_resp_2xx': METRICS['l7_client.avg_resp_2xx']!,
  'l7_server.avg_resp_3xx': METRICS['l7_client.avg_resp_3xx']!,
  'l7_server.avg_resp_4xx': METRICS['l7_client.avg_resp_4xx']!,
  'l7_server.avg_resp_5xx': METRICS['l7_client.avg_resp_5xx']!,
  'l7_server.pct_response_errors': METRICS['l7_client.pct_response_errors']!,
  'l7_server.avg_resp_latency': latency,
  'l4_server.avg_health': METRICS['l4_server.avg_health']!,
};

class Bad extends Error {}

function int(q: Q, key: string, dflt: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Bad(`${key}: ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
  return n;
}

function time(q: Q, key: string, dflt: number): number {
  const v = q[key];
  if (v === undefined || v === '') return dflt;
  const t = /^\d+$/.test(v) ? Number(v) * (v.length <= 10 ? 1000 : 1) : Date.parse(v);
  if (!Number.isFinite(t)) throw new Bad(`${key}: ${JSON.stringify(v)} is not an ISO time or epoch seconds`);
  return t;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

export interface AnalyticsRouteDeps {
  store: AnalyticsStore;
  collector: AnalyticsCollector;
  placement: PlacementManager;
}

export function registerAnalyticsRoutes(app: FastifyInstance, d: AnalyticsRouteDeps): void {
  const send400 = (reply: FastifyReply, err: unknown) => {
    if (err instanceof Bad || err instanceof RangeError) return reply.code(400).send({ error: err.message });
    throw err;
  };
  /** The request's tenant (the API hook authenticated it); objects of other tenants are not found. */
  const tenantOf = (req: FastifyRequest) => (req as unknown as { auth?: { tenant: string } }).auth?.tenant ?? 'admin';
  const inTenant = (o: Record<string, unknown>, tenant: string) => (o.tenant_ref ?? 'admin') === tenant;
  const vsOr404 = async (uuid: string, req: FastifyRequest) => {
    const vs = (await d.placement.objects()).get('virtualservice')?.get(uuid);
    return vs && inTenant(vs, tenantOf(req)) ? vs : undefined;
  };

  /** The series envelope of one entity (VS, pool or pool server) for the query's metric ids. */
  const seriesOf = (q: Q, known: Record<string, Metric>, key: string, obj: StoredLike, metricEntity: string, objId?: string) => {
    const ids = (q.metric_id ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!ids.length) throw new Bad(`metric_id: required, one or more of ${Object.keys(known).join(', ')}`);
    for (const id of ids) if (!known[id]) throw new Bad(`metric_id: ${id} is not a known metric (known: ${Object.keys(known).join(', ')})`);
    const step = int(q, 'step', 300, 1, 86400) <= 5 ? 5 : 300;
    const limit = int(q, 'limit', 12, 1, 2016);
    const stop = time(q, 'stop', Date.now());
    const start = time(q, 'start', stop - step * limit * 1000);
    const rows = d.store.read(key, step, Math.floor(start / 1000), Math.floor(stop / 1000), limit).reverse();
    const series = ids.map((id) => {
      const m = known[id]!;
      const data = rows.map((r) => ({ timestamp: iso(r.ts * 1000), value: m.value(r, step) })).filter((p): p is { timestamp: string; value: number } => p.value !== undefined);
      const values = data.map((p) => p.value);
      const sum = values.reduce((a, b) => a + b, 0);
      return {
        header: {
          name: id, entity_uuid: obj.uuid, ...(objId ? { obj_id: objId } : {}), tenant_uuid: obj.tenant_ref ?? 'admin', units: m.units,
          statistics: values.length ? { min: Math.min(...values), max: Math.max(...values), mean: sum / values.length, sum, num_samples: values.length, last_sample: values[values.length - 1] } : { num_samples: 0 },
        },
        data,
      };
    });
    return { metric_id: ids.join(','), entity_uuid: obj.uuid, ...(objId ? { obj_id: objId } : {}), metric_entity: metricEntity, start: iso(start), stop: iso(stop), step, limit, series };
  };

  app.get('/api/analytics/metrics/virtualservice/:uuid', async (req: Req, reply) => {
    try {
      const vs = await vsOr404(req.params.uuid, req);
      if (!vs) return reply.code(404).send({ error: `VirtualService object not found! (${req.params.uuid})` });
      return seriesOf(req.query, METRICS, vs.uuid, vs, 'VSERVER_METRICS_ENTITY');
    } catch (err) { return send400(reply, err); }
  });

  // A pool, or one of its servers (`?server=ip:port` or `/server/<ip:port>`).
  const poolMetrics = async (req: FastifyRequest<{ Params: { uuid: string; server?: string }; Querystring: Q }>, reply: FastifyReply) => {
    try {
      const pool = (await d.placement.objects()).get('pool')?.get(req.params.uuid);
      if (!pool || !inTenant(pool, tenantOf(req))) return reply.code(404).send({ error: `Pool object not found! (${req.params.uuid})` });
      const server = req.params.server ?? req.query.server;
      if (server === undefined) return seriesOf(req.query, POOL_METRICS, pool.uuid, pool, 'POOL_METRICS_ENTITY');
      const servers = ((pool.servers as Array<{ ip?: { addr?: string }; port?: number }> | undefined) ?? [])
        .filter((s) => typeof s?.ip?.addr === 'string').map((s) => serverAddr(s.ip!.addr!, s.port ?? Number(pool.default_server_port ?? 80)));
      if (!servers.includes(server)) throw new Bad(`server: ${JSON.stringify(server)} is not a server of pool ${pool.name} (servers: ${servers.join(', ') || 'none'})`);
      return seriesOf(req.query, POOL_METRICS, serverEntity(pool.uuid, server), pool, 'POOL_METRICS_ENTITY', server);
    } catch (err) { return send400(reply, err); }
  };
  app.get('/api/analytics/metrics/pool/:uuid', poolMetrics);
  app.get('/api/analytics/metrics/pool/:uuid/server/:server', poolMetrics);

  app.get('/api/analytics/healthscore/virtualservice/:uuid', async (req: Req, reply) => {
    const objects = await d.placement.objects();
    const vs = await vsOr404(req.params.uuid, req);
    if (!vs) return reply.code(404).send({ error: `VirtualService object not found! (${req.params.uuid})` });
    const h = d.collector.health(vs, objects);
    return { entity_uuid: vs.uuid, metric_entity: 'VSERVER_METRICS_ENTITY', ...h, series: [{ header: { name: 'healthscore.health_score_value', entity_uuid: vs.uuid }, data: [{ timestamp: iso(Date.now()), value: h.health_score }] }] };
  });

  // Events (type=2) and request logs (otherwise), newest first.
  const logs = async (req: Req, reply: FastifyReply, forceEvents = false) => {
    try {
      const q = req.query;
      const limit = int(q, 'page_size', 100, 1, 10_000);
      const end = time(q, 'end', Date.now());
      const start = time(q, 'start', q.duration ? end - int(q, 'duration', 0, 0, 7 * 86400) * 1000 : 0);
      const tenant = tenantOf(req);
      const objects = await d.placement.objects();
      // Another tenant sees events and logs of its own objects only.
      const own = (uuid: string) => {
        if (tenant === 'admin') return true;
        const type = /^([a-z]+)-/.exec(uuid)?.[1] ?? '';
        const o = objects.get(type)?.get(uuid);
        return !!o && inTenant(o, tenant);
      };
      if (q.virtualservice !== undefined && !own(q.virtualservice)) throw new Bad(`virtualservice: ${q.virtualservice} is not a virtual service of this tenant`);
      if (forceEvents || q.type === '2') {
        const results = d.store.events({ from: start, to: end, objUuid: q.obj_uuid ?? q.virtualservice, limit }).filter((e) => own(e.obj_uuid)).map((e) => ({
          report_timestamp: iso(e.ts), event_id: e.event_id, level: EVENT_LEVEL[e.event_id] ?? 'ALERT_LOW', obj_type: e.obj_type, obj_uuid: e.obj_uuid, obj_name: e.obj_name, event_description: e.reason,
        }));
        return { count: results.length, results };
      }
      if (q.type !== undefined && q.type !== '1' && q.type !== '0') throw new Bad(`type: ${q.type} is not 1 (request logs) or 2 (events)`);
      const results = d.store.logs({ vs: q.virtualservice, from: start, to: end, limit, errorsOnly: q.filter === 'errors' || q.adf === 'true' }).filter((l) => own(l.vs)).map((l) => ({
        report_timestamp: iso(l.ts), virtualservice: l.vs, service_engine: l.se, client_ip: l.client, method: l.method, uri_path: l.uri,
        response_code: l.status, server_ip: l.server, total_time: l.latency_ms,
      }));
      return { count: results.length, results };
    } catch (err) { return send400(reply, err); }
  };
  app.get('/api/analytics/logs', (req: Req, reply) => logs(req, reply));
  app.get('/api/analytics/events', (req: Req, reply) => logs(req, reply, true));

  for (const [path, by] of [['scaleout', 1], ['scalein', -1]] as const) {
    app.post(`/api/virtualservice/:uuid/${path}`, async (req: Req, reply) => {
      const vs = await vsOr404(req.params.uuid, req);
      if (!vs) return reply.code(404).send({ error: `VirtualService object not found! (${req.params.uuid})` });
      try {
        const r = await d.placement.scale(vs.uuid, by);
        const ses = d.placement.sesOf(vs.uuid) ?? [];
        return { uuid: vs.uuid, name: vs.name, num_se_requested: r.wanted, num_se_assigned: ses.length, se_uuids: ses, ...(d.placement.reasonOf(vs.uuid) ? { reason: d.placement.reasonOf(vs.uuid) } : {}) };
      } catch (err) {
        if (err instanceof RangeError) return reply.code(400).send({ error: err.message });
        return reply.code(400).send({ error: (err as Error).message });
      }
    });
  }
}
