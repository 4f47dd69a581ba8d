// Health score rules (pure), the metric ids the API serves from stored rows, and the VS oper state across SEs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthScore } from '../../src/controller/analytics/health.js';
import { METRICS } from '../../src/controller/analytics/routes.js';

const base = { oper_state: 'OPER_UP', percent_ses_up: 100, servers_up: 2, servers_total: 2, responses: 100, errors_5xx: 0 };

test('health score: 100 when all is well, and each factor named when it takes points', () => {
  assert.deepEqual(healthScore(base), { health_score: 100, performance_score: 100, anomaly_penalty: 0, resources_penalty: 0, security_penalty: 0, factors: [] });
  const down = healthScore({ ...base, oper_state: 'OPER_DOWN' });
  assert.equal(down.health_score, 0);
  assert.deepEqual(down.factors, ['virtual service is OPER_DOWN']);
  const h = healthScore({ ...base, servers_up: 3, servers_total: 4, errors_5xx: 10, se_cpu_percent: 96, cert_days_left: 12.5 });
  assert.equal(h.performance_score, 75);
  assert.equal(h.anomaly_penalty, 10);
  assert.equal(h.resources_penalty, 20);
  assert.equal(h.security_penalty, 10);
  assert.equal(h.health_score, 35);
  assert.deepEqual(h.factors, ['pool servers up: 3 of 4', '10.0% of responses were 5xx', 'service engine CPU at 96%', 'a certificate expires in 12 days']);
  assert.equal(healthScore({ ...base, errors_5xx: 100, servers_up: 0, cert_days_left: -1 }).health_score, 0, 'never below 0');
});

test('metric ids: rates per second over the step, latency as an average, bandwidth in bits', () => {
  const row = { ts: 0, connections: 10, requests: 50, responses_2xx: 40, responses_3xx: 0, responses_4xx: 5, responses_5xx: 5, bytes_in: 1000, bytes_out: 4000, latency_ms_sum: 250, latency_count: 50, open_conns: 0, servers_up: 1, servers_total: 2, health: 50 };
  assert.equal(METRICS['l7_client.avg_complete_responses']!.value(row, 5), 10);
  assert.equal(METRICS['l4_client.avg_bandwidth']!.value(row, 5), 8000);
  assert.equal(METRICS['l7_client.avg_client_txn_latency']!.value(row, 5), 5);
  assert.equal(METRICS['l7_client.pct_response_errors']!.value(row, 300), 20);
  assert.equal(METRICS['l4_server.avg_health']!.value(row, 5), 50);
  assert.equal(METRICS['l4_server.avg_health']!.value({ ...row, servers_total: 0 }, 5), undefined, 'no servers: no point');
});

test('health score: a partitioned VS still serves, scored by the share of its SEs up', () => {
  const h = healthScore({ ...base, oper_state: 'OPER_PARTITIONED', percent_ses_up: 50 });
  assert.equal(h.health_score, 50);
  assert.deepEqual(h.factors, ['service engines up: 50%']);
});

test('runtime: a VS placed on two SEs, up on one and the other missing heartbeats, is OPER_PARTITIONED', async () => {
  const { EngineRegistry } = await import('../../src/controller/engines/registry.js');
  const reg = new EngineRegistry();
  reg.placement = { sesOf: () => ['se-a', 'se-b'], reasonOf: () => undefined, seName: (u) => u };
  const report = { applied_version: 1, virtualservices: [{ uuid: 'vs-1', oper_state: 'OPER_UP' as const }], servers: [] };
  reg.engines.set('se-a', { uuid: 'se-a', name: 'a', groupUuid: 'g', lastHeartbeat: Date.now(), intervalMs: 1000, report });
  reg.engines.set('se-b', { uuid: 'se-b', name: 'b', groupUuid: 'g', lastHeartbeat: Date.now() - 60_000, intervalMs: 1000, report });
  const rt = reg.virtualServiceRuntime('vs-1', 'g');
  assert.equal(rt.oper_status.state, 'OPER_PARTITIONED');
  assert.deepEqual(rt.oper_status.reason, ['up on 1 of 2 service engines', 'service engine b is not connected']);
  assert.equal(rt.percent_ses_up, 50);
  reg.engines.get('se-b')!.lastHeartbeat = Date.now();
  assert.equal(reg.virtualServiceRuntime('vs-1', 'g').oper_status.state, 'OPER_UP', 'both up again');
});

test('heartbeat metrics: counters by VS, pool and server must be objects of numbers (400 naming the place)', async () => {
  const { validateHeartbeat } = await import('../../src/controller/engines/validate.js');
  const hb = (metrics: unknown) => ({ applied_version: 1, virtualservices: [], servers: [], metrics });
  validateHeartbeat(hb({ virtualservice: { 'vs-1': { requests: 3, open_conns: 1 } }, pool: { 'pool-1': { requests: 3 } }, server: { 'pool-1/127.0.0.1:80': { requests: 3, open_conns: 0 } } }));
  validateHeartbeat(hb({ virtualservice: {} }));
  assert.throws(() => validateHeartbeat(hb({ pool: { 'pool-1': null } })), /metrics\.pool\["pool-1"\]: an object of numbers/);
  assert.throws(() => validateHeartbeat(hb({ server: { 'p/1.2.3.4:80': { requests: 'many' } } })), /metrics\.server\["p\/1\.2\.3\.4:80"\]/);
  assert.throws(() => validateHeartbeat(hb({ virtualservice: [1] })), /metrics\.virtualservice: an object of counters by key/);
});
