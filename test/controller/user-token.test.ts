// API tokens (/api/user-token) and token login, as AKO's avicredentials.authtoken uses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController } from './support.js';
import { ControllerClient } from '../../src/operator/controller-client/client.js';


test('a token is shown once, logs in (also through the operator client), survives a restart and is revoked by DELETE', async () => {
  let t = await startTestController();
  try {
    const created = await t.api.post('/api/user-token', { hours: '240' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { token, uuid, expires_at } = created.body;
    assert.match(token, /^[0-9a-f]{40}$/);
    const hours = (Date.parse(expires_at) - Date.now()) / 3600_000;
    assert.ok(hours > 239 && hours <= 240, `expires in ${hours} h`);

    const listed = await t.api.get('/api/user-token');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.results.map((r: any) => r.uuid), [uuid]);
    const everything = JSON.stringify([listed.body, (await t.api.get('/api/user?name=admin')).body]);
    assert.ok(!everything.includes(token), 'the token value is never listed');
    assert.ok(!everything.includes('token_hash') && !everything.includes('access_tokens'), 'hashes stay internal');

    // Changing the user through the API keeps its tokens.
    const admin = (await t.api.get('/api/user?name=admin')).body.results[0];
    assert.equal((await t.api.put(`/api/user/${admin.uuid}`, { ...admin, full_name: 'Admin Person' })).status, 200);

    const anon = t.api.withHeaders({ authorization: undefined });
    assert.equal((await anon.post('/login', { username: 'admin', token: 'f'.repeat(40) })).status, 401);
    const login = await anon.post('/login', { username: 'admin', token });
    assert.equal(login.status, 200);
    const sid = login.headers.getSetCookie().find((c) => c.startsWith('sessionid='))!.split(';')[0]!;
    assert.equal((await anon.withHeaders({ cookie: sid }).get('/api/pool')).status, 200);

    const op = new ControllerClient({ url: t.c.url, username: 'admin', token });
    try {
      assert.ok(Array.isArray(await op.list('cloud')));
      // The refresh AKO does every 12 h: a new token, then logins use it.
      let fresh = '';
      const refreshing = new ControllerClient({ url: t.c.url, username: 'admin', token, onTokenRefreshed: (tk) => { fresh = tk; } });
      try {
        await refreshing.refreshToken();
        assert.match(fresh, /^[0-9a-f]{40}$/);
        assert.notEqual(fresh, token);
        await refreshing.login();
        assert.ok(Array.isArray(await refreshing.list('cloud')));
      } finally { await refreshing.close(); }
      assert.equal((await t.api.get('/api/user-token')).body.count, 2);
    } finally { await op.close(); }

    await t.stop(true);
    t = await startTestController({ dir: t.dir });
    assert.equal((await t.api.withHeaders({ authorization: undefined }).post('/login', { username: 'admin', token })).status, 200, 'kept across a restart');

    assert.equal((await t.api.del(`/api/user-token/${uuid}`)).status, 204);
    assert.equal((await t.api.del(`/api/user-token/${uuid}`)).status, 404);
    assert.equal((await t.api.withHeaders({ authorization: undefined }).post('/login', { username: 'admin', token })).status, 401, 'revoked');
  } finally {
    await t.stop();
  }
});

test('bad token requests answer 4xx naming the field', async () => {
  const t = await startTestController();
  try {
    for (const hours of ['soon', -1, 0, 1e9, {}]) {
      const r = await t.api.post('/api/user-token', { hours });
      assert.equal(r.status, 400, JSON.stringify(hours));
      assert.match(r.body.error, /^hours:/);
    }
    assert.equal((await t.api.withHeaders({ authorization: undefined }).post('/api/user-token', {})).status, 401);
    assert.equal((await t.api.withHeaders({ authorization: undefined }).post('/login', { username: 'admin', token: 42 })).status, 400);
    const dflt = await t.api.post('/api/user-token', {});
    assert.equal(dflt.status, 201);
    assert.equal(dflt.body.hours, 24);
  } finally {
    await t.stop();
  }
});
