// L4 through the runtime with real sockets: TCP proxy (distribution, half-close, no server,
// per-port pools), config changes that leave connections alone, draining, and UDP flows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, silentLog, tcpBackend, tcpExchange, udpBackend, udpExchange, until, uuid, type Backend } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function runtime(): EngineRuntime {
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  return rt;
}

async function backends(n: number, net3: number, make = tcpBackend): Promise<Backend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => make(`127.21.${net3}.${i + 1}`, `b${i + 1}`)));
  for (const b of list) cleanups.push(() => b.close());
  return list;
}

test('TCP VS: round robin over three servers, every byte and the half-close pass through', async () => {
  const bs = await backends(3, 10);
  const s = new SnapshotBuilder();
  const pool = s.pool('p', bs, { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' });
  s.l4vs('web', '127.21.1.1', [9001], pool);
  const rt = runtime();
  await rt.apply(s.build());
  const seen = new Map<string, number>();
  for (let i = 0; i < 9; i++) {
    const got = await tcpExchange('127.21.1.1', 9001, `hello${i}`);
    // The backend answers the data, then (after our FIN) once more: both directions intact.
    const m = /^(b\d):hello(\d)(b\d):bye$/.exec(got);
    assert.ok(m, got);
    assert.equal(m[1], m[3]);
    seen.set(m[1], (seen.get(m[1]) ?? 0) + 1);
  }
  assert.deepEqual([...seen.values()], [3, 3, 3]);
  await until('sessions counted', () => rt.metrics.summary()[rt.vsStates()[0].uuid]?.requests === 9);
  assert.equal(rt.vsStates()[0].oper_state, 'OPER_UP');
});

test('TCP: large transfers keep order under backpressure', async () => {
  const sink = net.createServer((s) => s.pipe(s)); // echo
  await new Promise<void>((r) => sink.listen(0, '127.21.11.1', r));
  cleanups.push(() => new Promise((r) => sink.close(r)));
  const s = new SnapshotBuilder();
  s.l4vs('echo', '127.21.1.2', [9002], s.pool('p', [{ ip: '127.21.11.1', port: (sink.address() as net.AddressInfo).port }]));
  const rt = runtime();
  await rt.apply(s.build());
  const payload = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  const got = await new Promise<Buffer>((resolve, reject) => {
    const c = net.connect({ host: '127.21.1.2', port: 9002 });
    const chunks: Buffer[] = [];
    let n = 0;
    c.on('data', (d) => {
      chunks.push(d);
      n += d.length;
      if (n >= payload.length) {
        c.end();
        resolve(Buffer.concat(chunks));
      }
    });
    c.on('error', reject);
    c.write(payload);
  });
  assert.ok(got.equals(payload));
});

test('TCP: a server that stops reading holds the client back (no read-ahead into memory); every byte arrives once it reads', async () => {
  const CHUNK = 64 * 1024;
  const TOTAL = 256 * 1024 * 1024; // far beyond what loopback socket buffers hold
  const piece = (i: number): Buffer => Buffer.alloc(CHUNK, (i * 7) % 251);
  let held: net.Socket | undefined;
  let received = 0;
  const sinkHash = createHash('sha256');
  const sink = net.createServer({ pauseOnConnect: true }, (sock) => {
    held = sock;
    sock.on('data', (d: Buffer) => {
      sinkHash.update(d);
      received += d.length;
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.21.11.2', r));
  cleanups.push(() => new Promise((r) => { held?.destroy(); sink.close(r); }));
  const s = new SnapshotBuilder();
  s.l4vs('hold', '127.21.1.9', [9009], s.pool('p', [{ ip: '127.21.11.2', port: (sink.address() as net.AddressInfo).port }]));
  const rt = runtime();
  await rt.apply(s.build());
  const c = net.connect({ host: '127.21.1.9', port: 9009 });
  cleanups.push(async () => c.destroy());
  let flushed = 0;
  const sent = createHash('sha256');
  const writing = (async () => {
    for (let i = 0; i < TOTAL / CHUNK; i++) {
      const b = piece(i);
      sent.update(b);
      if (!c.write(b, () => (flushed += CHUNK))) await new Promise((r) => c.once('drain', r));
    }
  })();
  // Wait until the client's writes stop moving (held back) or all went out (not held back).
  let last = -1;
  let since = Date.now();
  while (flushed < TOTAL && (flushed !== last || Date.now() - since < 1000)) {
    if (flushed !== last) {
      last = flushed;
      since = Date.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(flushed < TOTAL * 0.75, `the client got ${flushed} of ${TOTAL} bytes out while the server read nothing`);
  await until('the server connection', () => held !== undefined);
  held!.resume();
  await writing;
  await until('every byte at the server', () => received === TOTAL, 60_000);
  assert.equal(sinkHash.digest('hex'), sent.digest('hex'));
});

test('TCP: no healthy server closes the client at once and is counted', async () => {
  const s = new SnapshotBuilder();
  const pool = s.pool('p', [{ ip: '127.21.12.1', port: 1, enabled: false }]);
  const vs = s.l4vs('none', '127.21.1.3', [9003], pool);
  const rt = runtime();
  await rt.apply(s.build());
  const closed = await new Promise<string>((resolve) => {
    const c = net.connect({ host: '127.21.1.3', port: 9003 });
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    c.on('close', () => resolve('closed'));
  });
  assert.ok(['ECONNRESET', 'closed'].includes(closed), closed);
  assert.equal(rt.metrics.counters(vs).no_server, 1);
  const state = rt.vsStates().find((v) => v.uuid === vs)!;
  assert.equal(state.oper_state, 'OPER_DOWN');
  assert.match(state.reason!, /no server up/);
});

test('TCP: a refused server is skipped for the next one', async () => {
  const [b] = await backends(1, 13);
  const s = new SnapshotBuilder();
  // 127.21.13.9:1 refuses; least connections tries it first or second, never fails the client.
  s.l4vs('retry', '127.21.1.4', [9004], s.pool('p', [{ ip: '127.21.13.9', port: 1 }, b], { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' }));
  const rt = runtime();
  await rt.apply(s.build());
  for (let i = 0; i < 4; i++) assert.match(await tcpExchange('127.21.1.4', 9004, 'x'), /^b1:x/);
});

test('l4policyset picks the pool per port; other ports use pool_ref', async () => {
  const [a, b] = await backends(2, 14);
  const s = new SnapshotBuilder();
  const pa = s.pool('pa', [a]);
  const pb = s.pool('pb', [b]);
  const set = s.add('l4policyset', { name: 'set', l4_connection_policy: { rules: [{ name: 'r', index: 0, match: { port: { match_criteria: 'IS_IN', ports: [9006] }, protocol: { match_criteria: 'IS_IN', protocol: 'PROTOCOL_TCP' } }, action: { select_pool: { action_type: 'L4_RULE_ACTION_SELECT_POOL', pool_ref: pb } } }] } });
  s.l4vs('multi', '127.21.1.5', [9005, 9006], pa, { l4_policies: [{ index: 0, l4_policy_set_ref: set }] });
  const rt = runtime();
  await rt.apply(s.build());
  assert.match(await tcpExchange('127.21.1.5', 9005, 'x'), /^b1:/);
  assert.match(await tcpExchange('127.21.1.5', 9006, 'x'), /^b2:/);
});

test('config changes: other listeners and open connections untouched; a removed listener stops accepting and drains', async () => {
  const [a, b] = await backends(2, 15);
  const s = new SnapshotBuilder();
  const pa = s.pool('pa', [a]);
  const keep = s.l4vs('keep', '127.21.1.6', [9007], pa);
  const gone = s.l4vs('gone', '127.21.1.7', [9008], pa);
  const rt = runtime();
  await rt.apply(s.build());
  const open = (port: number, ip: string) => new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host: ip, port }, () => resolve(c));
    c.on('error', reject);
  });
  const ask = (c: net.Socket, line: string) => new Promise<string>((resolve) => c.once('data', (d) => resolve(d.toString())).write(line));
  const c1 = await open(9007, '127.21.1.6');
  const c2 = await open(9008, '127.21.1.7');
  assert.equal(await ask(c1, 'a'), 'b1:a');
  // Change "keep" (new pool) and remove "gone".
  s.get('virtualservice', keep).pool_ref = s.pool('pb', [b]);
  s.remove('virtualservice', gone);
  const r = await rt.apply(s.build());
  assert.deepEqual(r.changed.sort(), [keep, gone].sort());
  assert.equal(r.opened, 0);
  assert.equal(r.closed, 1);
  // Established connections on both carry on with their server.
  assert.equal(await ask(c1, 'b'), 'b1:b');
  assert.equal(await ask(c2, 'c'), 'b1:c');
  // New connections: "keep" uses its new pool; "gone" refuses.
  assert.match(await tcpExchange('127.21.1.6', 9007, 'n'), /^b2:n/);
  await assert.rejects(tcpExchange('127.21.1.7', 9008, 'n'), /ECONNREFUSED/);
  c1.destroy();
  c2.destroy();
  // An unchanged snapshot (new version only) changes nothing.
  const r2 = await rt.apply(s.build());
  assert.deepEqual([r2.changed.length, r2.opened, r2.closed], [0, 0, 0]);
});

test('a port taken over by another VS, and a VIP:port clash, are reported not thrown', async () => {
  const [a] = await backends(1, 16);
  const s = new SnapshotBuilder();
  const pa = s.pool('pa', [a]);
  const one = s.l4vs('one', '127.21.1.8', [9009], pa);
  const two = s.l4vs('two', '127.21.1.8', [9009], pa);
  const rt = runtime();
  await rt.apply(s.build());
  const states = new Map(rt.vsStates().map((v) => [v.uuid, v]));
  assert.equal(states.get(one)!.oper_state, 'OPER_UP');
  assert.match(states.get(two)!.reason!, /already used/);
  s.remove('virtualservice', one);
  await rt.apply(s.build());
  assert.equal(rt.vsStates().find((v) => v.uuid === two)!.oper_state, 'OPER_UP');
  assert.match(await tcpExchange('127.21.1.8', 9009, 'x'), /^b1:x/);
});

test('UDP VS: per-client flows to one server, replies from the VIP, idle flows expire', async () => {
  const bs = await backends(2, 17, udpBackend);
  const s = new SnapshotBuilder();
  const pool = s.pool('pu', bs, { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' });
  const vs = s.l4vs('dns-ish', '127.21.1.9', [9010], pool, { udp: true });
  const rt = runtime();
  await rt.apply(s.build());
  const c1 = dgram.createSocket('udp4');
  const c2 = dgram.createSocket('udp4');
  cleanups.push(async () => { c1.close(); c2.close(); });
  await new Promise<void>((r) => c1.bind(0, '127.21.2.1', r));
  await new Promise<void>((r) => c2.bind(0, '127.21.2.2', r));
  const r1 = await udpExchange('127.21.1.9', 9010, 'one', c1);
  assert.equal(r1.rinfo.address, '127.21.1.9');
  assert.equal(r1.rinfo.port, 9010);
  const server1 = r1.reply.split(':')[0];
  // Same client, same flow, same server.
  for (let i = 0; i < 3; i++) assert.equal((await udpExchange('127.21.1.9', 9010, `again${i}`, c1)).reply.split(':')[0], server1);
  const r2 = await udpExchange('127.21.1.9', 9010, 'two', c2);
  assert.notEqual(r2.reply.split(':')[0], server1);
  assert.equal(rt.metrics.counters(vs).open, 2);
  // session_idle_timeout is 1 s in the builder's UDP profile.
  await until('flows expire', () => rt.metrics.counters(vs).open === 0, 5000);
});

test('performance_limits.max_concurrent_connections caps open sessions across the VS ports', async () => {
  const [a] = await backends(1, 18);
  const s = new SnapshotBuilder();
  const vs = s.l4vs('capped', '127.21.1.10', [9011, 9012], s.pool('p', [a]), { performance_limits: { max_concurrent_connections: 2 } });
  const rt = runtime();
  await rt.apply(s.build());
  const open = (port: number) => new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host: '127.21.1.10', port }, () => resolve(c));
    c.on('error', reject);
  });
  const c1 = await open(9011);
  const c2 = await open(9012);
  await until('two open', () => rt.metrics.counters(vs).open === 2);
  const third = await new Promise<string>((resolve) => {
    const c = net.connect({ host: '127.21.1.10', port: 9011 });
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    c.on('close', () => resolve('closed'));
  });
  assert.ok(['ECONNRESET', 'closed'].includes(third));
  c1.destroy();
  await until('one closed', () => rt.metrics.counters(vs).open === 1);
  assert.match(await tcpExchange('127.21.1.10', 9011, 'ok'), /^b1:ok/);
  c2.destroy();
});

test('a VIP:port held by another process is retried until it is free', async () => {
  const [a] = await backends(1, 19);
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(9013, '127.21.1.11', r));
  const s = new SnapshotBuilder();
  const vs = s.l4vs('late', '127.21.1.11', [9013], s.pool('p', [a]));
  const rt = runtime();
  const r = await rt.apply(s.build());
  assert.equal(r.opened, 0);
  assert.match(rt.vsStates().find((v) => v.uuid === vs)!.reason!, /EADDRINUSE/);
  await new Promise((res) => squatter.close(res));
  await until('bound on retry', () => rt.vsStates().find((v) => v.uuid === vs)!.oper_state === 'OPER_UP', 5000);
  assert.match(await tcpExchange('127.21.1.11', 9013, 'x'), /^b1:x/);
});

test('consistent hash and client-IP persistence through the proxy: a client keeps its server', async () => {
  const bs = await backends(3, 20);
  const s = new SnapshotBuilder();
  s.l4vs('ch', '127.21.1.12', [9014], s.pool('ch', bs, { lb_algorithm: 'LB_ALGORITHM_CONSISTENT_HASH' }));
  const persist = s.add('applicationpersistenceprofile', { name: 'ip', persistence_type: 'PERSISTENCE_TYPE_CLIENT_IP_ADDRESS', ip_persistence_profile: { ip_persistent_timeout: 5 } });
  s.l4vs('sticky', '127.21.1.13', [9015], s.pool('sticky', bs, { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', application_persistence_profile_ref: persist }));
  const rt = runtime();
  await rt.apply(s.build());
  const from = (local: string, port: number, vip: string) => new Promise<string>((resolve, reject) => {
    const c = net.connect({ host: vip, port, localAddress: local, allowHalfOpen: true });
    let got = '';
    c.on('connect', () => c.end('x'));
    c.on('data', (d) => (got += d));
    c.on('end', () => { c.end(); resolve(got.split(':')[0]); });
    c.on('error', reject);
  });
  for (const [vip, port] of [['127.21.1.12', 9014], ['127.21.1.13', 9015]] as const) {
    const servers = new Set<string>();
    for (let i = 1; i <= 12; i++) {
      const client = `127.21.21.${i}`;
      const first = await from(client, port, vip);
      for (let k = 0; k < 3; k++) assert.equal(await from(client, port, vip), first, `${vip}: client ${client} moved`);
      servers.add(first);
    }
    assert.ok(servers.size >= 2, `${vip}: clients spread over servers`);
  }
});

test('idle TCP sessions are closed after the network profile\'s idle timeout', async () => {
  const [a] = await backends(1, 22);
  const s = new SnapshotBuilder();
  const np = s.add('networkprofile', { name: 'short-idle', profile: { type: 'PROTOCOL_TYPE_TCP_PROXY', tcp_proxy_profile: { idle_connection_timeout: 1 } } });
  const vs = s.l4vs('idle', '127.21.1.14', [9016], s.pool('p', [a]), { network_profile_ref: np });
  const rt = runtime();
  await rt.apply(s.build());
  const c = net.connect({ host: '127.21.1.14', port: 9016 });
  c.on('error', () => {});
  await new Promise((r) => c.once('connect', r));
  assert.equal(await new Promise<string>((r) => c.once('data', (d: Buffer) => r(d.toString())).write('x')), 'b1:x');
  await new Promise((r) => c.once('close', r));
  await until('session ended on the SE', () => rt.metrics.counters(vs).open === 0);
});
