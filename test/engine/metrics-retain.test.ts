// Pool and server metric series follow the configuration: a server or pool removed from the
// snapshot stops being exported (real L4 sessions feed them). Addresses: 127.102.7.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, silentLog, tcpBackend, tcpExchange, until } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('series of removed servers and pools are dropped; the others keep counting', async () => {
  const a = await tcpBackend('127.102.7.10', 'a');
  const b = await tcpBackend('127.102.7.11', 'b');
  cleanups.push(() => a.close(), () => b.close());
  const s = new SnapshotBuilder();
  const pool = s.pool('p', [a, b], { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' });
  const vs = s.l4vs('m', '127.102.7.1', [9701], pool);
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  for (let i = 0; i < 4; i++) await tcpExchange('127.102.7.1', 9701, 'x');
  const count = (text: string, labels: string) => text.split('\n').find((l) => l.startsWith(`portico_server_latency_seconds_count{${labels}}`))?.split(' ')[1];
  const server = (x: { ip: string; port: number }) => `pool="${pool}",server="${x.ip}:${x.port}"`;
  const text = await until('sessions observed', async () => {
    const t = await rt.metrics.registry.metrics();
    return count(t, server(a)) === '2' && count(t, server(b)) === '2' ? t : undefined;
  });
  assert.match(text, new RegExp(`portico_pool_latency_seconds_count\\{pool="${pool}"\\} 4`));

  s.get('pool', pool).servers.pop();
  await rt.apply(s.build());
  let now = await rt.metrics.registry.metrics();
  assert.equal(count(now, server(b)), undefined, 'server b left the pool');
  assert.equal(count(now, server(a)), '2');
  assert.equal(rt.metrics.targetSummary().server[`${pool}/${b.ip}:${b.port}`], undefined);

  s.remove('virtualservice', vs);
  s.remove('pool', pool);
  await rt.apply(s.build());
  now = await rt.metrics.registry.metrics();
  assert.ok(!now.includes(pool), 'the pool is gone from /metrics');
  assert.deepEqual(rt.metrics.targetSummary().pool, {});
});
