// The operator's REST client against the real controller: session login + CSRF and basic auth,
// paging through `next`, 409/404/400 turned into error classes; and the classification table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerClient } from '../../src/operator/controller-client/client.js';
import { ControllerError, classify, retryOf } from '../../src/operator/controller-client/errors.js';
import { ADMIN_PASSWORD, startTestController, type TestController } from './support/controller.js';

test('error classes decide the retry as AKO does (§1.3)', () => {
  assert.equal(classify(400, 'No available free IPs in network local-vip'), 'ip-exhausted');
  assert.equal(classify(400, 'VrfContext object not found!'), 'missing-infra');
  assert.equal(classify(403, "Tenant 'x' does not exist!"), 'missing-infra');
  assert.equal(classify(403, 'Configuration is disallowed during upgrade'), 'missing-infra');
  assert.equal(classify(409, 'pool x already exists'), 'conflict');
  assert.equal(classify(412, 'Need to reload object data VsVip'), 'conflict');
  assert.equal(classify(503, 'controller not ready'), 'server');
  assert.equal(classify(404, 'no such object'), 'not-found');
  assert.equal(classify(401, 'Invalid credentials'), 'bad-credentials');
  assert.equal(classify(401, 'session expired'), 'auth');
  assert.equal(classify(400, "Changing an existing VIP's vip_id is not supported"), 'invalid');
  assert.equal(classify(0, 'ECONNREFUSED'), 'network');
  assert.equal(retryOf('ip-exhausted'), 'slow');
  assert.equal(retryOf('conflict'), 'fast');
  assert.equal(retryOf('server'), 'fast');
  assert.equal(retryOf('invalid'), 'none');
});

describe('controller client against the real controller', () => {
  let ctl: TestController | undefined;
  let skip: string | undefined;
  const clients: ControllerClient[] = [];
  before(async () => {
    const c = await startTestController('127.30.10.1', '127.30.11.0/28');
    if ('unavailable' in c) skip = c.unavailable;
    else ctl = c;
  });
  after(async () => {
    for (const c of clients) await c.close();
    await ctl?.stop();
  });
  const client = (auth: 'session' | 'basic', password = ADMIN_PASSWORD) => {
    const c = new ControllerClient({ url: ctl!.url, username: 'admin', password, auth });
    clients.push(c);
    return c;
  };

  test('session login with CSRF writes, pages through next, errors by class', async (t) => {
    if (skip) return t.skip(skip);
    const c = client('session');
    for (let i = 0; i < 5; i++) await c.create('pool', { name: `cc-pool-${i}`, created_by: 'ako-cc', servers: [] });
    const all = await c.list('pool', { created_by: 'ako-cc' }, undefined, 2);
    assert.deepEqual(all.map((p) => p.name).sort(), ['cc-pool-0', 'cc-pool-1', 'cc-pool-2', 'cc-pool-3', 'cc-pool-4']);
    const dup = await c.create('pool', { name: 'cc-pool-0', servers: [] }).catch((e) => e);
    assert.ok(dup instanceof ControllerError);
    assert.equal(dup.status, 409);
    assert.equal(dup.errorClass, 'conflict');
    const bad = await c.create('pool', { name: 'cc-bad', servers: [{ ip: { type: 'V4', addr: 'not-an-ip' }, port: 80 }] }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.equal(bad.errorClass, 'invalid');
    const missing = await c.replace('pool', 'pool-00000000-0000-4000-8000-000000000000', { name: 'x' }).catch((e) => e);
    assert.equal(missing.status, 404);
    assert.equal(missing.errorClass, 'not-found');
    await c.remove('pool', 'pool-00000000-0000-4000-8000-000000000000');
    const one = await c.byName('pool', 'cc-pool-3');
    assert.match(one!.tenant_ref, /#admin$/, 'include_name gives #name on refs');
  });

  test('basic auth works; wrong credentials are bad-credentials', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal((await client('basic').list('pool', { created_by: 'ako-cc' })).length, 5);
    const wrong = await client('session', 'not-the-password').list('pool').catch((e) => e);
    assert.ok(wrong instanceof ControllerError);
    assert.equal(wrong.errorClass, 'bad-credentials');
    assert.ok(!wrong.message.includes('not-the-password'));
  });
});
