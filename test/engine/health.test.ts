// Health monitors against real servers: TCP, HTTP (expected codes), UDP and DNS monitors take
// a server out of rotation and bring it back, and the VS oper state follows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { runCheck, monitorSpecFrom } from '../../src/engine/health/checks.js';
import { SnapshotBuilder, httpBackend, silentLog, tcpBackend, tcpExchange, udpBackend, until } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const fast = { send_interval: 1, receive_timeout: 1, successful_checks: 1, failed_checks: 1 };

test('TCP monitor: a stopped server leaves the rotation and comes back when it listens again', async () => {
  const a = await tcpBackend('127.21.30.1', 'a');
  let b = await tcpBackend('127.21.30.2', 'b');
  cleanups.push(() => a.close(), () => b.close());
  const s = new SnapshotBuilder();
  const hm = s.add('healthmonitor', { name: 'tcp-fast', type: 'HEALTH_MONITOR_TCP', ...fast });
  const pool = s.pool('p', [a, b], { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', health_monitor_refs: [hm] });
  const vs = s.l4vs('hc', '127.21.3.1', [9101], pool);
  const changes: number[] = [];
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog, () => changes.push(Date.now()));
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  const port = b.port;
  await b.close();
  await until('b marked down', () => rt.serverStates().find((x) => x.ip === '127.21.30.2')?.state === 'DOWN');
  const down = rt.serverStates().find((x) => x.ip === '127.21.30.2')!;
  assert.match(down.reason!, /tcp-fast/);
  for (let i = 0; i < 6; i++) assert.match(await tcpExchange('127.21.3.1', 9101, 'x'), /^a:x/);
  b = await tcpBackend('127.21.30.2', 'b', port);
  await until('b back up', () => rt.serverStates().find((x) => x.ip === '127.21.30.2')?.state === 'UP');
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add((await tcpExchange('127.21.3.1', 9101, 'x')).split(':')[0]);
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  // Both down: the VS goes down.
  await a.close();
  await b.close();
  await until('VS down', () => rt.vsStates().find((v) => v.uuid === vs)?.oper_state === 'OPER_DOWN');
  assert.ok(changes.length >= 3, 'state changes are signalled (heartbeat wake-up)');
});

test('HTTP monitor: expected status codes decide', async () => {
  const b = await httpBackend('127.21.31.1', 'h');
  cleanups.push(() => b.close());
  const s = new SnapshotBuilder();
  const hm = s.add('healthmonitor', { name: 'http-fast', type: 'HEALTH_MONITOR_HTTP', ...fast, http_monitor: { http_request: 'GET /health HTTP/1.1', http_response_code: ['HTTP_2XX'] } });
  s.l4vs('hc-http', '127.21.3.2', [9102], s.pool('p', [b], { health_monitor_refs: [hm] }));
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  await until('probed', () => b.connections > 0);
  assert.equal(rt.serverStates()[0].state, 'UP');
  b.status = 503;
  await until('down on 503', () => rt.serverStates()[0].state === 'DOWN');
  assert.match(rt.serverStates()[0].reason!, /HTTP status 503/);
  b.status = 204;
  await until('up on 204', () => rt.serverStates()[0].state === 'UP');
});

test('HTTPS, UDP and DNS checks answer up and down', async () => {
  const udp = await udpBackend('127.21.32.1', 'u');
  cleanups.push(() => udp.close());
  const spec = (o: Record<string, unknown>) => monitorSpecFrom({ uuid: 'healthmonitor-x', name: 'm', receive_timeout: 1, ...o });
  assert.deepEqual(await runCheck(spec({ type: 'HEALTH_MONITOR_UDP', udp_monitor: { udp_request: 'ping', udp_response: 'u:ping' } }), udp.ip, udp.port), { ok: true });
  const closedPort = await runCheck(spec({ type: 'HEALTH_MONITOR_UDP' }), '127.21.32.9', 9);
  assert.equal(closedPort.ok, false);
  // A DNS server that answers NOERROR for one name and NXDOMAIN otherwise.
  const dns = dgram.createSocket('udp4');
  dns.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    const ok = q.questions?.[0]?.name === 'ok.test';
    dns.send(dnsPacket.encode({ type: 'response', id: q.id, flags: ok ? 0 : 3, questions: q.questions }), r.port, r.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.21.32.2', r));
  cleanups.push(() => new Promise((r) => dns.close(() => r(undefined))));
  const dport = dns.address().port;
  assert.deepEqual(await runCheck(spec({ type: 'HEALTH_MONITOR_DNS', dns_monitor: { query_name: 'ok.test' } }), '127.21.32.2', dport), { ok: true });
  const nx = await runCheck(spec({ type: 'HEALTH_MONITOR_DNS', dns_monitor: { query_name: 'no.test' } }), '127.21.32.2', dport);
  assert.equal(nx.ok, false);
  assert.match(nx.reason!, /NXDOMAIN/);
  // HTTPS against a plain listener fails (no TLS), against nothing is refused.
  const plain = http.createServer((_q, res) => res.end());
  await new Promise<void>((r) => plain.listen(0, '127.21.32.3', r));
  cleanups.push(() => new Promise((r) => plain.close(() => r(undefined))));
  const https = await runCheck(spec({ type: 'HEALTH_MONITOR_HTTPS' }), '127.21.32.3', (plain.address() as { port: number }).port);
  assert.equal(https.ok, false);
});

test('changing a pool\'s monitors keeps a down server down until the new monitor sees it healthy', async () => {
  const dead = '127.21.33.1';
  const s = new SnapshotBuilder();
  const hm1 = s.add('healthmonitor', { name: 'tcp-a', type: 'HEALTH_MONITOR_TCP', ...fast });
  const pool = s.pool('p', [{ ip: dead, port: 9 }], { health_monitor_refs: [hm1] });
  s.l4vs('mon-change', '127.21.3.3', [9103], pool);
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  await until('down', () => rt.serverStates()[0].state === 'DOWN');
  const hm2 = s.add('healthmonitor', { name: 'tcp-b', type: 'HEALTH_MONITOR_TCP', ...fast, send_interval: 3600 });
  s.get('pool', pool).health_monitor_refs = [hm2];
  await rt.apply(s.build());
  assert.equal(rt.serverStates()[0].state, 'DOWN', 'not optimistic after a monitor change');
  s.get('pool', pool).health_monitor_refs = [];
  await rt.apply(s.build());
  assert.equal(rt.serverStates()[0].state, 'UP', 'no monitors: up');
});
