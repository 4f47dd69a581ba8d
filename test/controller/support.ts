// Test support for the controller: a real server on a loopback address of 127.10.0.0/16 with a
// fresh data directory, and a small JSON client over real HTTP (basic auth by default).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd.js';

/**
 * One suite, two backends: PORTICO_TEST_STORE=etcd runs every controller on a real etcd cluster
 * (test/controller/store/api-suite-etcd.test.ts does so). The cluster lives as long as the data
 * directory, so a restart on the same `dir` finds its objects.
 */
const STORE = process.env.PORTICO_TEST_STORE === 'etcd' ? 'etcd' : 'sqlite';
const etcdOfDir = new Map<string, EtcdCluster>();

let nextHost = 1 + (process.pid % 250);
/** A loopback address of this suite's range, different per call (parallel test files stay apart). */
export function freshAddress(): string {
  nextHost = (nextHost % 250) + 1;
  return `127.10.${(process.pid >> 8) % 250}.${nextHost}`;
}

export const PASSWORD = 'test-admin-password';

export interface TestController { c: Controller; dir: string; api: Client; stop(keepData?: boolean): Promise<void> }

export async function startTestController(o: { dir?: string; vipCidr?: string } = {}): Promise<TestController> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'portico-ctl-'));
  let etcd = etcdOfDir.get(dir);
  if (STORE === 'etcd' && !etcd) { etcd = await startEtcdCluster(); etcdOfDir.set(dir, etcd); }
  const cluster = etcd && { endpoints: etcd.endpoints, nodeName: `test-${process.pid}`, leaseTtlS: 2 };
  const c = await startController({ listen: `${freshAddress()}:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: o.vipCidr ?? '127.77.0.0/24', cluster });
  let stopped = false;
  return {
    c, dir, api: new Client(c.url),
    async stop(keepData = false) {
      if (!stopped) { stopped = true; await c.close(); }
      if (!keepData) { rmSync(dir, { recursive: true, force: true }); await etcd?.stop(); etcdOfDir.delete(dir); }
    },
  };
}

/** A controller that runs its engines as child processes (the local cloud) on `net`.1, VIPs in `net`.0/24, SE down after 2 s. */
export async function startLocalCloud(net: string, dir: string): Promise<Controller> {
  return startController({
    listen: `${net}.1:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${net}.0/24`,
    lifecycle: { seDownTimeoutMs: 2000, localEngines: { engineArgs: ['--metrics-listen', `${net}.1:0`] } },
  });
}

export interface Res { status: number; body: any; headers: Headers }

export class Client {
  headers: Record<string, string>;
  constructor(readonly base: string, user = 'admin', password = PASSWORD, extra: Record<string, string> = {}) {
    this.headers = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, ...extra };
  }
  withHeaders(h: Record<string, string | undefined>): Client {
    const c = new Client(this.base);
    c.headers = { ...this.headers };
    for (const [k, v] of Object.entries(h)) { if (v === undefined) delete c.headers[k]; else c.headers[k] = v; }
    return c;
  }
  tenant(name: string): Client { return this.withHeaders({ 'x-avi-tenant': name }); }
  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const init: RequestInit = { method, headers: { ...this.headers, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const r = await fetch(this.base + path, init);
    const text = await r.text();
    let parsed: any = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: r.status, body: parsed, headers: r.headers };
  }
  get(p: string) { return this.req('GET', p); }
  post(p: string, b: unknown) { return this.req('POST', p, b); }
  put(p: string, b: unknown) { return this.req('PUT', p, b); }
  patch(p: string, b: unknown) { return this.req('PATCH', p, b); }
  del(p: string) { return this.req('DELETE', p); }
  /** A request that must answer 2xx; returns the body. */
  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.req(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  /** POST that must succeed; returns the stored object. */
  async create(type: string, body: Record<string, unknown>): Promise<any> {
    const r = await this.post(`/api/${type}`, body);
    if (r.status !== 201) throw new Error(`POST /api/${type} ${JSON.stringify(body).slice(0, 200)} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  async byName(type: string, name: string): Promise<any | undefined> {
    const r = await this.get(`/api/${type}?name=${encodeURIComponent(name)}`);
    return r.body.results[0];
  }
}

/** The path part of a ref URL (`https://h/api/pool/pool-1#x` → `/api/pool/pool-1`). */
export const refPath = (url: string) => new URL(url).pathname;
