// The controller side of the L2 namespace tests: a REST client that asserts success, the seeded
// DNS VS disabled (it would take the VIP range's first address on an SE's eth0), and a join
// token for Default-Group.
import assert from 'node:assert/strict';
import type { Controller } from '../../src/controller/server.js';
import { Client } from '../controller/support.js';

export interface L2Controller {
  api: Client;
  /** A call that must succeed (status < 300); its body. */
  ok(method: string, path: string, body?: unknown): Promise<any>;
  token: string;
}

export async function prepareL2Controller(ctl: Controller): Promise<L2Controller> {
  const api = new Client(ctl.url);
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await api.req(method, path, body);
    assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const dns = (await ok('GET', '/api/virtualservice?name=local-dns-vs')).results[0];
  await ok('PATCH', `/api/virtualservice/${dns.uuid}`, { replace: { enabled: false } });
  const group = (await ok('GET', '/api/serviceenginegroup?name=Default-Group')).results[0];
  const { token } = await ok('POST', `/api/serviceenginegroup/${group.uuid}/jointoken`, {});
  return { api, ok, token };
}
