import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, Client, PASSWORD, type TestController } from './support.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

let t: TestController;
before(async () => { t = await startTestController(); });
after(async () => { await t?.stop(); });

function cookies(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of h.getSetCookie()) { const [kv] = c.split(';'); const i = kv!.indexOf('='); out[kv!.slice(0, i)] = kv!.slice(i + 1); }
  return out;
}

test('no credentials → 401; wrong password → 401; basic auth works', async () => {
  const anon = t.api.withHeaders({ authorization: undefined });
  assert.equal((await anon.get('/api/pool')).status, 401);
  assert.equal((await anon.post('/api/pool', { name: 'x' })).status, 401);
  assert.match((await anon.get('/api/pool')).body.error, /authentication required/);
  assert.equal((await new Client(t.c.url, 'admin', 'wrong').get('/api/pool')).status, 401);
  assert.equal((await t.api.get('/api/pool')).status, 200);
  // Nothing is public but the login: liveness, version and the API document need a user too.
  for (const path of ['/api/cluster/status', '/api/initial-data', '/api/openapi.json', '/metrics']) assert.equal((await anon.get(path)).status, 401, path);
  assert.equal((await t.api.get('/api/cluster/status')).body.cluster_state.state, 'CLUSTER_UP_NO_HA');
  assert.equal((await t.api.get('/api/initial-data')).body.version.Version, '22.1.3');
});

test('session login: cookies, CSRF on writes (missing → 401, wrong → 403), logout', async () => {
  const anon = t.api.withHeaders({ authorization: undefined });
  assert.equal((await anon.post('/login', { username: 'admin', password: 'nope' })).status, 401);
  assert.equal((await anon.post('/login', { username: 'admin' })).status, 400);
  const login = await anon.post('/login', { username: 'admin', password: PASSWORD });
  assert.equal(login.status, 200);
  const c = cookies(login.headers);
  assert.ok(c.sessionid && c.csrftoken, 'sessionid and csrftoken cookies');
  const session = anon.withHeaders({ cookie: `sessionid=${c.sessionid}; csrftoken=${c.csrftoken}` });
  assert.equal((await session.get('/api/pool')).status, 200);
  const noCsrf = await session.post('/api/pool', { name: 'csrf-pool' });
  assert.equal(noCsrf.status, 401);
  const badCsrf = await session.withHeaders({ 'x-csrftoken': 'forged' }).post('/api/pool', { name: 'csrf-pool' });
  assert.equal(badCsrf.status, 403);
  assert.equal((await t.api.get('/api/pool?name=csrf-pool')).body.count, 0, 'nothing stored');
  const ok = session.withHeaders({ 'x-csrftoken': c.csrftoken, referer: `${t.c.url}/` });
  assert.equal((await ok.post('/api/pool', { name: 'csrf-pool' })).status, 201);
  assert.equal((await ok.post('/logout', {})).status, 200);
  assert.equal((await session.get('/api/pool')).status, 401);
});

test('tenants: isolation, shared system objects read-only, user access', async () => {
  await t.api.create('tenant', { name: 'team-a' });
  await t.api.create('tenant', { name: 'team-b' });
  const a = t.api.tenant('team-a');
  const b = t.api.tenant('team-b');
  const poolA = await a.create('pool', { name: 'mine', servers: [{ ip: { type: 'V4', addr: '10.0.0.1' } }] });
  assert.ok(poolA.tenant_ref.includes('/api/tenant/tenant-'));
  // Same name in another tenant is fine.
  await b.create('pool', { name: 'mine' });
  assert.equal((await b.get('/api/pool?name=mine')).body.count, 1);
  assert.equal((await b.get(`/api/pool/${poolA.uuid}`)).status, 404, 'B cannot read A\'s pool');
  assert.equal((await b.put(`/api/pool/${poolA.uuid}`, { name: 'mine' })).status, 404);
  assert.equal((await b.del(`/api/pool/${poolA.uuid}`)).status, 404);
  assert.equal((await t.api.get('/api/pool?name=mine')).body.count, 0, 'admin tenant does not list team-a objects');
  assert.equal((await b.post('/api/poolgroup', { name: 'steal', members: [{ pool_ref: `/api/pool/${poolA.uuid}` }] })).status, 400, 'refs do not cross tenants');
  // System objects of admin are visible and usable, but read-only.
  const http = await a.get('/api/applicationprofile?name=System-HTTP');
  assert.equal(http.body.count, 1);
  assert.equal((await a.put(`/api/applicationprofile/${http.body.results[0].uuid}`, http.body.results[0])).status, 403);
  assert.equal((await a.del(`/api/applicationprofile/${http.body.results[0].uuid}`)).status, 403);
  assert.equal((await a.create('virtualservice', { name: 'vs', pool_ref: '/api/pool?name=mine', application_profile_ref: '/api/applicationprofile/?name=System-HTTP', services: [{ port: 80 }] })).name, 'vs');
  const tenants = await a.get('/api/tenant');
  assert.deepEqual(tenants.body.results.map((x: any) => x.name), ['team-a']);
  assert.equal((await t.api.tenant('nope').get('/api/pool')).status, 404);
  // A user limited to team-a.
  await t.api.create('user', { name: 'alice', password: 'alice-pw', default_tenant_ref: '/api/tenant?name=team-a', access: [{ tenant_ref: '/api/tenant?name=team-a' }] });
  const alice = new Client(t.c.url, 'alice', 'alice-pw');
  assert.equal((await alice.get('/api/pool')).body.results[0].name, 'mine');
  assert.equal((await alice.tenant('team-b').get('/api/pool')).status, 403);
  assert.equal((await alice.tenant('admin').get('/api/pool')).status, 403);
});

test('secrets are write-only: keys and passwords never come back', async () => {
  const c = selfSigned({ commonName: 'secret.example.com' });
  const cert = await t.api.create('sslkeyandcertificate', { name: 'secret-cert', certificate: { certificate: c.cert }, key: c.key, key_passphrase: 'unused' });
  const user = await t.api.create('user', { name: 'bob', password: 'bob-secret-pw' });
  for (const path of [`/api/sslkeyandcertificate/${cert.uuid}`, '/api/sslkeyandcertificate', `/api/user/${user.uuid}`, '/api/user', '/api/openapi.json']) {
    const text = JSON.stringify((await t.api.get(path)).body);
    assert.ok(!text.includes('PRIVATE KEY'), `${path}: no key`);
    assert.ok(!text.includes('bob-secret-pw') && !text.includes('scrypt$'), `${path}: no password or hash`);
  }
  assert.equal(cert.key, undefined);
  // Certificate PEM comes back exactly as written, parsed fields next to it.
  assert.equal(cert.certificate.certificate, c.cert);
  assert.equal(cert.certificate.subject.common_name, 'secret.example.com');
  assert.equal(cert.certificate.expiry_status, 'SSL_CERTIFICATE_GOOD');
  // A PUT without the key keeps the stored key (clients cannot send back what they never read).
  const put = await t.api.put(`/api/sslkeyandcertificate/${cert.uuid}`, { ...cert, markers: [{ key: 'k', values: ['v'] }] });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal((await t.c.host.get('sslkeyandcertificate', cert.uuid))?.key, c.key, 'the engine host sees the key');
  // The user can log in with the password it was given; a PUT without password keeps it.
  await t.api.put(`/api/user/${user.uuid}`, { ...user, full_name: 'Bob' });
  const bob = new Client(t.c.url, 'bob', 'bob-secret-pw');
  assert.equal((await bob.get('/api/pool')).status, 200);
  // Bob is no superuser: he cannot make himself one, nor create users or tenants.
  assert.equal((await bob.put(`/api/user/${user.uuid}`, { ...user, is_superuser: true })).status, 403);
  assert.equal((await bob.post('/api/user', { name: 'mallory', password: 'x', is_superuser: true })).status, 403);
  assert.equal((await bob.post('/api/tenant', { name: 'bobs' })).status, 403);
  assert.equal((await bob.post('/api/pool', { name: 'bobs-pool' })).status, 201, 'ordinary objects are fine');
});
