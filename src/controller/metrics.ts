// Prometheus metrics of the controller (GET /metrics): requests, latency, objects per type, store
// revision. The figures are system-wide, so a scrape needs the metrics token or a user who sees
// every tenant (docs/api.md, "Who may call what").
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from './store/types.js';
import type { RequestAuth } from './api/auth.js';
import { bearer } from './engines/secrets.js';
import { ApiError, forbidden } from './errors.js';
import { allTypes } from '../model/registry.js';

/** Shortest metrics token accepted: it is a password a scrape job sends on every request. */
export const MIN_METRICS_TOKEN = 16;
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The check of GET /metrics: `Authorization: Bearer <token>` with the metrics token (Prometheus
 * `authorization.credentials_file`), or a session or basic auth (`basic_auth`) of a user with
 * access to all tenants: admin, or a Read-Only role on all tenants.
 */
export function metricsAccess(token: string | undefined, authenticate: (req: FastifyRequest) => Promise<RequestAuth>): (req: FastifyRequest) => Promise<void> {
  const want = token === undefined ? undefined : digest(token);
  return async (req) => {
    const given = bearer(req.headers.authorization);
    if (given !== undefined) {
      if (want && timingSafeEqual(digest(given), want)) return;
      throw new ApiError(401, want ? 'Authorization: not the metrics token' : 'Authorization: no metrics token is configured (--metrics-token-file); use basic auth');
    }
    if (!req.headers.authorization && !req.cookies?.sessionid && !req.cookies?.['avi-sessionid']) {
      throw new ApiError(401, 'authentication required: basic auth of a user with access to all tenants, or the metrics token as a bearer token');
    }
    const { principal } = await authenticate(req);
    if (!principal.superuser && !principal.readAll) throw forbidden(`user ${principal.username}: /metrics covers every tenant; it needs access to all tenants (admin, or Read-Only on all tenants)`);
  };
}

export function registerMetrics(app: FastifyInstance, store: Store): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'portico_controller_' });
  const requests = new Counter({ name: 'portico_controller_http_requests_total', help: 'API requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [register] });
  const latency = new Histogram({ name: 'portico_controller_http_request_duration_seconds', help: 'API request latency', labelNames: ['method', 'route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [register] });
  new Gauge({
    name: 'portico_controller_objects', help: 'Stored objects by type', labelNames: ['type'], registers: [register],
    async collect() {
      for (const t of allTypes) this.set({ type: t.type }, await store.count(t.type));
    },
  });
  new Gauge({ name: 'portico_controller_store_revision', help: 'Store revision (grows with every committed write)', registers: [register], async collect() { this.set(await store.revision()); } });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: reply.statusCode });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => reply.type(register.contentType).send(await register.metrics()));
  return register;
}
