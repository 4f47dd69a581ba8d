// Property-based fuzz of every controller route (enumerated from the server): generated bodies,
// headers, query strings and path parameters, authenticated or not. Properties: no 5xx, the
// server keeps answering, and a rejected write stores nothing (no store change while it ran,
// and no object bearing a rejected request's marker name). PORTICO_FUZZ_CASES sets the count
// (CI: 1,500; `npm run soak`: 10,000).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startController, type Controller } from '../../src/controller/server.js';
import { allTypes } from '../../src/model/registry.js';
import { Client, PASSWORD } from '../controller/support.js';
import { NET } from '../reliability/support.js';
import { concrete, routesOf, type Route } from './routes.js';

const CASES = Number(process.env.PORTICO_FUZZ_CASES ?? 1500);
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
let dir: string;
let ctl: Controller;
let api: Client;
const known: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-fuzz-'));
  ctl = await startController({ listen: `${NET}.5:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.128/25`, logger: false });
  api = new Client(ctl.url);
  // Targets for :uuid parameters (fuzz-owned, so a valid DELETE harms nothing the test needs).
  const hm = await api.create('healthmonitor', { name: 'fz-target-hm', type: 'HEALTH_MONITOR_TCP' });
  const pool = await api.create('pool', { name: 'fz-target-pool', servers: [{ ip: { addr: `${NET}.9`, type: 'V4' }, port: 80 }] });
  const vsvip = await api.create('vsvip', { name: 'fz-target-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vs = await api.create('virtualservice', { name: 'fz-target-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });
  known.push(hm.uuid, pool.uuid, vsvip.uuid, vs.uuid);
  const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
  known.push(group.uuid);
});

after(async () => {
  await ctl?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Case { route: Route; method: string; params: Record<string, string>; query: [string, string][]; headers: Record<string, string>; body: string | undefined; auth: boolean }

const types = allTypes.map((t) => t.type);
const text = fc.string({ maxLength: 40, unit: 'binary' });
const marker = fc.nat(1_000_000).map((n) => `fz-${n}`);
// Bodies: mostly objects shaped like the API's (names, refs, nested lists), some plain garbage.
const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('/api/pool/?name=fz-target-pool', '/api/vsvip/nope', `/api/pool/${'x'.repeat(300)}`, -1, 1e300, '', null));
const objectBody = fc.record({
  name: fc.oneof(marker, text, fc.constant(undefined)),
  fields: fc.dictionary(fc.constantFrom('services', 'servers', 'vip', 'pool_ref', 'vsvip_ref', 'type', 'enabled', 'tenant_ref', 'uuid', '_last_modified', 'key', 'certificate', 'password', 'configured_subnets', 'replace', 'add', 'delete', 'ttl_seconds', 'max_uses', 'token', 'username', 'access', 'http_request_policy', 'se_group_ref', 'health_monitor_refs'), value, { maxKeys: 5 }),
}).map(({ name, fields }) => JSON.stringify(name === undefined ? fields : { name, ...fields }));
const body = fc.oneof(
  { weight: 5, arbitrary: objectBody },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '{"name": "fz-x", "name": 1}', '\u0000', '{"__proto__": {"polluted": true}, "name": "fz-proto"}', '{"constructor": {"prototype": {"x": 1}}}') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

function caseArb(routes: Route[]): fc.Arbitrary<Case> {
  return fc.constantFrom(...routes).chain((route) => fc.record({
    route: fc.constant(route),
    method: fc.constantFrom(...route.methods),
    params: fc.record({
      uuid: fc.oneof(fc.constantFrom(...known), text, fc.constantFrom('pool-00000000-0000-0000-0000-000000000000', '..', '%', '')),
      type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...types) }, text),
    }),
    query: fc.array(fc.tuple(fc.constantFrom('name', 'name.contains', 'name.in', 'page', 'page_size', 'fields', 'include_name', 'created_by', 'cloud_ref.name', 'metric_id', 'step', 'limit', 'type', 'x'), text), { maxLength: 3 }),
    headers: fc.record({
      'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'),
      'x-avi-tenant': fc.constantFrom('admin', 'nope', '', '../admin'),
      'x-csrftoken': fc.constantFrom('x', ''),
      'x-avi-version': fc.constantFrom('22.1.3', 'garbage'),
    }, { requiredKeys: ['content-type'] }),
    body,
    auth: fc.boolean().map((b) => b || Math.random() < 0.9),
  }));
}

function send(c: Case, path: string): Promise<{ status: number; text: string }> {
  const u = new URL(ctl.url);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) if (v !== '') headers[k] = v;
  if (c.auth) headers.authorization = BASIC;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: c.method, headers, agent: false }, (res) => {
      let t = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode!, text: t }));
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

test(`API fuzz: ${CASES} generated requests over every route, no 5xx, rejected writes store nothing`, { timeout: 900_000 }, async () => {
  const routes = routesOf(ctl.app).filter((r) => r.path !== '*');
  assert.ok(routes.length > 20, `routes found: ${routes.map((r) => r.path).join(' ')}`);
  const changes: string[] = [];
  const off = ctl.host.onChange((type, uuid) => changes.push(`${type} ${uuid}`));
  const rejectedMarkers = new Set<string>();
  const acceptedMarkers = new Set<string>();
  const statuses = new Map<number, number>();
  let n = 0;
  try {
    await fc.assert(fc.asyncProperty(caseArb(routes), async (c) => {
      n++;
      const qs = new URLSearchParams(c.query).toString();
      const path = concrete(c.route.path, (p) => c.params[p] ?? 'x') + (qs ? `?${qs}` : '');
      changes.length = 0;
      const r = await send(c, path);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      assert.ok(r.status < 500, `${c.method} ${path} → ${r.status} ${r.text.slice(0, 300)}\nbody: ${c.body}`);
      const name = /"name":"(fz-[^"]*)"/.exec(c.body ?? '')?.[1];
      if (r.status >= 400 && c.method !== 'GET') {
        assert.deepEqual(changes, [], `${c.method} ${path} → ${r.status} changed the store\nbody: ${c.body}`);
        if (name) rejectedMarkers.add(name);
      } else if (name) acceptedMarkers.add(name);
    }), { numRuns: CASES, seed: process.env.PORTICO_FUZZ_SEED ? Number(process.env.PORTICO_FUZZ_SEED) : undefined, endOnFailure: true });
  } finally {
    off();
  }
  // Still up and consistent; no object bears only a rejected request's marker name.
  const listed = await api.get('/api/pool?name.contains=fz-&page_size=200');
  assert.equal(listed.status, 200);
  for (const t of types) {
    const r = await api.get(`/api/${t}?name.contains=fz-&page_size=200`);
    if (r.status !== 200) continue;
    for (const o of (r.body.results ?? []) as any[]) assert.ok(!rejectedMarkers.has(o.name) || acceptedMarkers.has(o.name), `${t} ${o.name} stored from a rejected request`);
  }
  assert.equal(({} as any).polluted, undefined, 'no prototype pollution');
  const by = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, k]) => `${s}×${k}`).join(' ');
  console.log(`# API fuzz: ${n} cases over ${routes.length} routes, statuses ${by}; 5xx: 0`);
});
