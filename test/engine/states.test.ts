// VS states the SE reports: an SNI child follows its parent's listener and its own pool.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, httpBackend, silentLog } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('VH child: up with its parent and a server, down without a server or without its parent', async () => {
  const b = await httpBackend('127.21.85.1', 'child');
  cleanups.push(() => b.close());
  const s = new SnapshotBuilder();
  const httpProfile = s.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const parent = s.add('virtualservice', { name: 'parent', type: 'VS_TYPE_VH_PARENT', enabled: true, vsvip_ref: s.vsvip('127.21.8.5'), application_profile_ref: httpProfile, network_profile_ref: s.tcpProfile, services: [{ port: 9600 }] });
  const pool = s.pool('cp', [b]);
  const child = s.add('virtualservice', { name: 'child', type: 'VS_TYPE_VH_CHILD', enabled: true, vh_parent_vs_ref: parent, vh_domain_name: ['c.example.com'], application_profile_ref: httpProfile, pool_ref: pool });
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  const state = (uuid: string) => rt.vsStates().find((v) => v.uuid === uuid);
  assert.equal(state(parent)?.oper_state, 'OPER_UP');
  assert.equal(state(child)?.oper_state, 'OPER_UP');
  s.get('pool', pool).servers[0].enabled = false;
  await rt.apply(s.build());
  assert.match(state(child)!.reason!, /no server up/);
  s.get('pool', pool).servers[0].enabled = true;
  s.remove('virtualservice', parent);
  await rt.apply(s.build());
  assert.match(state(child)!.reason!, /parent/);
});
