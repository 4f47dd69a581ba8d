// API security: every route (enumerated from the server) refuses a caller without credentials,
// except the login and logout and the console's files; /metrics takes a user who sees all
// tenants or the metrics token; the stored password is an scrypt hash; session cookies and
// CSRF; the login rate limit per user and per client; tenant isolation over every type; roles
// admin, tenant-admin and read-only; SE join and snapshots only with the SE's own credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { scryptSync, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { Agent, fetch as tlsFetch } from 'undici';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { allTypes } from '../../src/model/registry.js';
import { Client, PASSWORD } from '../controller/support.js';
import { NET } from '../reliability/support.js';
import { concrete, routesOf } from './routes.js';

/** Answer without a user: the login and logout, and the console's files (the wildcard route). */
const PUBLIC = new Set(['POST /login', 'POST /logout', 'GET *']);
const METRICS_TOKEN = 'scrape-token-7c1f0e9a44d2';
let dir: string;
let ctl: Controller;
let api: Client;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-sec-'));
  ctl = await startController({ listen: `${NET}.6:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.128/25`, logger: false, metricsToken: METRICS_TOKEN });
  api = new Client(ctl.url);
});
after(async () => {
  await ctl?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request (no URL normalisation by the client). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: body ? { 'content-type': 'application/json', ...headers } : headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('every route needs authentication except the login, logout and console files', async () => {
  const pool = await api.create('pool', { name: 'sec-pool' });
  const routes = routesOf(ctl.app);
  const open: string[] = [];
  for (const r of routes) {
    for (const m of r.methods) {
      const key = `${m} ${r.path}`;
      const path = concrete(r.path, (p) => (p === 'type' ? 'pool' : pool.uuid));
      const body = m === 'GET' || m === 'DELETE' ? undefined : '{"name":"sec-x"}';
      const variants: Array<[string, Record<string, string>]> = [
        [path, {}],
        [path, { cookie: 'sessionid=forged; csrftoken=x', 'x-csrftoken': 'x' }],
        [path.replace(/^\/api\//, '//api/'), {}],
        [path.replace(/^\/api\//, '/%61pi/'), {}],
      ];
      for (const [p, h] of variants) {
        const res = await raw(ctl.url, m, p, h, body);
        if (PUBLIC.has(key)) continue;
        // The SE routes take the SE's own credentials (join token, SE secret), not a user's: refused, never served.
        if (r.path.startsWith('/api/se/')) {
          if (res.status < 400) open.push(`${m} ${p} → ${res.status}`);
          const asAdmin = await raw(ctl.url, m, p, { ...h, authorization: api.headers.authorization! }, body);
          if (asAdmin.status < 400) open.push(`${m} ${p} as admin → ${asAdmin.status}`);
          continue;
        }
        if (res.status < 400) open.push(`${m} ${p} ${JSON.stringify(h)} → ${res.status}`);
        else if (p === path && res.status !== 401) open.push(`${m} ${p} → ${res.status} (want 401)`);
      }
    }
  }
  assert.deepEqual(open, []);
  const wrong = await raw(ctl.url, 'GET', '/api/pool', { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` });
  assert.equal(wrong.status, 401, 'a wrong password');
  assert.equal((await api.get(`/api/pool?name=sec-x`)).body.count, 0, 'nothing written without credentials');
  console.log(`# auth: ${routes.reduce((a, r) => a + r.methods.length, 0)} route/method pairs checked (4 spellings and credentials each); public: ${[...PUBLIC].join(', ')}`);
});

test('/metrics: a user who sees all tenants (basic or session) or the metrics token; nobody else', async () => {
  const scrape = (h: Record<string, string>) => fetch(`${ctl.url}/metrics`, { headers: h });
  const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
  await api.create('user', { name: 'sec-prom', username: 'sec-prom', password: 'prom-Secret-1', access: [{ all_tenants: true, role_ref: ref('role', 'Read-Only') }] });
  const t = await api.create('tenant', { name: 'sec-metrics-t' });
  await api.create('user', { name: 'sec-tadmin', username: 'sec-tadmin', password: 'tadmin-Secret-1', default_tenant_ref: `/api/tenant/${t.uuid}`, access: [{ tenant_ref: `/api/tenant/${t.uuid}`, role_ref: ref('role', 'Tenant-Admin') }] });
  const status = async (h: Record<string, string>) => (await scrape(h)).status;
  assert.equal(await status({}), 401, 'no credentials');
  assert.equal(await status({ authorization: `Bearer ${METRICS_TOKEN}x` }), 401, 'a wrong token');
  assert.equal(await status({ authorization: 'Bearer ' }), 401, 'an empty bearer');
  assert.equal(await status(basic('sec-tadmin', 'tadmin-Secret-1')), 403, 'a tenant\'s user: the figures span every tenant');
  assert.equal(await status(basic('admin', 'wrong')), 401, 'a wrong password');
  const byToken = await scrape({ authorization: `Bearer ${METRICS_TOKEN}` });
  assert.equal(byToken.status, 200, 'the metrics token');
  assert.match(await byToken.text(), /portico_controller_store_revision \d+/);
  assert.equal(await status(basic('sec-prom', 'prom-Secret-1')), 200, 'Read-Only on all tenants');
  assert.equal(await status(api.headers), 200, 'admin');
  const login = await fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  assert.equal(await status({ cookie: login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') }), 200, 'an admin session');
  assert.equal(await status({ cookie: 'sessionid=forged' }), 401, 'a forged session');
  // The token opens /metrics only.
  assert.equal((await fetch(`${ctl.url}/api/pool`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 401);
  await assert.rejects(startController({ listen: `${NET}.6:0`, dataDir: dir, metricsToken: 'short' }), /at least 16/);
  // The API document says so.
  const doc = (await api.get('/api/openapi.json')).body;
  assert.deepEqual(doc.paths['/login'].post.security, [], 'the login needs no credentials');
  assert.deepEqual(doc.paths['/metrics'].get.security.map((s: object) => Object.keys(s)[0]), ['basic', 'session', 'metricsToken']);
});

test('passwords are stored as salted scrypt hashes; login checks them', async () => {
  const password = 'Stored-Pw-2718';
  const made = [await api.create('user', { name: 'sec-hash-1', username: 'sec-hash-1', password }), await api.create('user', { name: 'sec-hash-2', username: 'sec-hash-2', password })];
  // The record as stored, read from the store's file (SQLite, WAL: a second reader sees committed rows).
  const db = new Database(join(dir, 'portico.db'), { readonly: true, fileMustExist: true });
  let rows: Array<{ uuid: string; body: string }>;
  try { rows = db.prepare("SELECT uuid, body FROM objects WHERE type = 'user'").all() as typeof rows; } finally { db.close(); }
  const hashes: string[] = [];
  for (const u of made) {
    const row = rows.find((r) => r.uuid === u.uuid);
    assert.ok(row, `${u.name} stored`);
    assert.ok(!row.body.includes(password), `${u.name}: the plain password is not stored`);
    const body = JSON.parse(row.body) as Record<string, unknown>;
    assert.equal(body.password, undefined);
    const m = /^scrypt\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(String(body.password_hash));
    assert.ok(m, `${u.name}: password_hash is scrypt$N$salt$hash: ${String(body.password_hash).slice(0, 8)}…`);
    const [, n, salt, hash] = m;
    assert.ok(Number(n) >= 16384, `scrypt cost N=${n}`);
    assert.equal(Buffer.from(salt!, 'base64').length, 16, 'a 16-byte salt');
    // Recomputed here with node's scrypt: it really is scrypt of this password with this salt.
    const again = scryptSync(password, Buffer.from(salt!, 'base64'), Buffer.from(hash!, 'base64').length, { N: Number(n) });
    assert.ok(timingSafeEqual(again, Buffer.from(hash!, 'base64')), `${u.name}: scrypt(password, salt) matches the stored hash`);
    hashes.push(String(body.password_hash));
  }
  assert.notEqual(hashes[0], hashes[1], 'one password, two users: different salts, different hashes');
  // Nor does the API give the hash out, even to admin.
  assert.ok(!JSON.stringify((await api.get(`/api/user/${made[0].uuid}`)).body).includes('scrypt$'), 'no hash in the API');
  const login = (p: string) => fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sec-hash-1', password: p }) });
  assert.equal((await login(password)).status, 200, 'login with the password');
  assert.equal((await login(hashes[0]!)).status, 401, 'the hash is not a password');
  assert.equal((await login(password.toLowerCase())).status, 401, 'another password');
});

test('session cookies: HttpOnly and SameSite; CSRF on session writes', async () => {
  const login = await fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  assert.equal(login.status, 200);
  const cookies = login.headers.getSetCookie();
  const sid = cookies.find((c) => c.startsWith('sessionid='))!;
  assert.match(sid, /HttpOnly/i);
  assert.match(sid, /SameSite=(Lax|Strict)/i);
  assert.doesNotMatch(sid, /Secure/i, 'plain HTTP: no Secure flag (the browser would drop it)');
  const jar = cookies.map((c) => c.split(';')[0]).join('; ');
  const csrf = /csrftoken=([^;]+)/.exec(jar)![1]!;
  const post = (h: Record<string, string>) => fetch(`${ctl.url}/api/healthmonitor`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: jar, ...h }, body: JSON.stringify({ name: `csrf-${Object.keys(h).length}-${h['x-csrftoken']?.length ?? 0}`, type: 'HEALTH_MONITOR_TCP' }) });
  assert.equal((await post({})).status, 401, 'no X-CSRFToken');
  assert.equal((await post({ 'x-csrftoken': 'not-it' })).status, 403, 'wrong X-CSRFToken');
  assert.equal((await post({ 'x-csrftoken': csrf })).status, 201);
  assert.equal((await fetch(`${ctl.url}/api/healthmonitor`, { headers: { cookie: jar } })).status, 200, 'reads need no token');
});

test('over the controller\'s TLS listener: session cookies Secure, HttpOnly, SameSite; CSRF on every session write', async () => {
  const tdir = mkdtempSync(join(tmpdir(), 'portico-sec-tls-'));
  // The certificate the controller generates for its address (DATA/tls/), pinned as engines do.
  const tls = await startController({ listen: `${NET}.7:0`, dataDir: tdir, adminPassword: PASSWORD, logger: false, tls: 'self-signed' });
  const dispatcher = new Agent({ connect: { ca: readFileSync(tls.generatedCert!.certFile, 'utf8') } });
  try {
    assert.match(tls.url, /^https:/);
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const r = await tlsFetch(`${tls.url}${path}`, { method, dispatcher, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, cookies: r.headers.getSetCookie(), body: await r.text() };
    };
    const login = await call('POST', '/login', {}, { username: 'admin', password: PASSWORD });
    assert.equal(login.status, 200);
    const cookie = (name: string) => login.cookies.find((c) => c.startsWith(`${name}=`)) ?? '';
    for (const name of ['sessionid', 'avi-sessionid', 'csrftoken']) {
      assert.match(cookie(name), /;\s*Secure/i, `${name}: Secure`);
      assert.match(cookie(name), /;\s*SameSite=(Lax|Strict)/i, `${name}: SameSite`);
    }
    for (const name of ['sessionid', 'avi-sessionid']) assert.match(cookie(name), /;\s*HttpOnly/i, `${name}: HttpOnly`);
    // The CSRF token is for the page's script to send back: readable (not HttpOnly), but useless without the session.
    const jar = login.cookies.map((c) => c.split(';')[0]).join('; ');
    const csrf = /csrftoken=([^;]+)/.exec(jar)![1]!;
    const hm = JSON.parse((await call('POST', '/api/healthmonitor', { cookie: jar, 'x-csrftoken': csrf }, { name: 'tls-hm', type: 'HEALTH_MONITOR_TCP' })).body) as { uuid: string };
    assert.ok(hm.uuid, 'a session write with the token');
    const path = `/api/healthmonitor/${hm.uuid}`;
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/api/healthmonitor', { name: 'tls-hm2', type: 'HEALTH_MONITOR_TCP' }],
      ['PUT', path, { name: 'tls-hm', type: 'HEALTH_MONITOR_TCP', send_interval: 7 }],
      ['PATCH', path, { replace: { send_interval: 8 } }],
      ['DELETE', path, undefined],
      ['POST', '/api/macro', { model_name: 'HealthMonitor', data: { name: 'tls-hm3', type: 'HEALTH_MONITOR_TCP' } }],
    ];
    for (const [m, p, b] of writes) {
      assert.equal((await call(m, p, { cookie: jar }, b)).status, 401, `${m} ${p} without X-CSRFToken`);
      assert.equal((await call(m, p, { cookie: jar, 'x-csrftoken': `${csrf.slice(1)}x` }, b)).status, 403, `${m} ${p} with a wrong X-CSRFToken`);
      assert.equal((await call(m, p, { cookie: `csrftoken=${csrf}`, 'x-csrftoken': csrf }, b)).status, 401, `${m} ${p} with the token but no session`);
    }
    const stored = JSON.parse((await call('GET', path, { cookie: jar })).body) as { send_interval?: number };
    assert.notEqual(stored.send_interval, 7, 'no refused write changed the object');
    assert.equal((await call('GET', '/api/healthmonitor?name=tls-hm2', { cookie: jar })).body.includes('"count":0'), true, 'no refused write created one');
    assert.equal((await call('DELETE', path, { cookie: jar, 'x-csrftoken': csrf })).status, 204, 'with the token, the write goes through');
  } finally {
    await dispatcher.close();
    await tls.close();
    rmSync(tdir, { recursive: true, force: true });
  }
});

const ref = (type: string, name: string) => `/api/${type}/?name=${name}`;

test('tenants: a user of tenant A neither reads nor changes tenant B (every type); roles admin, tenant-admin, read-only', async () => {
  const a = await api.create('tenant', { name: 'sec-a' });
  const b = await api.create('tenant', { name: 'sec-b' });
  const user = (name: string, access: object[]) => api.create('user', { name, username: name, password: `pw-${name}-Secret1`, access, default_tenant_ref: access.length ? (access[0] as any).tenant_ref : undefined });
  await user('sec-ua', [{ tenant_ref: `/api/tenant/${a.uuid}`, role_ref: ref('role', 'Tenant-Admin') }]);
  await user('sec-ro', [{ tenant_ref: `/api/tenant/${a.uuid}`, role_ref: ref('role', 'Read-Only') }]);
  await user('sec-roall', [{ all_tenants: true, role_ref: ref('role', 'Read-Only') }]);
  const ua = new Client(ctl.url, 'sec-ua', 'pw-sec-ua-Secret1');
  const ro = new Client(ctl.url, 'sec-ro', 'pw-sec-ro-Secret1');
  const roAll = new Client(ctl.url, 'sec-roall', 'pw-sec-roall-Secret1');
  const inB = api.tenant('sec-b');

  // Tenant B's objects (as admin, in B).
  const hm = await inB.create('healthmonitor', { name: 'b-hm', type: 'HEALTH_MONITOR_TCP' });
  const pool = await inB.create('pool', { name: 'b-pool', health_monitor_refs: [`/api/healthmonitor/${hm.uuid}`] });
  const vsvip = await inB.create('vsvip', { name: 'b-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vs = await inB.create('virtualservice', { name: 'b-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });
  const pg = await inB.create('poolgroup', { name: 'b-pg', members: [{ pool_ref: `/api/pool/${pool.uuid}` }] });
  const hp = await inB.create('httppolicyset', { name: 'b-policy', http_request_policy: { rules: [] } });
  const bObjects = [hm, pool, vsvip, vs, pg, hp];

  for (const info of allTypes) {
    const t = info.type;
    // Acting in B is refused outright.
    assert.equal((await ua.tenant('sec-b').get(`/api/${t}`)).status, 403, `${t}: list in tenant B`);
    assert.equal((await ua.tenant('sec-b').post(`/api/${t}`, { name: 'x' })).status, 403, `${t}: create in tenant B`);
    // From A, B's objects are invisible.
    const listed = await ua.get(`/api/${t}?page_size=1000`);
    if (listed.status === 200) for (const o of (listed.body.results ?? []) as any[]) assert.ok(!bObjects.some((x) => x.uuid === o.uuid), `${t}: ${o.name} of tenant B listed in A`);
  }
  for (const o of bObjects) {
    const type = o.uuid.slice(0, o.uuid.indexOf('-'));
    const path = `/api/${type === 'virtualservice' ? 'virtualservice' : type}/${o.uuid}`;
    assert.equal((await ua.get(path)).status, 404, `GET ${path} from A`);
    assert.ok([403, 404].includes((await ua.req('PUT', path, { ...o, name: 'stolen' })).status), `PUT ${path} from A`);
    assert.ok([403, 404].includes((await ua.req('PATCH', path, { replace: { name: 'stolen' } })).status), `PATCH ${path} from A`);
    assert.ok([403, 404].includes((await ua.req('DELETE', path)).status), `DELETE ${path} from A`);
    assert.equal((await inB.get(path)).body.name, o.name, `${path} unchanged`);
  }
  // Refs across tenants do not resolve either.
  const cross = await ua.post('/api/virtualservice', { name: 'a-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, services: [{ port: 80 }] });
  assert.ok(cross.status === 400 || cross.status === 404, `a ref to B's vsvip from A: ${cross.status}`);

  // tenant-admin writes in its tenant, not users; read-only reads only; admin does all.
  assert.equal((await ua.post('/api/healthmonitor', { name: 'a-hm', type: 'HEALTH_MONITOR_TCP' })).status, 201);
  assert.equal((await ua.post('/api/user', { name: 'sec-evil', username: 'sec-evil', password: 'x-Secret-1' })).status, 403);
  assert.equal((await ro.get('/api/healthmonitor?name=a-hm')).body.count, 1);
  const roWrite = await ro.post('/api/healthmonitor', { name: 'ro-hm', type: 'HEALTH_MONITOR_TCP' });
  assert.equal(roWrite.status, 403);
  assert.match(roWrite.body.error, /read-only/);
  assert.equal((await ro.req('DELETE', `/api/healthmonitor/${(await ua.get('/api/healthmonitor?name=a-hm')).body.results[0].uuid}`)).status, 403);
  assert.equal((await roAll.tenant('sec-b').get('/api/pool?name=b-pool')).body.count, 1, 'read-only on all tenants reads B');
  assert.equal((await roAll.tenant('sec-b').post('/api/healthmonitor', { name: 'roall', type: 'HEALTH_MONITOR_TCP' })).status, 403);
  assert.equal((await roAll.post('/api/tenant', { name: 'sec-c' })).status, 403);
  assert.equal((await api.tenant('sec-b').post('/api/healthmonitor', { name: 'admin-hm', type: 'HEALTH_MONITOR_TCP' })).status, 201);
});

test('SE join only with a valid token; an SE snapshot only with that SE\'s secret', async () => {
  const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
  const join = (token: string, name: string) => fetch(`${ctl.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, name, version: '1', vip_mode: 'loopback' }) });
  assert.equal((await join('not-a-token', 'sec-se0')).status, 401);
  assert.equal((await join('', 'sec-se0')).status >= 400, true);
  const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, { max_uses: 2 })).body;
  const one = await (await join(token, 'sec-se1')).json() as { se_uuid: string; se_secret: string };
  const two = await (await join(token, 'sec-se2')).json() as { se_uuid: string; se_secret: string };
  assert.equal((await join(token, 'sec-se3')).status, 401, 'past max_uses');
  const config = (uuid: string, h: Record<string, string>) => fetch(`${ctl.url}/api/se/${uuid}/config`, { headers: h });
  const as = (s: string): Record<string, string> => ({ authorization: `Bearer ${s}` });
  assert.equal((await config(one.se_uuid, as(one.se_secret))).status, 200, 'the SE reads its own snapshot');
  for (const [who, h] of [['no credentials', {}], ['another SE\'s secret', as(two.se_secret)], ['a wrong secret', as('x'.repeat(64))], ['the admin user', { authorization: api.headers.authorization! }]] as const) {
    const r = await config(one.se_uuid, h as Record<string, string>);
    assert.ok(r.status === 401 || r.status === 403, `snapshot with ${who}: ${r.status}`);
  }
});

test('login rate limit: per user, then per client', async () => {
  const login = (username: string, password: string) => fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  await api.create('user', { name: 'sec-victim', username: 'sec-victim', password: 'victim-Secret-1', access: [{ all_tenants: true, role_ref: ref('role', 'Read-Only') }] });
  let status = 0;
  let tries = 0;
  while (tries < 50 && (status = (await login('sec-victim', `guess-${tries}`)).status) === 401) tries++;
  assert.equal(status, 429, `after ${tries} failures`);
  assert.equal((await login('sec-victim', 'victim-Secret-1')).status, 429, 'even the right password waits out the window');
  const basic = await fetch(`${ctl.url}/api/pool`, { headers: { authorization: `Basic ${Buffer.from('sec-victim:guess').toString('base64')}` } });
  assert.equal(basic.status, 429, 'basic auth counts against the same limit');
  assert.equal((await login('admin', PASSWORD)).status, 200, 'another user from the same client still logs in');
  // Many users from one client: the client's own limit.
  let n = 0;
  while (n < 100 && (status = (await login(`sec-spray-${n}`, 'x')).status) === 401) n++;
  assert.equal(status, 429, `client limit after ${n} failures`);
  console.log(`# login rate limit: user blocked after ${tries} failures, client after ${tries + n} failures (60 s window)`);
});
