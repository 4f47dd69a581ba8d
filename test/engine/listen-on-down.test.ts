// remove_listening_port_on_vs_down: when the pool of a VS has no server up, its ports stop
// listening (clients get "connection refused", not a reset or a 503), and listen again when a
// server comes back. A VS without the flag keeps accepting. Addresses: 127.102.4.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, silentLog, tcpBackend, tcpExchange, until } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** 'refused' when nothing listens, 'open' when the connection is accepted (a reset right after accept is accepted too). */
function probe(host: string, port: number): Promise<'refused' | 'open'> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('open');
    });
    s.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : err.code === 'ECONNRESET' ? resolve('open') : reject(err)));
  });
}

function httpStatus(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

test('ports close while every server of the pool is down and open again when one is back', async () => {
  let b = await tcpBackend('127.102.4.10', 'b');
  cleanups.push(() => b.close());
  const port = b.port;
  const s = new SnapshotBuilder();
  const hm = s.add('healthmonitor', { name: 'tcp-fast', type: 'HEALTH_MONITOR_TCP', send_interval: 1, receive_timeout: 1, successful_checks: 1, failed_checks: 1 });
  const pool = s.pool('p', [b], { health_monitor_refs: [hm] });
  const l4 = s.l4vs('l4-removes', '127.102.4.1', [9401, 9402], pool, { remove_listening_port_on_vs_down: true });
  s.l4vs('l4-keeps', '127.102.4.2', [9403], pool);
  const httpProfile = s.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const l7 = s.add('virtualservice', {
    name: 'l7-removes', type: 'VS_TYPE_NORMAL', enabled: true, vsvip_ref: s.vsvip('127.102.4.3'), application_profile_ref: httpProfile,
    network_profile_ref: s.tcpProfile, services: [{ port: 9404 }], pool_ref: pool, remove_listening_port_on_vs_down: true,
  });
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());
  assert.match(await tcpExchange('127.102.4.1', 9401, 'x'), /^b:x/);
  assert.equal(await probe('127.102.4.3', 9404), 'open');

  await b.close();
  await until('ports closed', async () => (await probe('127.102.4.1', 9401)) === 'refused', 15_000);
  await until('every port of both flagged VSes closed', async () => (await probe('127.102.4.1', 9402)) === 'refused' && (await probe('127.102.4.3', 9404)) === 'refused', 15_000);
  // Without the flag the VS still accepts (and closes the client at once: no server).
  assert.equal(await probe('127.102.4.2', 9403), 'open');
  const state = rt.vsStates().find((v) => v.uuid === l4)!;
  assert.equal(state.oper_state, 'OPER_DOWN');
  assert.match(state.reason!, /remove_listening_port_on_vs_down/);
  assert.equal(rt.vsStates().find((v) => v.uuid === l7)!.oper_state, 'OPER_DOWN');

  b = await tcpBackend('127.102.4.10', 'b', port);
  await until('listening again', async () => (await probe('127.102.4.1', 9401)) === 'open', 15_000);
  assert.match(await tcpExchange('127.102.4.1', 9402, 'y'), /^b:y/);
  await until('L7 port back', async () => (await probe('127.102.4.3', 9404)) === 'open', 15_000);
  // The L7 VS proxies again (the TCP backend does not speak HTTP: 502 shows the request reached the pool).
  assert.equal(await httpStatus('127.102.4.3', 9404), 502);
  assert.equal(rt.vsStates().find((v) => v.uuid === l4)!.oper_state, 'OPER_UP');
});
