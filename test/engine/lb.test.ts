// Load-balancing algorithms, ratios, disabled servers, persistence and pool groups: the
// distribution each produces over many picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool, poolConfigFrom } from '../../src/engine/lb/pool.js';
import { PoolGroup } from '../../src/engine/lb/poolgroup.js';
import { persistenceFromProfile } from '../../src/engine/lb/persistence.js';

const servers = (n: number, extra: Record<string, unknown>[] = []) =>
  Array.from({ length: n }, (_, i) => ({ ip: { addr: `10.0.0.${i + 1}` }, port: 80, ...(extra[i] ?? {}) }));

function pool(obj: Record<string, any>, profile?: Record<string, any>): Pool {
  return new Pool('pool-1', 'p', poolConfigFrom(obj, persistenceFromProfile(profile, 'pool-1')));
}

function count(p: Pool, n: number, ctx: (i: number) => { clientIp: string; clientPort: number; uri?: string; header?: (h: string) => string | undefined }, release = true): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const u = p.pick(ctx(i));
    assert.ok(u);
    m.set(u.ip, (m.get(u.ip) ?? 0) + 1);
    if (release) p.done(u);
  }
  return m;
}

const client = (i: number) => ({ clientIp: `192.0.2.${i % 250}`, clientPort: 40000 + i });

test('round robin spreads evenly and follows ratio', () => {
  const even = count(pool({ lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers(3) }), 300, client);
  assert.deepEqual([...even.values()], [100, 100, 100]);
  const weighted = count(pool({ lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers(2, [{ ratio: 3 }, { ratio: 1 }]) }), 400, client);
  assert.equal(weighted.get('10.0.0.1'), 300);
  assert.equal(weighted.get('10.0.0.2'), 100);
});

test('least connections is the default; ties go round robin; busy servers get less', () => {
  const p = pool({ servers: servers(3) });
  // Sequential, released at once: every server gets its turn.
  assert.deepEqual([...count(p, 30, client).values()], [10, 10, 10]);
  // Held connections: the next pick avoids the loaded servers.
  const a = p.pick(client(1))!;
  const b = p.pick(client(2))!;
  const c = p.pick(client(3))!;
  assert.equal(new Set([a.ip, b.ip, c.ip]).size, 3);
  p.done(b);
  assert.equal(p.pick(client(4))!.ip, b.ip);
});

test('consistent hash: same key same server, keys spread, one removal moves only its keys', () => {
  const obj = { lb_algorithm: 'LB_ALGORITHM_CONSISTENT_HASH', servers: servers(4) };
  const p = pool(obj);
  const first = new Map<string, string>();
  for (let i = 0; i < 400; i++) first.set(`198.51.${i >> 8}.${i & 255}`, p.pick({ clientIp: `198.51.${i >> 8}.${i & 255}`, clientPort: i })!.ip);
  for (const [ip, s] of first) assert.equal(p.pick({ clientIp: ip, clientPort: 1 })!.ip, s);
  const perServer = new Map<string, number>();
  for (const s of first.values()) perServer.set(s, (perServer.get(s) ?? 0) + 1);
  assert.equal(perServer.size, 4);
  for (const n of perServer.values()) assert.ok(n > 50, `uneven: ${[...perServer.values()]}`);
  p.configure(poolConfigFrom({ ...obj, servers: servers(3) }));
  let moved = 0;
  for (const [ip, s] of first) {
    const now = p.pick({ clientIp: ip, clientPort: 1 })!.ip;
    if (s !== '10.0.0.4') assert.equal(now, s);
    else moved++;
  }
  assert.equal(moved, perServer.get('10.0.0.4'));
});

test('consistent hash by source IP and port, URI and custom header', () => {
  const byPort = pool({ lb_algorithm: 'LB_ALGORITHM_CONSISTENT_HASH', lb_algorithm_hash: 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT', servers: servers(4) });
  const ports = new Set(Array.from({ length: 50 }, (_, i) => byPort.pick({ clientIp: '192.0.2.1', clientPort: 1000 + i })!.ip));
  assert.ok(ports.size > 1, 'one client IP with many ports spreads');
  const byUri = pool({ lb_algorithm: 'LB_ALGORITHM_CONSISTENT_HASH', lb_algorithm_hash: 'LB_ALGORITHM_CONSISTENT_HASH_URI', servers: servers(4) });
  const u1 = byUri.pick({ clientIp: '1.1.1.1', clientPort: 1, uri: '/a' })!.ip;
  for (let i = 0; i < 20; i++) assert.equal(byUri.pick({ clientIp: `2.2.2.${i}`, clientPort: i, uri: '/a' })!.ip, u1);
  const byHdr = pool({ lb_algorithm: 'LB_ALGORITHM_CONSISTENT_HASH', lb_algorithm_hash: 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER', lb_algorithm_consistent_hash_hdr: 'X-User', servers: servers(4) });
  const h = (v: string) => (name: string) => (name === 'x-user' ? v : undefined);
  const s1 = byHdr.pick({ clientIp: '1.1.1.1', clientPort: 1, header: h('alice') })!.ip;
  for (let i = 0; i < 20; i++) assert.equal(byHdr.pick({ clientIp: `3.3.3.${i}`, clientPort: i, header: h('alice') })!.ip, s1);
});

test('random follows ratio roughly', () => {
  const m = count(pool({ lb_algorithm: 'LB_ALGORITHM_RANDOM', servers: servers(2, [{ ratio: 4 }, { ratio: 1 }]) }), 5000, client);
  const share = m.get('10.0.0.1')! / 5000;
  assert.ok(share > 0.74 && share < 0.86, `share ${share}`);
});

test('disabled and down servers get no new connections; none eligible → undefined and counted', () => {
  const p = pool({ lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers(3, [{ enabled: false }]) });
  const m = count(p, 20, client);
  assert.equal(m.get('10.0.0.1'), undefined);
  p.server('10.0.0.2:80')!.up = false;
  assert.deepEqual([...count(p, 5, client).keys()], ['10.0.0.3']);
  p.server('10.0.0.3:80')!.up = false;
  assert.equal(p.pick(client(1)), undefined);
  assert.equal(p.noServer, 1);
});

test('client IP persistence pins a client; a down server releases it', () => {
  const p = pool({ lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers(3) }, { persistence_type: 'PERSISTENCE_TYPE_CLIENT_IP_ADDRESS', ip_persistence_profile: { ip_persistent_timeout: 5 } });
  const first = p.pick({ clientIp: '203.0.113.9', clientPort: 1 })!;
  for (let i = 0; i < 10; i++) assert.equal(p.pick({ clientIp: '203.0.113.9', clientPort: i })!.ip, first.ip);
  p.server(first.key)!.up = false;
  assert.notEqual(p.pick({ clientIp: '203.0.113.9', clientPort: 1 })!.ip, first.ip);
});

test('HTTP cookie persistence: the cookie value names a server', () => {
  const p = pool({ lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', servers: servers(3) }, { persistence_type: 'PERSISTENCE_TYPE_HTTP_COOKIE', http_cookie_persistence_profile: { cookie_name: 'SRV' } });
  assert.equal(p.persistenceCookieName, 'SRV');
  const s = p.pick(client(0))!;
  const cookie = p.persistenceCookieValue(s);
  assert.ok(!cookie.includes('10.0.0'), 'the cookie does not reveal the address');
  for (let i = 0; i < 10; i++) assert.equal(p.pick({ ...client(i), persistenceCookie: cookie })!.ip, s.ip);
});

test('server state survives reconfiguration of the pool', () => {
  const p = pool({ servers: servers(2) });
  p.server('10.0.0.1:80')!.up = false;
  const held = p.pick(client(1))!;
  p.configure(poolConfigFrom({ servers: servers(3) }));
  assert.equal(p.server('10.0.0.1:80')!.up, false);
  assert.equal(p.server(held.key)!.conns, 1);
});

test('pool group: ratio among the highest priority with a healthy server', () => {
  const a = pool({ servers: servers(1) });
  const b = new Pool('pool-2', 'b', poolConfigFrom({ servers: [{ ip: { addr: '10.0.1.1' }, port: 80 }] }));
  const c = new Pool('pool-3', 'c', poolConfigFrom({ servers: [{ ip: { addr: '10.0.2.1' }, port: 80 }] }));
  const g = new PoolGroup('poolgroup-1', 'g');
  g.configure([{ pool: a, ratio: 3, priority: 10 }, { pool: b, ratio: 1, priority: 10 }, { pool: c, ratio: 1, priority: 1 }]);
  const m = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const p = g.pickPool(client(i))!;
    m.set(p.uuid, (m.get(p.uuid) ?? 0) + 1);
  }
  assert.equal(m.get('pool-1'), 300);
  assert.equal(m.get('pool-2'), 100);
  assert.equal(m.get('pool-3'), undefined);
  a.server('10.0.0.1:80')!.up = false;
  b.server('10.0.1.1:80')!.up = false;
  assert.equal(g.pickPool(client(1))!.uuid, 'pool-3');
  c.server('10.0.2.1:80')!.up = false;
  assert.equal(g.pickPool(client(1)), undefined);
});
