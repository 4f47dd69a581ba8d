// Prometheus metrics of the controller (GET /metrics): requests, latency, objects per type, store revision.
import { Registry, Counter, Histogram, Gauge, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Store } from './store/types.js';
import { allTypes } from '../model/registry.js';

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
