import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry, typeInfo, typeOfUuid } from '../../src/model/registry.js';
import { visitPath } from '../../src/model/paths.js';

test('the registry finds nested refs with their target types', () => {
  const refs = (t: string) => Object.fromEntries(typeInfo(t)!.refs.map((r) => [r.path, r.target]));
  assert.equal(refs('poolgroup')['members[].pool_ref'], 'pool');
  assert.equal(refs('vsvip')['vip[].ipam_network_subnet.network_ref'], 'network');
  assert.equal(refs('httppolicyset')['http_request_policy.rules[].switching_action.pool_ref'], 'pool');
  assert.equal(refs('l4policyset')['l4_connection_policy.rules[].action.select_pool.pool_ref'], 'pool');
  assert.equal(refs('ipamdnsproviderprofile')['internal_profile.usable_networks[].nw_ref'], 'network');
  assert.equal(refs('pool')['health_monitor_refs[]'], 'healthmonitor');
  assert.equal(refs('virtualservice')['vh_parent_vs_ref'], 'virtualservice');
});

test('every ref target is a known type; secrets are write-only', () => {
  for (const info of registry.values()) for (const r of info.refs) assert.ok(registry.has(r.target), `${info.type}.${r.path} → ${r.target}`);
  assert.deepEqual(typeInfo('sslkeyandcertificate')!.writeOnly.map((f) => f.path).sort(), ['key', 'key_passphrase']);
  assert.ok(typeInfo('user')!.writeOnly.some((f) => f.path === 'password'));
  assert.ok(typeInfo('virtualservice')!.cloudScoped);
  assert.equal(typeOfUuid('se-1234')?.type, 'serviceengine');
  assert.equal(typeOfUuid('admin')?.type, 'tenant');
});

test('visitPath reaches every element of nested arrays', () => {
  const obj = { a: [{ b: [{ c: 1 }, { c: 2 }] }, { b: [{ c: 3 }] }] };
  const seen: string[] = [];
  visitPath(obj, ['a', '[]', 'b', '[]', 'c'], (v, _p, _k, at) => seen.push(`${at}=${v}`));
  assert.deepEqual(seen, ['a[0].b[0].c=1', 'a[0].b[1].c=2', 'a[1].b[0].c=3']);
});
