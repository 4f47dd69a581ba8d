// VIP allocation at scale (src/controller/ipam/ipam.ts) probes from a per-range floor instead of
// reading every claim; it must still hand out the lowest free address, never one twice, reuse
// released ones first, and say when the range is used up. A concurrent burst goes through the
// store's group commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController } from '../../src/controller/server.js';
import { Client, PASSWORD } from '../controller/support.js';

const ip = (addr: string) => ({ type: 'V4', addr });
const vip = (name: string) => ({ name, vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: '/api/network/?name=scale' } }] });
const addrOf = (v: any) => v.vip[0].ip_address.addr as string;
const last = (a: string) => Number(a.split('.')[3]);

test('IPAM: lowest free first, unique under a burst, released addresses reused, exhaustion reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-ipam-'));
  const c = await startController({ listen: `127.32.${process.pid % 250}.1:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: '127.32.250.0/24' });
  try {
    const api = new Client(c.url);
    await api.create('network', {
      name: 'scale',
      configured_subnets: [{ prefix: { ip_addr: ip('10.32.0.0'), mask: 24 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: ip('10.32.0.10'), end: ip('10.32.0.59') } }] }],
    });
    // 40 at once: 40 different addresses, exactly .10–.49.
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => api.create('vsvip', vip(`v${i}`))));
    assert.deepEqual(made.map((v) => last(addrOf(v))).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => 10 + i));
    // An update keeps its address and frees nothing.
    const kept = await api.put(`/api/vsvip/${made[3].uuid}`, vip('v3'));
    assert.equal(addrOf(kept.body), addrOf(made[3]));
    assert.equal(addrOf(await api.create('vsvip', vip('n0'))), '10.32.0.50');
    // Released addresses come back lowest first, before the untouched rest of the range.
    const gone = [made[30], made[5], made[17]];
    for (const v of gone) assert.equal((await api.del(`/api/vsvip/${v.uuid}`)).status, 204);
    const again = [];
    for (let i = 1; i <= 4; i++) again.push(addrOf(await api.create('vsvip', vip(`n${i}`))));
    assert.deepEqual(again, [...gone.map(addrOf).sort((a, b) => last(a) - last(b)), '10.32.0.51']);
    // Fill the rest (.52–.59), then the range is used up.
    for (let i = 0; i < 8; i++) assert.equal(last(addrOf(await api.create('vsvip', vip(`f${i}`)))), 52 + i);
    const full = await api.post('/api/vsvip', vip('one-too-many'));
    assert.equal(full.status, 400);
    assert.match(full.body.error, /No available free IPs in network scale/);
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
