// Configuration changes under load: 50 snapshots applied while 2,000 keep-alive HTTP requests
// (through the real L7 listener) and L4 TCP sessions run; not one may fail, and listeners of
// unchanged VSes stay as they are.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EngineRuntime } from '../../src/engine/runtime/runtime.js';
import { VipManager } from '../../src/engine/vip/manager.js';
import { SnapshotBuilder, httpBackend, silentLog, tcpBackend, tcpExchange, type Backend } from './support.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('50 changes during 2,000 keep-alive requests and L4 sessions: zero failures', async () => {
  const hb: Backend[] = await Promise.all([1, 2, 3].map((i) => httpBackend(`127.21.80.${i}`, `h${i}`)));
  const tb: Backend[] = await Promise.all([1, 2].map((i) => tcpBackend(`127.21.81.${i}`, `t${i}`)));
  for (const b of [...hb, ...tb]) cleanups.push(() => b.close());
  const s = new SnapshotBuilder();
  const httpProfile = s.add('applicationprofile', { name: 'System-HTTP', type: 'APPLICATION_PROFILE_TYPE_HTTP' });
  const webPool = s.pool('web', hb, { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' });
  s.add('virtualservice', { name: 'web', enabled: true, vsvip_ref: s.vsvip('127.21.8.1'), application_profile_ref: httpProfile, network_profile_ref: s.tcpProfile, services: [{ port: 9500 }], pool_ref: webPool });
  const tcpPool = s.pool('tcp', tb);
  s.l4vs('tcp', '127.21.8.2', [9501], tcpPool);
  const rt = new EngineRuntime(new VipManager('loopback', undefined, silentLog), silentLog);
  cleanups.push(() => rt.stop(100));
  await rt.apply(s.build());

  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  cleanups.push(async () => agent.destroy());
  const get = () => new Promise<string>((resolve, reject) => {
    http.get({ host: '127.21.8.1', port: 9500, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}: ${body}`))));
    }).on('error', reject);
  });

  let failures = 0;
  const errors: string[] = [];
  let done = 0;
  const seen = new Set<string>();
  const httpLoad = (async () => {
    const workers = Array.from({ length: 8 }, async () => {
      while (done < 2000) {
        done++;
        try {
          seen.add(await get());
        } catch (err) {
          failures++;
          errors.push((err as Error).message);
        }
      }
    });
    await Promise.all(workers);
  })();
  let l4ok = 0;
  let stopL4 = false;
  const l4Load = (async () => {
    while (!stopL4) {
      try {
        if (/^t\d:x/.test(await tcpExchange('127.21.8.2', 9501, 'x'))) l4ok++;
        else failures++;
      } catch (err) {
        failures++;
        errors.push(`l4: ${(err as Error).message}`);
      }
    }
  })();

  const extra: string[] = [];
  for (let c = 0; c < 50; c++) {
    // Rotate which web servers are in the pool (always at least two), change ratios, and add
    // or remove an unrelated VS; the L4 pool flips between one and two servers.
    const web = s.get('pool', webPool);
    const pick = [hb[c % 3], hb[(c + 1) % 3]];
    web.servers = pick.map((b, i) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port, ratio: 1 + ((c + i) % 3) }));
    s.get('pool', tcpPool).servers = tb.slice(0, 1 + (c % 2)).map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port }));
    if (c % 2 === 0) extra.push(s.l4vs(`extra${c}`, `127.21.9.${c + 1}`, [9502], tcpPool));
    else s.remove('virtualservice', extra.shift()!);
    const r = await rt.apply(s.build());
    assert.ok(r.opened <= 1 && r.closed <= 1, `only the extra VS's listener opens or closes: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  await httpLoad;
  stopL4 = true;
  await l4Load;
  assert.equal(failures, 0, errors.slice(0, 5).join('; '));
  assert.equal(done, 2000);
  assert.deepEqual([...seen].sort(), ['h1', 'h2', 'h3']);
  assert.ok(l4ok > 10);
});
