// The REST API in the shape of the Avi controller's: /api/<type>[/<uuid>] CRUD with the list
// envelope, filters and paging, plus the endpoints clients read at start-up.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { typeInfo, type TypeInfo } from '../../model/registry.js';
import { visitPath } from '../../model/paths.js';
import type { Store, ListQuery, ObjectRecord } from '../store/types.js';
import type { ObjectService } from '../objects.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { ADMIN, findByName, notFoundMessage, visibleFrom } from './refs.js';
import { renderAll, refUrl, type RenderOptions } from './render.js';
import { cloudDomains } from '../ipam/ipam.js';
import type { RequestAuth } from './auth.js';

export const API_VERSION = '22.1.3';

type Query = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { type: string; uuid?: string }; Querystring: Query }>;

export function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}
const flag = (v: string | undefined) => v !== undefined && v !== 'false' && v !== '0';

/** The write-path caller of an authenticated request. */
export function callerOf(a: RequestAuth): { tenant: string; superuser: boolean } {
  return { tenant: a.tenant, superuser: a.principal.superuser };
}

export function auth(req: FastifyRequest): RequestAuth {
  const a = (req as unknown as { auth?: RequestAuth }).auth;
  if (!a) throw new ApiError(401, 'authentication required');
  return a;
}

function info404(type: string): TypeInfo {
  const info = typeInfo(type);
  if (!info) throw notFound(`no such object type: ${type}`);
  return info;
}

function renderOpts(req: Req): RenderOptions {
  const q = req.query;
  return {
    base: baseUrl(req),
    includeName: flag(q.include_name),
    fields: q.fields ? new Set(q.fields.split(',').map((s) => s.trim()).filter(Boolean)) : undefined,
  };
}

/** Tenants whose objects of this type a request sees. */
function tenantsFor(info: TypeInfo, tenant: string): string[] {
  if (tenant === ADMIN || info.adminOnly) return [ADMIN];
  return info.sharedFromAdmin ? [tenant, ADMIN] : [tenant];
}

/** Objects a non-admin tenant may not see even though they live in admin (other tenants, users). */
function hiddenFrom(rec: ObjectRecord, a: RequestAuth): boolean {
  if (a.tenant === ADMIN) return false;
  if (rec.type === 'tenant') return rec.uuid !== a.tenant;
  if (rec.type === 'user') return rec.uuid !== a.principal.userUuid;
  return false;
}

function intParam(q: Query, key: string, dflt: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${key}: ${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
  return n;
}

export function registerApiRoutes(app: FastifyInstance, store: Store, objects: ObjectService, startedAt: Date): void {
  async function list(req: Req) {
    const info = info404(req.params.type);
    const a = auth(req);
    const q = req.query;
    if (info.singleton) return single(req, (await store.all(info.type))[0]);
    const page = intParam(q, 'page', 1, 1, 1_000_000);
    const pageSize = intParam(q, 'page_size', 25, 1, 1000);
    const sq: ListQuery = { tenants: tenantsFor(info, a.tenant) };
    if (q.name !== undefined) sq.name = q.name;
    if (q['name.contains'] !== undefined) sq.nameContains = q['name.contains'];
    if (q['name.in'] !== undefined) sq.nameIn = q['name.in'].split(',');
    if (q.created_by !== undefined) sq.createdBy = q.created_by;
    const cloudUuid = q['cloud_ref.uuid'] ?? q.cloud_uuid;
    if (cloudUuid !== undefined) sq.cloud = cloudUuid;
    else if (q['cloud_ref.name'] !== undefined && info.cloudScoped) {
      sq.cloud = (await findByName(store, typeInfo('cloud')!, q['cloud_ref.name'], a.tenant))?.uuid ?? '\u0000none';
    }
    if (q.sort === 'name' || q.sort === '-name') { sq.orderByName = true; sq.descending = q.sort === '-name'; }
    const memFilters = await memoryFilters(store, info, q);
    const needsMemory = memFilters.length > 0 || (a.tenant !== ADMIN && (info.type === 'tenant' || info.type === 'user'));
    let total: number;
    let items: ObjectRecord[];
    if (!needsMemory) {
      ({ total, items } = await store.list(info.type, { ...sq, offset: (page - 1) * pageSize, limit: pageSize }));
    } else {
      const all = (await store.list(info.type, sq)).items.filter((r) => !hiddenFrom(r, a) && memFilters.every((f) => f(r)));
      total = all.length;
      items = all.slice((page - 1) * pageSize, page * pageSize);
    }
    const o = renderOpts(req);
    const results = await renderAll(store, info, items.map((r) => r.body), o);
    const out: Record<string, unknown> = { count: total, results };
    if (page * pageSize < total) {
      const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][]);
      params.set('page', String(page + 1));
      params.set('page_size', String(pageSize));
      out.next = `${o.base}/api/${info.type}?${params.toString()}`;
    }
    return out;
  }

  async function single(req: Req, rec: ObjectRecord | undefined) {
    if (!rec) throw notFound('object not found');
    return (await renderAll(store, info404(rec.type), [rec.body], renderOpts(req)))[0];
  }

  async function getOne(req: Req): Promise<ObjectRecord> {
    const info = info404(req.params.type);
    const a = auth(req);
    const rec = await store.get(req.params.uuid!);
    if (!rec || rec.type !== info.type || !visibleFrom(rec, a.tenant) || hiddenFrom(rec, a)) throw notFound(`${notFoundMessage(info)} (${req.params.uuid})`);
    return rec;
  }

  const caller = (req: Req) => callerOf(auth(req));

  app.get('/api/:type', list);
  app.post('/api/:type', async (req: Req, reply) => {
    const rec = await objects.create(req.params.type, req.body, caller(req));
    return reply.code(201).send(await single(req, rec));
  });
  app.put('/api/:type', async (req: Req) => {
    const info = info404(req.params.type);
    if (!info.singleton) throw new ApiError(405, `PUT /api/${info.type} needs a UUID: /api/${info.type}/<uuid>`);
    const cur = (await store.all(info.type))[0]!;
    return single(req, await objects.replace(info.type, cur.uuid, req.body, caller(req)));
  });
  app.get('/api/:type/:uuid', async (req: Req) => single(req, await getOne(req)));
  app.put('/api/:type/:uuid', async (req: Req) => single(req, await objects.replace(req.params.type, req.params.uuid!, req.body, caller(req))));
  app.patch('/api/:type/:uuid', async (req: Req) => single(req, await objects.patch(req.params.type, req.params.uuid!, req.body, caller(req))));
  app.delete('/api/:type/:uuid', async (req: Req, reply) => {
    await objects.remove(req.params.type, req.params.uuid!, caller(req));
    return reply.code(204).send();
  });

  // ---- start-up reads of Avi clients ----
  app.get('/api/initial-data', async () => ({
    version: { Version: API_VERSION, build: 1, Tag: 'portico-0.1.0', ProductName: 'Portico', min_version: '15.2' },
    user_initial_setup: false,
  }));
  app.get('/api/cluster/status', async () => ({ cluster_state: { state: 'CLUSTER_UP_NO_HA', up_since: startedAt.toISOString() } }));
  app.get('/api/cluster/version', async () => ({ Version: API_VERSION, ProductName: 'Portico' }));
  app.get('/api/cluster/runtime', async (req) => {
    const cluster = (await store.all('cluster'))[0];
    const node = (cluster?.body.nodes as any[] | undefined)?.[0]?.name ?? 'node-1';
    const up = startedAt.toISOString();
    return {
      cluster_state: { state: 'CLUSTER_UP_NO_HA', up_since: up, progress: 100 },
      node_states: [{ name: node, role: 'CLUSTER_LEADER', state: 'CLUSTER_ACTIVE', up_since: up, mgmt_ip: req.hostname }],
      node_info: { uuid: cluster?.uuid },
    };
  });
  app.get('/api/ipamdnsproviderprofiledomainlist', async (req: Req) => {
    const a = auth(req);
    const q = req.query;
    const cloud = q.cloud_uuid ?? (await findByName(store, typeInfo('cloud')!, q['cloud_ref.name'] ?? 'Default-Cloud', a.tenant))?.uuid;
    if (!cloud) throw notFound('Cloud object not found!');
    return { domains: await cloudDomains(store, cloud) };
  });

  // ---- runtime (fed by the engines module's registry when it is there) ----
  app.get('/api/virtualservice/:uuid/runtime', async (req: Req) => {
    req.params.type = 'virtualservice';
    return vsRuntime(app, store, await getOne(req), baseUrl(req));
  });
  const engines = () => engineRuntime(app);
  // ---- inventories: config + runtime per object, paged like the lists ----
  const vsInventory = async (req: Req, cfg: Record<string, any>) => {
    const rec = (await store.get(cfg.uuid))!;
    const rt = await vsRuntime(app, store, rec, baseUrl(req));
    const up = (rt.oper_status as { state: string }).state === 'OPER_UP';
    // se_list, servers and the SEs' counters too: the console's dashboard then needs this one call, not one per VS.
    // The analytics module's score (src/controller/analytics) when it runs; else up = 100, down = 0.
    const lc = (app as unknown as { lifecycle?: HealthSource }).lifecycle;
    const a = lc ? await lc.placement.objects().then((o) => ({ health: lc.collector.health(rec.body, o as never), alerts: lc.collector.alertSummary(rec.body, o as never) })).catch(() => undefined) : undefined;
    return { uuid: cfg.uuid, url: cfg.url, config: cfg, runtime: { oper_status: rt.oper_status, percent_ses_up: rt.percent_ses_up, vip_summary: rt.vip_summary, se_list: rt.se_list, servers: rt.servers, ...(rt.metrics ? { metrics: rt.metrics } : {}) }, health_score: a?.health ?? { health_score: up ? 100 : 0 }, ...(a ? { alert_summary: a.alerts } : {}) };
  };
  const seRuntime = (b: Record<string, any>) => ({
    oper_status: b.oper_status ?? { state: 'OPER_UNKNOWN' }, se_connected: !!b.se_connected,
    ...(b.last_heartbeat ? { last_heartbeat: b.last_heartbeat } : {}), ...(b.applied_version !== undefined ? { applied_version: b.applied_version } : {}),
    // Live state from the lifecycle module (heartbeat age, cpu, memory, version mismatch, VSes held).
    ...((app as unknown as { lifecycle?: { seState(uuid: string, rec: Record<string, unknown>): Record<string, unknown> } }).lifecycle?.seState(b.uuid, b) ?? {}),
  });
  const inventory = (type: string, item: (req: Req, cfg: Record<string, any>) => Promise<unknown>) => {
    app.get(`/api/${type}-inventory`, async (req: Req) => {
      req.params.type = type;
      const page = (await list(req)) as { results: Record<string, any>[] };
      return { ...page, results: await Promise.all(page.results.map((cfg) => item(req, cfg))) };
    });
    app.get(`/api/${type}-inventory/:uuid`, async (req: Req) => {
      req.params.type = type;
      return item(req, (await single(req, await getOne(req)))!);
    });
  };
  inventory('virtualservice', vsInventory);
  inventory('serviceengine', async (_req, cfg) => ({ uuid: cfg.uuid, url: cfg.url, config: cfg, runtime: seRuntime((await store.get(cfg.uuid))!.body) }));
  app.get('/api/serviceengine/:uuid/runtime', async (req: Req) => {
    req.params.type = 'serviceengine';
    const se = await getOne(req);
    return { name: se.name, uuid: se.uuid, ...seRuntime(se.body) };
  });
  app.get('/api/pool/:uuid/runtime', async (req: Req) => {
    req.params.type = 'pool';
    const pool = await getOne(req);
    const servers = ((pool.body.servers as any[]) ?? []);
    const enabled = servers.filter((s) => s.enabled !== false).length;
    const seen = engines()?.poolServers(pool.uuid) ?? { up: 0, total: 0, servers: [] };
    const pct = (n: number, d: number) => (d ? Math.round((n / d) * 100) : 0);
    return {
      name: pool.name, uuid: pool.uuid,
      oper_status: { state: seen.total === 0 ? 'OPER_UNKNOWN' : seen.up > 0 ? 'OPER_UP' : 'OPER_DOWN' },
      num_servers: servers.length, num_servers_enabled: enabled, num_servers_up: seen.up,
      percent_servers_up_enabled: pct(seen.up, enabled), percent_servers_up_total: pct(seen.up, servers.length),
      servers: seen.servers,
    };
  });
}

/** The runtime summary of a VS (`GET /api/virtualservice/<uuid>/runtime`, inventories). */
export async function vsRuntime(app: FastifyInstance, store: Store, vs: ObjectRecord, base: string): Promise<Record<string, unknown>> {
  const b = vs.body as Record<string, any>;
  const enabled = b.enabled !== false;
  const rt = engineRuntime(app)?.virtualServiceRuntime(vs.uuid, b.se_group_ref, enabled)
    ?? { oper_status: { state: enabled ? 'OPER_DOWN' : 'OPER_DISABLED', reason: enabled ? ['no service engine has reported'] : [] }, percent_ses_up: 0, num_se_assigned: 0, se_list: [], servers: [] };
  let vsvipUuid = b.vsvip_ref as string | undefined;
  if (!vsvipUuid && b.vh_parent_vs_ref) vsvipUuid = (await store.get(b.vh_parent_vs_ref))?.body.vsvip_ref as string | undefined;
  const vsvip = vsvipUuid ? await store.get(vsvipUuid) : undefined;
  const seNames = await store.names(rt.se_list.map((s) => s.se_uuid));
  const vip_summary = ((vsvip?.body.vip as any[]) ?? []).map((v) => ({
    vip_id: v.vip_id,
    ip_address: v.ip_address,
    ...(v.ip6_address ? { ip6_address: v.ip6_address } : {}),
    oper_status: { state: rt.oper_status.state },
    num_se_assigned: rt.num_se_assigned,
    num_se_requested: 1,
    percent_ses_up: rt.percent_ses_up,
    auto_allocate_ip: !!v.auto_allocate_ip,
    auto_allocate_ip_type: v.auto_allocate_ip_type,
    service_engine: rt.se_list.map((s, i) => ({ url: refUrl(base, 'serviceengine', s.se_uuid, seNames), uuid: s.se_uuid, primary: s.primary === undefined ? i === 0 : !!s.primary, standby: !!s.standby, connected: s.connected })),
  }));
  return {
    name: vs.name, uuid: vs.uuid, url: refUrl(base, 'virtualservice', vs.uuid),
    tenant_ref: refUrl(base, 'tenant', vs.tenant), type: b.type,
    oper_status: rt.oper_status, percent_ses_up: rt.percent_ses_up,
    vip_summary, se_list: rt.se_list, servers: rt.servers,
    // The SEs' cumulative counters: the web console derives live rates from them (docs/console.md).
    ...(rt.metrics ? { metrics: rt.metrics } : {}),
    ...(b.vh_child_vs_uuid ? { vh_child_vs_ref: (b.vh_child_vs_uuid as string[]).map((u) => refUrl(base, 'virtualservice', u)) } : {}),
  };
}

export const engineRuntime = (app: FastifyInstance) => (app as unknown as { engineRegistry?: EngineRuntimeSource }).engineRegistry;

/** What the inventory reads from the lifecycle module (src/controller/lifecycle), duck-typed. */
interface HealthSource {
  placement: { objects(): Promise<unknown> };
  collector: { health(vs: Record<string, unknown>, objects: never): { health_score: number } & Record<string, unknown>; alertSummary(vs: Record<string, unknown>, objects: never): unknown };
}

/** What this module reads from the engines module's runtime registry (src/controller/engines/registry.ts). */
interface EngineRuntimeSource {
  virtualServiceRuntime(vsUuid: string, groupUuid?: string, enabled?: boolean): {
    oper_status: { state: string; reason: string[] } & Record<string, unknown>;
    percent_ses_up: number; num_se_assigned: number;
    se_list: Array<{ se_uuid: string; connected: boolean } & Record<string, unknown>>;
    servers: unknown[];
    metrics?: Record<string, number>;
  };
  poolServers(poolUuid: string): { up: number; total: number; servers: unknown[] };
}

/** Filters the store cannot apply (they read the body). */
async function memoryFilters(store: Store, info: TypeInfo, q: Query): Promise<Array<(r: ObjectRecord) => boolean>> {
  const out: Array<(r: ObjectRecord) => boolean> = [];
  if (q['name.icontains'] !== undefined) { const s = q['name.icontains'].toLowerCase(); out.push((r) => r.name.toLowerCase().includes(s)); }
  if (q['uuid.in'] !== undefined) { const set = new Set(q['uuid.in'].split(',')); out.push((r) => set.has(r.uuid)); }
  if (q.uuid !== undefined) out.push((r) => r.uuid === q.uuid);
  if (q.label_key !== undefined) {
    const k = q.label_key, v = q.label_value;
    out.push((r) => ((r.body.markers as any[]) ?? []).some((m) => m.key === k && (v === undefined || (m.values ?? []).includes(v))));
  }
  if (q['vrf_context_ref.name'] !== undefined) {
    const name = q['vrf_context_ref.name'];
    const vrfs = new Set((await store.all('vrfcontext')).filter((r) => r.name === name).map((r) => r.uuid));
    out.push((r) => vrfs.has(r.body.vrf_context_ref as string));
  }
  if (q.refers_to !== undefined) {
    const target = q.refers_to.split(':').pop()!;
    out.push((r) => { let hit = false; for (const f of info.refs) visitPath(r.body, f.segs, (v) => { if (v === target) hit = true; }); return hit; });
  }
  return out;
}
