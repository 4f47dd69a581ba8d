// The controller side of the SE protocol (docs/engine-protocol.md): join tokens, join, bearer
// auth of SEs, long-poll config snapshots and heartbeats. Registered on the controller's
// fastify server by startController; the runtime registry it fills is reachable with
// `engineRegistryOf(app)` (for /api/virtualservice/<uuid>/runtime and the SE's RO fields).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EngineHost, RegisterEngineRoutes, StoredObject } from './host.js';
import { EngineRegistry, type HeartbeatReport, type SeState } from './registry.js';
import { SnapshotService } from './snapshot-service.js';
import { bearer, hashSecret, newSecret, secretMatches } from './secrets.js';
import { validateHeartbeat, validateJoin, validateTokenRequest, BadInput } from './validate.js';

export const HEARTBEAT_INTERVAL_MS = 1000;
const DEFAULT_TOKEN_TTL_S = 24 * 3600;
const MAX_WAIT_S = 60;
/** How stale the SE record's last_heartbeat may get while nothing else changes. */
const PERSIST_EVERY_MS = 30_000;

const registries = new WeakMap<FastifyInstance, EngineRegistry>();

/** The SE runtime registry of a controller server (undefined before registerEngineRoutes ran). */
export function engineRegistryOf(app: FastifyInstance): EngineRegistry | undefined {
  return registries.get(app) ?? ((app as unknown as { engineRegistry?: EngineRegistry }).engineRegistry);
}

interface SeAuth { uuid: string; name: string; groupUuid: string; hash: string }

function error(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).type('application/json').send({ error: message });
}

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

export const registerEngineRoutes: RegisterEngineRoutes = async (app, host) => {
  const registry = new EngineRegistry();
  registries.set(app, registry);
  if (!app.hasDecorator('engineRegistry')) app.decorate('engineRegistry', registry);
  const snapshots = new SnapshotService(host, registry);
  const auth = new Map<string, SeAuth>();
  const offChange = host.onChange((type, uuid) => {
    if (type !== 'serviceengine') return;
    auth.delete(uuid);
    // A deleted SE leaves the runtime view (its VSes no longer count it).
    if (registry.engines.has(uuid)) {
      host.get('serviceengine', uuid).then((se) => {
        if (!se) registry.engines.delete(uuid);
      }, () => {});
    }
  });
  const watchdog = setInterval(() => void markDisconnected(), 1000);
  watchdog.unref();
  // At the start of shutdown: long-polls answer 204 now (the server does not wait out their
  // `wait`), and no SE is marked disconnected by a controller that is going away.
  app.addHook('preClose', async () => {
    clearInterval(watchdog);
    offChange();
    snapshots.close();
  });

  /** The SE a request authenticates as (bearer secret against the SE's stored hash), or a 401 sent. */
  async function authenticate(req: FastifyRequest<{ Params: { uuid: string } }>, reply: FastifyReply): Promise<SeAuth | undefined> {
    const secret = bearer(req.headers.authorization);
    const uuid = req.params.uuid;
    if (!secret) return void error(reply, 401, 'Authorization: Bearer <se_secret> is required');
    let a = auth.get(uuid);
    if (!a) {
      const se = await host.get('serviceengine', uuid);
      if (se && typeof se.se_secret_hash === 'string') {
        a = { uuid, name: se.name, groupUuid: String(se.se_group_ref ?? ''), hash: se.se_secret_hash };
        auth.set(uuid, a);
      }
    }
    if (!a || !secretMatches(secret, a.hash)) return void error(reply, 401, 'unknown service engine or wrong secret');
    return a;
  }

  async function markDisconnected(): Promise<void> {
    const now = Date.now();
    for (const se of registry.engines.values()) {
      if (registry.connected(se, now) || (se as { persistedDown?: boolean }).persistedDown) continue;
      (se as { persistedDown?: boolean }).persistedDown = true;
      await persist(se.uuid, { se_connected: false, oper_status: { state: 'OPER_DOWN', reason: ['no heartbeat'] } }).catch((err: Error) => app.log.warn({ err: err.message, se: se.uuid }, 'could not record SE disconnect'));
    }
  }

  async function persist(uuid: string, fields: Record<string, unknown>): Promise<void> {
    const se = await host.get('serviceengine', uuid);
    if (!se) return;
    await host.update('serviceengine', uuid, { ...se, ...fields });
  }

  // ---- join tokens (user auth: the controller's API hook covers /api/serviceenginegroup/…) ----
  const requireUser = (app as unknown as { requireUser?: unknown }).requireUser;
  app.post<{ Params: { uuid: string } }>('/api/serviceenginegroup/:uuid/jointoken', typeof requireUser === 'function' ? { preHandler: requireUser as never } : {}, async (req, reply) => {
    let body;
    try {
      body = validateTokenRequest(req.body);
    } catch (err) {
      if (err instanceof BadInput) return error(reply, 400, err.message);
      throw err;
    }
    const group = await host.get('serviceenginegroup', req.params.uuid);
    if (!group) return error(reply, 404, 'ServiceEngineGroup object not found!');
    const token = newSecret();
    const expires = new Date(Date.now() + (body.ttl_seconds ?? DEFAULT_TOKEN_TTL_S) * 1000).toISOString();
    await host.create('sejointoken', {
      name: `jointoken-${hashSecret(token).slice(0, 12)}`,
      se_group_ref: group.uuid,
      token_hash: hashSecret(token),
      expires_at: expires,
      max_uses: body.max_uses ?? 0,
      uses: 0,
    });
    return reply.code(201).send({ token, se_group_ref: `${origin(req)}/api/serviceenginegroup/${group.uuid}`, expires_at: expires });
  });

  // ---- join (the token is the credential) ----
  app.post('/api/se/join', async (req, reply) => {
    let body;
    try {
      body = validateJoin(req.body);
    } catch (err) {
      if (err instanceof BadInput) return error(reply, 400, err.message);
      throw err;
    }
    const hash = hashSecret(body.token);
    const tokens = await host.list('sejointoken');
    const t = tokens.find((x) => x.token_hash === hash);
    if (!t) return error(reply, 401, 'join token not valid');
    if (typeof t.expires_at === 'string' && Date.parse(t.expires_at) < Date.now()) return error(reply, 401, 'join token expired');
    const maxUses = Number(t.max_uses ?? 0);
    if (maxUses > 0 && Number(t.uses ?? 0) >= maxUses) return error(reply, 401, 'join token used up');
    const group = await host.get('serviceenginegroup', String(t.se_group_ref));
    if (!group) return error(reply, 401, 'the SE group of this join token no longer exists');
    const name = body.name ?? body.hostname ?? `se-${hash.slice(0, 8)}`;
    const secret = newSecret();
    const fields = { hostname: body.hostname, version: body.version, vip_mode: body.vip_mode, interface: body.interface, se_secret_hash: hashSecret(secret) };
    const existing = (await host.list('serviceengine')).find((se) => se.name === name);
    let se: StoredObject;
    if (existing && existing.se_group_ref === group.uuid) {
      se = await host.update('serviceengine', existing.uuid, { ...existing, ...fields });
    } else if (existing) {
      return error(reply, 409, `name: a service engine named "${name}" already exists in another SE group`);
    } else {
      se = await host.create('serviceengine', { name, se_group_ref: group.uuid, ...(group.cloud_ref ? { cloud_ref: group.cloud_ref } : {}), ...fields });
    }
    auth.delete(se.uuid);
    await host.update('sejointoken', t.uuid, { ...t, uses: Number(t.uses ?? 0) + 1 });
    registry.engines.set(se.uuid, { uuid: se.uuid, name: se.name, groupUuid: group.uuid, lastHeartbeat: Date.now(), intervalMs: HEARTBEAT_INTERVAL_MS });
    req.log.info({ se: se.uuid, name: se.name, group: group.name }, 'service engine joined');
    return reply.send({ se_uuid: se.uuid, se_secret: secret, se_group_uuid: group.uuid, heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS, name: se.name });
  });

  // ---- configuration (long-poll) ----
  app.get<{ Params: { uuid: string }; Querystring: { version?: string; wait?: string } }>('/api/se/:uuid/config', async (req, reply) => {
    const se = await authenticate(req, reply);
    if (!se) return reply;
    const have = req.query.version === undefined ? -1 : Number(req.query.version);
    const wait = req.query.wait === undefined ? 0 : Number(req.query.wait);
    if (!Number.isFinite(have)) return error(reply, 400, 'version: not a number');
    if (!Number.isFinite(wait) || wait < 0 || wait > MAX_WAIT_S) return error(reply, 400, `wait: seconds from 0 to ${MAX_WAIT_S}`);
    const snap = await snapshots.next(se.uuid, have, wait * 1000, req.raw);
    if (!snap) return reply.code(204).send();
    const head = JSON.stringify({ version: snap.version, se: { uuid: se.uuid, name: se.name, se_group_uuid: se.groupUuid } });
    return reply.type('application/json').header('cache-control', 'no-store').send(`${head.slice(0, -1)},${snap.body}}`);
  });

  // ---- heartbeats ----
  app.post<{ Params: { uuid: string } }>('/api/se/:uuid/heartbeat', async (req, reply) => {
    const se = await authenticate(req, reply);
    if (!se) return reply;
    let report: HeartbeatReport;
    try {
      report = validateHeartbeat(req.body);
    } catch (err) {
      if (err instanceof BadInput) return error(reply, 400, err.message);
      throw err;
    }
    const prev = registry.engines.get(se.uuid) as (SeState & { persistedAt?: number; persistedDown?: boolean }) | undefined;
    const now = Date.now();
    const changed = !prev?.report || !!prev.persistedDown || prev.report.applied_version !== report.applied_version || now - (prev.persistedAt ?? 0) > PERSIST_EVERY_MS;
    // Request-log samples go into the SE's backlog (analytics take each batch once), not the report.
    const { request_logs: logs, ...kept } = report as HeartbeatReport & { request_logs?: unknown[] };
    // A heartbeat without pool/server counters (sent every 5 s without realtime metrics) keeps the last ones.
    const before = prev?.report;
    if (before?.metrics && kept.metrics && !kept.metrics.pool && !kept.metrics.server && before.started_at === kept.started_at) {
      kept.metrics = { ...kept.metrics, pool: before.metrics.pool, server: before.metrics.server };
    }
    const logBatches = registry.logBacklog(prev, logs, now);
    registry.engines.set(se.uuid, { uuid: se.uuid, name: se.name, groupUuid: se.groupUuid, lastHeartbeat: now, intervalMs: HEARTBEAT_INTERVAL_MS, report: kept, logBatches, persistedAt: changed ? now : prev?.persistedAt } as SeState);
    // The SE's record is written when its state changes (and its last_heartbeat now and then), not at every beat.
    if (changed) {
      await persist(se.uuid, { se_connected: true, applied_version: report.applied_version, last_heartbeat: new Date().toISOString(), oper_status: { state: 'OPER_UP' } }).catch((err: Error) => req.log.warn({ err: err.message }, 'could not record SE state'));
    }
    const latest = await snapshots.currentVersion(se.uuid);
    return reply.send({ latest_version: latest, realtime_metrics: registry.realtimeGroups?.has(se.groupUuid) ?? true });
  });
};
