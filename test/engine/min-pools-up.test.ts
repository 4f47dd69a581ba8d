// min_pools_up (AKO sets 1 on EVH children): a VS whose pools sit behind policies is reported down
// while fewer than that many of them have a server up, and up again when one comes back. A VS
// without it stays up (its rules may route elsewhere). Addresses: 127.112.4.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { poolsOfVs } from '../../src/engine/runtime/min-pools-up.js';
import { indexSnapshot } from '../../src/engine/snapshot.js';
import { SnapshotBuilder, silentLog, tcpBackend, until } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('a VS with min_pools_up is down while its policy pools have no server up, and up again after', async () => {
  let b = await tcpBackend('127.112.4.10', 'b');
  cleanups.push(() => b.close());
  const port = b.port;
  const s = new SnapshotBuilder();
  const hm = s.add('healthmonitor', { name: 'tcp-fast', type: 'HEALTH_MONITOR_TCP', send_interval: 1, receive_timeout: 1, successful_checks: 1, failed_checks: 1 });
  const pool = s.pool('p', [b], { health_monitor_refs: [hm] });
  const group = s.add('poolgroup', { name: 'g', members: [{ pool_ref: pool, ratio: 1 }] });
  const rules = s.add('httppolicyset', {
    name: 'routes',
    http_request_policy: { rules: [
      { name: 'to-pool', index: 1, enable: true, match: { path: { match_criteria: 'BEGINS_WITH', match_str: ['/a'] } }, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: pool } },
      { name: 'to-group', index: 2, enable: true, match: { path: { match_criteria: 'BEGINS_WITH', match_str: ['/b'] } }, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOLGROUP', pool_group_ref: group } },
    ] },
  });
  const httpProfile = s.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const vs = (name: string, addr: string, extra: Record<string, unknown>) => s.add('virtualservice', {
    name, type: 'VS_TYPE_NORMAL', enabled: true, vsvip_ref: s.vsvip(addr), application_profile_ref: httpProfile,
    network_profile_ref: s.tcpProfile, services: [{ port: 9501 }], http_policies: [{ index: 11, http_policy_set_ref: rules }], ...extra,
  });
  const guarded = vs('guarded', '127.112.4.1', { min_pools_up: 1 });
  const plain = vs('plain', '127.112.4.2', {});
  const snap = s.build();
  const index = indexSnapshot(snap);
  assert.deepEqual([...poolsOfVs(index.get('virtualservice')!.get(guarded)!, index)], [pool], 'the rule pool and the group member, once');

  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(snap);
  const state = (id: string) => rt.vsStates().find((v) => v.uuid === id)!;
  await until('up with a server', () => state(guarded).oper_state === 'OPER_UP');

  await b.close();
  await until('guarded VS down', () => state(guarded).oper_state === 'OPER_DOWN', 15_000);
  assert.match(state(guarded).reason!, /0 of its 1 pools have a server up; min_pools_up is 1/);
  assert.equal(state(plain).oper_state, 'OPER_UP', 'without min_pools_up a policy VS stays up');

  b = await tcpBackend('127.112.4.10', 'b', port);
  await until('guarded VS up again', () => state(guarded).oper_state === 'OPER_UP', 15_000);
});
