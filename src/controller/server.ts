// The controller: REST API (fastify) over the embedded store, with the SE protocol routes of
// the engines module, the web console's files when built, and /metrics.
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyReply, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { LoggerOptions } from 'pino';
import type { EngineHost } from './engines/host.js';
import { registerEngineRoutes, engineRegistryOf } from './engines/routes.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';
import { ObjectService } from './objects.js';
import { StoreEngineHost } from './enginehost.js';
import { Auth, type RequestAuth } from './api/auth.js';
import { registerApiRoutes, API_VERSION } from './api/routes.js';
import { registerUserTokenRoutes } from './api/user-tokens.js';
import { orderClientErrors } from './api/client-errors.js';
import { openApiDocument } from './api/openapi.js';
import { registerMacro } from './api/macro.js';
import { registerMetrics, metricsAccess, MIN_METRICS_TOKEN } from './metrics.js';
import { seed } from './seed.js';
import { ApiError } from './errors.js';
import { ClusterRuntime, type ClusterOptions } from './cluster/runtime.js';
import { installLifecycle, type Lifecycle, type LifecycleOptions } from './lifecycle/install.js';
import { chooseTransport, controllerCert, type ControllerCert, type ControllerTransport } from './certs/controller-tls.js';

export interface ControllerOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  dataDir: string;
  /** Subnet of the local VIP network seeded into an empty store (default 127.77.0.0/24). */
  vipCidr?: string;
  /** Password of `admin` on first start; generated (DATA/admin-password) when absent. */
  adminPassword?: string;
  logger?: LoggerOptions | boolean;
  /**
   * HTTPS with this certificate, or with one generated into DATA/tls/ ('self-signed'). Without
   * it the API is plain HTTP on loopback and HTTPS with the generated certificate beyond.
   */
  tls?: { cert: string | Buffer; key: string | Buffer } | 'self-signed';
  /** Plain HTTP even beyond loopback (logged as a warning). */
  insecureHttp?: boolean;
  /** Another store (etcd); SQLite under dataDir by default. */
  store?: Store;
  /** Replicated controllers: the store in etcd, leader election (src/controller/cluster). */
  cluster?: Omit<ClusterOptions, 'dataDir'>;
  /** SE lifecycle (src/controller/lifecycle): down timeout, local cloud engines. */
  lifecycle?: Omit<LifecycleOptions, 'dataDir' | 'isLeader'>;
  /** A bearer token that may read /metrics (a Prometheus scrape job); users who see all tenants may too. */
  metricsToken?: string;
}

export interface Controller {
  /** `http(s)://host:port` actually listened on. */
  url: string;
  port: number;
  close(): Promise<void>;
  host: EngineHost;
  app: FastifyInstance;
  /** Set when this start generated the admin password (print it once). */
  generatedPassword?: string;
  /** With --store etcd: leader election and members. */
  cluster?: ClusterRuntime;
  /** Placement, analytics and the local cloud's engines. */
  lifecycle: Lifecycle;
  /** How the API is served; with a generated certificate, its file and fingerprint (to pin). */
  transport: ControllerTransport;
  generatedCert?: Omit<ControllerCert, 'key' | 'cert'>;
}

/**
 * Routes that answer without a user: logging in and out, and the console's files (the page holds
 * no data; everything it shows comes from the API). Every other route needs a user, except the
 * SE protocol under /api/se/, whose routes check the SE's join token or its own secret, and
 * /metrics, which also takes the metrics token.
 */
const OPEN = new Set(['/login', '/logout', '/*', '*']);
const SE_ROUTES = '/api/se/';
const isApi = (url: string) => url.startsWith('/api/') || url === '/api';
/**
 * The per-request lines ("incoming request", "request completed") at debug, not info: two lines
 * per API call add up over a sync of tens of thousands of writes. Failed requests log as before.
 */
class QuietRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrftoken"]', 'res.headers["set-cookie"]'];

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = i > 0 ? listen.slice(0, i).replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(i >= 0 ? listen.slice(i + 1) : listen);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen: ${listen} is not host:port`);
  return { host, port };
}

function consoleDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../..']) {
    const d = resolve(here, up, 'console', 'dist');
    if (existsSync(join(d, 'index.html'))) return d;
  }
  return undefined;
}

export async function startController(opts: ControllerOptions): Promise<Controller> {
  if (opts.metricsToken !== undefined && opts.metricsToken.length < MIN_METRICS_TOKEN) throw new Error(`metrics token: at least ${MIN_METRICS_TOKEN} characters`);
  const { host, port } = splitListen(opts.listen);
  const transport = chooseTransport({ host, certGiven: typeof opts.tls === 'object', generateCert: opts.tls === 'self-signed', insecureHttp: !!opts.insecureHttp });
  const generated = transport === 'https-generated' ? controllerCert(opts.dataDir, host) : undefined;
  const certShown = generated && (({ key: _key, cert: _cert, ...shown }) => shown)(generated); // never the key
  // --- cluster (issue 9): etcd store; replicas seed one at a time ---
  const cluster = opts.cluster ? await ClusterRuntime.open({ ...opts.cluster, dataDir: opts.dataDir }) : undefined;
  const store = opts.store ?? cluster?.store ?? SqliteStore.open(opts.dataDir);
  const objects = new ObjectService(store);
  const runSeed = () => seed(store, objects, { dataDir: opts.dataDir, vipCidr: opts.vipCidr, adminPassword: opts.adminPassword });
  const seeded = await (cluster ? cluster.exclusive('seed', runSeed) : runSeed()).catch(async (e) => { await cluster?.close(); throw e; });
  // --- end cluster ---
  const logger = opts.logger === undefined ? false : typeof opts.logger === 'boolean' ? opts.logger : { ...opts.logger, redact: REDACT };
  const fopts: FastifyServerOptions & { https?: unknown } = { logger, logController: new QuietRequestLogs(), routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true }, bodyLimit: 4 * 1024 * 1024 };
  const tls = typeof opts.tls === 'object' ? opts.tls : generated;
  if (tls) fopts.https = { cert: tls.cert, key: tls.key };
  // Set once the app exists (its hooks count the responses in flight per connection).
  let onClientError: NonNullable<FastifyServerOptions['clientErrorHandler']> = (_err, socket) => socket.destroy();
  fopts.clientErrorHandler = (err, socket) => onClientError(err, socket);
  const app = Fastify(fopts as FastifyServerOptions);
  onClientError = orderClientErrors(app);
  if (generated) {
    app.log.info({ tls: certShown }, `HTTPS with a self-signed certificate (${generated.certFile}), SHA-256 fingerprint ${generated.fingerprint256}; engines pin it with --controller-ca ${generated.certFile}`);
    if (!generated.coversHost) app.log.warn({ listen: host, cert: generated.certFile }, `the certificate does not name ${host}: clients connecting to that address fail verification; delete ${generated.certFile} and its key to generate one that does`);
  }
  if (transport === 'http-insecure') app.log.warn({ listen: host }, `--insecure-http: plain HTTP on ${host}, beyond loopback: passwords, session cookies and SE secrets cross the network unencrypted`);
  const auth = new Auth(store);
  const engineHost = new StoreEngineHost(store, objects);
  const startedAt = new Date();

  cluster?.install(app); // serves /api/cluster/runtime and /status from the cluster view
  await app.register(cookie);
  app.decorateRequest('auth', null);
  // Empty JSON bodies (a DELETE with Content-Type: application/json) are no body, not an error.
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    json(req, body as string, done);
  });

  const authenticate = async (req: FastifyRequest) => {
    const r = req as unknown as { auth: RequestAuth | null };
    if (!r.auth) r.auth = await auth.authenticate(req);
  };
  /** preHandler for routes that need a user (the hook below already covers every route but the open ones). */
  app.decorate('requireUser', authenticate);
  const scrapeAccess = metricsAccess(opts.metricsToken, (req) => auth.authenticate(req));
  app.addHook('onRequest', async (req) => {
    // Decide by the route matched, not the raw URL: `//api/x` and `/%61pi/x` reach /api routes too.
    const route = req.routeOptions.url;
    const url = route ?? req.url;
    if (isApi(url)) {
      // Every query parameter is one string (lists are comma-separated): `?name=a&name=b` is refused, not half-handled.
      for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
        if (Array.isArray(v)) throw new ApiError(400, `${k}: given ${v.length} times; give it once (lists are comma-separated)`);
      }
    }
    // No route: a 404 outside /api says nothing; under /api the caller must log in first.
    if (route === undefined ? !isApi(url) : OPEN.has(route) || route.startsWith(SE_ROUTES)) return;
    if (route === '/metrics') return scrapeAccess(req);
    await authenticate(req);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; code?: string }, req, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: err.message });
    // A full disk is the operator's to fix, not a bug: say so, and keep answering reads.
    if (err.code === 'SQLITE_FULL' || err.code === 'ENOSPC') {
      req.log.error({ err: { code: err.code, message: err.message } }, 'write refused: data directory full');
      return reply.code(503).header('retry-after', '30').send({ error: 'the controller\'s data directory is full (no space left on device): nothing was written; free disk space and retry' });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
      return reply.code(500).send({ error: 'internal error' });
    }
    const message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Content-Type: send application/json' : `(body): ${err.message}`;
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such path: ${req.method} ${req.url.split('?')[0]}` }));

  app.post('/login', async (req, reply) => {
    const b = req.body as { username?: unknown; password?: unknown; token?: unknown } | undefined;
    const secret = typeof b?.password === 'string' ? b.password : typeof b?.token === 'string' ? { token: b.token } : undefined;
    if (!b || typeof b.username !== 'string' || !secret) return reply.code(400).send({ error: 'username and password (or token) are required (JSON body)' });
    const s = await auth.login(b.username, secret, req.ip);
    if (!s) return reply.code(401).send({ error: 'invalid username or password' });
    Auth.setCookies(reply, s, req.protocol === 'https');
    return { username: b.username, version: { Version: API_VERSION }, session_cookie_name: 'sessionid', csrftoken: s.csrf };
  });
  app.post('/logout', async (req, reply) => {
    auth.logout(req.cookies.sessionid ?? req.cookies['avi-sessionid']);
    reply.clearCookie('sessionid', { path: '/' }).clearCookie('avi-sessionid', { path: '/' }).clearCookie('csrftoken', { path: '/' });
    return { logged_out: true };
  });

  const openapi = openApiDocument();
  app.get('/api/openapi.json', async () => openapi);
  registerMetrics(app, store);
  registerUserTokenRoutes(app, auth.tokens);
  registerApiRoutes(app, store, objects, startedAt);
  registerMacro(app, store, objects);
  await registerEngineRoutes(app, engineHost);
  cluster?.shareEngines(engineRegistryOf(app)!); // SEs heard by any replica count as alive on all
  // Local engines pin a generated certificate like remote ones do.
  const lifecycleOpts = generated && opts.lifecycle?.localEngines
    ? { ...opts.lifecycle, localEngines: { ...opts.lifecycle.localEngines, engineArgs: [...(opts.lifecycle.localEngines.engineArgs ?? []), '--controller-ca', generated.certFile] } }
    : opts.lifecycle;
  const lifecycle = installLifecycle(app, engineHost, { ...lifecycleOpts, dataDir: opts.dataDir, isLeader: () => cluster?.isLeader ?? true });

  const ui = consoleDir();
  if (ui) await app.register(fastifyStatic, { root: ui, prefix: '/', wildcard: true, index: ['index.html'] });

  app.addHook('onClose', async () => { await cluster?.close(); await store.close(); });
  const address = await app.listen({ host, port });
  const actual = new URL(address);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `${actual.protocol}//${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${actual.port}`;
  await cluster?.join(url);
  lifecycle.started(url);
  return {
    url, port: Number(actual.port), host: engineHost, app, generatedPassword: seeded.generatedPassword, cluster, lifecycle, transport,
    generatedCert: certShown,
    close: async () => {
      // app.close() closes the connections idle at that moment; one that finishes its request
      // later (an SE's long-poll answered at shutdown) would otherwise hold the process for the
      // 72 s keep-alive timeout.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      try { await app.close(); } finally { clearInterval(sweep); }
    },
  };
}
