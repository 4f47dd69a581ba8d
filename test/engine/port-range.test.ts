// Port ranges are bounded by file descriptors, not by a fixed width: the budget is the open-files
// limit less a reserve, and a VS asking for more is refused with a reason while the others serve.
// Addresses: 127.102.6.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { budgetFrom, listenerBudget } from '../../src/engine/runtime/routes.js';
import { SnapshotBuilder, silentLog, tcpBackend, tcpExchange } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('the listener budget follows the open-files limit', () => {
  assert.equal(budgetFrom(1024), 768);
  assert.equal(budgetFrom(20_000), 15_000);
  assert.equal(budgetFrom(1_048_576), 1_048_576 - 16_384);
  assert.equal(budgetFrom(undefined), Infinity);
});

test('a range beyond the budget is refused with the reason; other VSes are served', { skip: listenerBudget() >= 65_535 && 'open-files limit allows the full range here' }, async () => {
  const b = await tcpBackend('127.102.6.10', 'ok');
  cleanups.push(() => b.close());
  const s = new SnapshotBuilder();
  const pool = s.pool('p', [b]);
  const wide = s.l4vs('too-wide', '127.102.6.1', [], pool, { services: [{ port: 1, port_range_end: 65535 }] });
  s.l4vs('fine', '127.102.6.2', [9601], pool);
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  const state = rt.vsStates().find((v) => v.uuid === wide)!;
  assert.equal(state.oper_state, 'OPER_DOWN');
  assert.match(state.reason!, /65535 listening sockets exceed this engine's budget of \d+ .*open-files limit/);
  assert.match(await tcpExchange('127.102.6.2', 9601, 'x'), /^ok:x/);
  assert.equal(rt.listenerKeys().length, 1);
});
