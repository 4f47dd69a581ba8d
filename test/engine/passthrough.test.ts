// SNI passthrough on a real runtime: an L4 VS with AKO's passthrough datascript sends each TLS
// connection, untouched, to the pool group named prefix+SNI (the client sees the backend's own
// certificate); no SNI, an unknown name or plain text is closed; a datascript of another shape
// leaves the VS unserved with the reason in its state. Loopback range 127.108.0.0/16.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { akoPassthroughScript, passthroughPrefix, peekSni, PEEK_TIMEOUT_MS } from '../../src/engine/l4/passthrough.js';
import { SnapshotBuilder, httpBackend, silentLog, until } from './support.js';
import { httpGet } from '../../src/demo/probes.js';
import { startTlsBackend, tlsExchange, type TlsBackend } from './passthrough-support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function tlsBackend(ip: string, host: string, name: string): Promise<TlsBackend> {
  const b = await startTlsBackend(ip, host, name);
  cleanups.push(() => b.close());
  return b;
}

const AKO_PASSTHROUGH_SCRIPT = (cluster: string) => akoPassthroughScript(`${cluster}--`);

function runtime(): EngineRuntime {
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  return rt;
}

/** The objects AKO makes for hosts → backends: pools, pool groups, the datascript set, the VS on `vip:port`. */
function passthroughVs(s: SnapshotBuilder, vip: string, port: number, hosts: Record<string, TlsBackend>, script = AKO_PASSTHROUGH_SCRIPT('c1')): string {
  const groups = Object.entries(hosts).map(([host, b]) => {
    const pool = s.pool(`c1--${host}-svc`, [b]);
    return s.add('poolgroup', { name: `c1--${host}`, members: [{ pool_ref: pool, ratio: 100 }] });
  });
  const ds = s.add('vsdatascriptset', { name: 'c1--Shared-Passthrough-0', datascript: [{ evt: 'VS_DATASCRIPT_EVT_L4_REQUEST', script }], pool_group_refs: groups, protocol_parser_refs: ['Default-TLS'] });
  return s.l4vs('c1--Shared-Passthrough-0', vip, [port], undefined, { vs_datascripts: [{ index: 0, vs_datascript_set_ref: ds }] });
}

test('SNI passthrough: each name reaches its own backend, which terminates TLS; others are closed', async () => {
  const a = await tlsBackend('127.108.1.1', 'a.example.test', 'A');
  const b = await tlsBackend('127.108.1.2', 'b.example.test', 'B');
  const s = new SnapshotBuilder();
  passthroughVs(s, '127.108.0.1', 9443, { 'a.example.test': a, 'b.example.test': b });
  const rt = runtime();
  await rt.apply(s.build());
  assert.equal(rt.vsStates()[0]!.oper_state, 'OPER_UP', JSON.stringify(rt.vsStates()));

  // The certificate the client verifies is the backend's own: TLS went through untouched.
  assert.deepEqual(await tlsExchange('127.108.0.1', 9443, 'a.example.test', a.cert), { cn: 'a.example.test', reply: 'A:hi' });
  assert.deepEqual(await tlsExchange('127.108.0.1', 9443, 'b.example.test', b.cert), { cn: 'b.example.test', reply: 'B:hi' });
  assert.deepEqual(await tlsExchange('127.108.0.1', 9443, 'B.Example.Test', b.cert, 'upper'), { cn: 'b.example.test', reply: 'B:upper' });
  // No pool group for the name, no SNI at all, not TLS: closed without reaching a backend.
  assert.ok((await tlsExchange('127.108.0.1', 9443, 'c.example.test', undefined)).error);
  assert.ok((await tlsExchange('127.108.0.1', 9443, '', undefined)).error);
  const plain = await new Promise<string>((resolve) => {
    const c = net.connect({ host: '127.108.0.1', port: 9443 }, () => c.write('GET / HTTP/1.1\r\nHost: a.example.test\r\n\r\n'));
    let got = '';
    c.on('data', (d) => (got += d.toString()));
    c.on('error', () => {});
    c.on('close', () => resolve(got));
  });
  assert.equal(plain, '');
  // A ClientHello that arrives in pieces (several writes) is reassembled.
  const slow = await new Promise<string>((resolve, reject) => {
    const raw = net.connect({ host: '127.108.0.1', port: 9443 });
    const orig = raw.write.bind(raw);
    // Split every write tls makes into 7-byte pieces.
    (raw as any).write = (chunk: Buffer, ...rest: any[]) => {
      for (let i = 0; i < chunk.length; i += 7) orig(chunk.subarray(i, Math.min(chunk.length, i + 7)));
      const cb = rest.find((x) => typeof x === 'function');
      if (cb) process.nextTick(cb);
      return true;
    };
    const c = tls.connect({ socket: raw, servername: 'a.example.test', ca: a.cert });
    c.once('secureConnect', () => c.write('pieces'));
    c.once('data', (d) => { c.destroy(); resolve(d.toString()); });
    c.once('error', reject);
  });
  assert.equal(slow, 'A:pieces');
  assert.equal(rt.vsStates()[0]!.oper_state, 'OPER_UP');
});

test('a datascript of another shape: the VS is not served and its state says why', async () => {
  const a = await tlsBackend('127.108.1.3', 'a.example.test', 'A');
  const s = new SnapshotBuilder();
  const vs = passthroughVs(s, '127.108.0.2', 9443, { 'a.example.test': a }, 'avi.vs.log("hello")\navi.l4.ds_done()');
  const rt = runtime();
  await rt.apply(s.build());
  const st = rt.vsStates().find((x) => x.uuid === vs)!;
  assert.equal(st.oper_state, 'OPER_DOWN');
  assert.match(st.reason!, /vsdatascriptset c1--Shared-Passthrough-0 \(VS_DATASCRIPT_EVT_L4_REQUEST\): not supported: this engine runs no Lua/);
  assert.deepEqual(rt.listenerKeys(), []);
  // On an HTTP VS the passthrough script itself is refused (it needs an L4 TCP VS).
  const s2 = new SnapshotBuilder();
  const http = s2.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const vs2 = passthroughVs(s2, '127.108.0.3', 9443, { 'a.example.test': a });
  s2.get('virtualservice', vs2).application_profile_ref = http;
  await rt.apply(s2.build());
  assert.match(rt.vsStates().find((x) => x.uuid === vs2)!.reason!, /needs an L4 application profile and a TCP network profile/);
  // Fixed to AKO's script: served (the same VS, re-planned).
  s2.get('virtualservice', vs2).application_profile_ref = s2.l4Profile;
  await rt.apply(s2.build());
  await until('served', async () => (await tlsExchange('127.108.0.3', 9443, 'a.example.test', a.cert)).reply === 'A:hi');
});

test('the script is recognised whatever its whitespace; a changed statement is not', () => {
  const script = akoPassthroughScript('c1--');
  assert.equal(passthroughPrefix(script), 'c1--');
  assert.equal(passthroughPrefix(script.replace(/\n/g, '\r\n   ').replace('( buffered < len )', '(buffered<len)')), 'c1--');
  assert.equal(passthroughPrefix(script.replace('"c1--"', "'other-cluster--'")), 'other-cluster--');
  assert.equal(passthroughPrefix(script.replace('avi.vs.close_conn()\nend\navi', 'avi.vs.log("x")\nend\navi')), undefined);
  assert.equal(passthroughPrefix(script.replace('pg_name = "c1--"..sname', 'pg_name = "c1--"..sname.."x"')), undefined);
});

test('a client that never completes its ClientHello is closed after the peek timeout', async () => {
  assert.equal(PEEK_TIMEOUT_MS, 10_000);
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    peekSni(client, { prefix: 'c1--', groups: new Map(), pools: { pool: () => undefined, poolGroup: () => undefined }, peekTimeoutMs: 50 }, () => assert.fail('routed'));
  });
  await new Promise<void>((r) => server.listen(0, '127.108.0.4', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  const closed = await new Promise<boolean>((resolve) => {
    const c = net.connect({ host: '127.108.0.4', port: (server.address() as net.AddressInfo).port }, () => c.write(Buffer.from([22, 3, 1, 0, 200, 1])));
    c.on('error', () => {});
    c.on('close', () => resolve(true));
  });
  assert.ok(closed);
});

test('a VH child with a datascript is not served (its host falls through) and its state says why; without it, served', async () => {
  const child1 = await httpBackend('127.108.1.5', 'child-ok');
  const child2 = await httpBackend('127.108.1.6', 'child-ds');
  cleanups.push(() => child1.close(), () => child2.close());
  const s = new SnapshotBuilder();
  const httpProfile = s.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const parent = s.add('virtualservice', { name: 'parent', type: 'VS_TYPE_VH_PARENT', enabled: true, vsvip_ref: s.vsvip('127.108.0.5'), application_profile_ref: httpProfile, network_profile_ref: s.tcpProfile, services: [{ port: 9080 }] });
  const ds = s.add('vsdatascriptset', { name: 'hdr', datascript: [{ evt: 'VS_DATASCRIPT_EVT_HTTP_REQ', script: 'avi.http.add_header("x", "y")' }] });
  const child = (name: string, host: string, b: { ip: string; port: number }, extra = {}) => s.add('virtualservice', {
    name, type: 'VS_TYPE_VH_CHILD', enabled: true, vh_parent_vs_ref: parent, vh_domain_name: [host], application_profile_ref: httpProfile, pool_ref: s.pool(`${name}-pool`, [b]), ...extra,
  });
  const ok = child('ok', 'ok.example.test', child1);
  const withDs = child('ds', 'ds.example.test', child2, { vs_datascripts: [{ index: 0, vs_datascript_set_ref: ds }] });
  const rt = runtime();
  await rt.apply(s.build());
  const state = (uuid: string) => rt.vsStates().find((v) => v.uuid === uuid)!;
  assert.equal(state(ok).oper_state, 'OPER_UP');
  assert.equal(state(parent).oper_state, 'OPER_UP');
  assert.equal(state(withDs).oper_state, 'OPER_DOWN');
  assert.match(state(withDs).reason!, /vsdatascriptset hdr \(VS_DATASCRIPT_EVT_HTTP_REQ\): not supported: this engine runs no Lua/);
  assert.equal((await httpGet({ vip: '127.108.0.5', port: 9080, host: 'ok.example.test' })).body, 'child-ok');
  assert.notEqual((await httpGet({ vip: '127.108.0.5', port: 9080, host: 'ds.example.test' })).body, 'child-ds');
  assert.equal(child2.connections, 0);
  delete s.get('virtualservice', withDs).vs_datascripts;
  await rt.apply(s.build());
  assert.equal(state(withDs).oper_state, 'OPER_UP');
  assert.equal((await httpGet({ vip: '127.108.0.5', port: 9080, host: 'ds.example.test' })).body, 'child-ds');
});
