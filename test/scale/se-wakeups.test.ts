// A burst of writes wakes a long-polling SE a bounded number of times (coalesced rebuilds in
// src/controller/engines/snapshot-service.ts), versions only go up, and the SE ends with the
// latest content: every VS of the burst. The SE is a plain HTTP client of the SE protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController } from '../../src/controller/server.js';
import { Client, PASSWORD } from '../controller/support.js';

test('a burst of 120 writes: the SE is woken fewer times than there are writes and ends with every VS', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-se-'));
  const c = await startController({ listen: `127.32.${(process.pid % 250) + 1}.3:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: '127.32.251.0/24' });
  let polling = true;
  let heart: NodeJS.Timeout | undefined;
  let poller: Promise<void> | undefined;
  try {
    const api = new Client(c.url);
    // Its own group, room for the whole burst on one SE.
    const group = await api.create('serviceenginegroup', { name: 'burst-group', max_vs_per_se: 100 });
    const tok = await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {});
    assert.equal(tok.status, 201);
    const joined = await fetch(`${c.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tok.body.token, name: 'se-scale', version: '1', vip_mode: 'loopback' }) });
    assert.equal(joined.status, 200);
    const id = (await joined.json()) as { se_uuid: string; se_secret: string };
    const auth = { authorization: `Bearer ${id.se_secret}` };
    const first = await fetch(`${c.url}/api/se/${id.se_uuid}/config?version=0`, { headers: auth });
    assert.equal(first.status, 200);
    let latest = (await first.json()) as { version: number; objects: { virtualservice: Array<{ name: string }> } };
    const versions = [latest.version];
    let wakes = 0;
    // Heartbeats keep the SE up for placement.
    const beat = () => fetch(`${c.url}/api/se/${id.se_uuid}/heartbeat`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ applied_version: latest.version }) }).then((r) => r.body?.cancel(), () => undefined);
    await beat();
    heart = setInterval(() => void beat(), 500);
    poller = (async () => {
      while (polling) {
        const r = await fetch(`${c.url}/api/se/${id.se_uuid}/config?version=${latest.version}&wait=2`, { headers: auth });
        if (r.status !== 200) { await r.body?.cancel(); continue; }
        latest = (await r.json()) as typeof latest;
        versions.push(latest.version);
        wakes++;
      }
    })().catch((err) => {
      // The long-poll in flight when the controller closes fails; before that, a failure is the test's.
      if (polling) throw err;
    });
    const N = 40;
    await Promise.all(Array.from({ length: N }, async (_, i) => {
      const pool = await api.create('pool', { name: `burst-pool-${i}`, servers: [{ ip: { type: 'V4', addr: '127.32.252.1' }, port: 8000 + i }] });
      const vip = await api.create('vsvip', { name: `burst-vip-${i}`, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
      await api.create('virtualservice', { name: `burst-vs-${i}`, se_group_ref: `/api/serviceenginegroup/${group.uuid}`, vsvip_ref: `/api/vsvip/${vip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, application_profile_ref: '/api/applicationprofile?name=System-L4-Application', services: [{ port: 9000 + i }] });
    }));
    const has = () => latest.objects.virtualservice.filter((v) => v.name.startsWith('burst-vs-')).length;
    const deadline = Date.now() + 30_000;
    while (has() < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(has(), N, 'the SE ends with every VS of the burst');
    for (let i = 1; i < versions.length; i++) assert.ok(versions[i]! > versions[i - 1]!, `versions only go up: ${versions.join(',')}`);
    assert.ok(wakes < 3 * N, `woken ${wakes} times for ${3 * N} writes`);
  } finally {
    polling = false;
    clearInterval(heart);
    // Before the close sweep of idle connections this took the 72 s keep-alive timeout.
    await c.close();
    await poller;
    rmSync(dir, { recursive: true, force: true });
  }
});
