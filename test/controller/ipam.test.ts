import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from './support.js';

let t: TestController;
before(async () => { t = await startTestController({ vipCidr: '127.77.5.0/24' }); });
after(async () => { await t?.stop(); });

const ip = (addr: string) => ({ type: 'V4', addr });
const net = (name: string, cidr: string, begin: string, end: string, extra: Record<string, unknown> = {}) => {
  const [base, mask] = cidr.split('/');
  return { name, configured_subnets: [{ prefix: { ip_addr: ip(base!), mask: Number(mask) }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: ip(begin), end: ip(end) } }] }], ...extra };
};
const autoVip = (name: string, network?: string, extra: Record<string, unknown> = {}) => ({
  name, vip: [{ vip_id: '0', auto_allocate_ip: true, ...(network ? { ipam_network_subnet: { network_ref: `/api/network/?name=${network}` } } : {}), ...extra }],
});
const addrOf = (v: any) => v.vip[0].ip_address.addr as string;

test('auto allocation from the cloud IPAM (local-vip) and from a named network; kept across PUTs; released on delete', async () => {
  const dns = await t.api.byName('vsvip', 'local-dns-vs');
  assert.equal(addrOf(dns), '127.77.5.1', 'the DNS VS has the first address');
  const a = await t.api.create('vsvip', autoVip('auto-a'));
  assert.equal(addrOf(a), '127.77.5.2');
  assert.equal(a.vip[0].avi_allocated_vip, true);
  assert.ok(a.vip[0].ipam_network_subnet.network_ref.includes('/api/network/network-'));
  assert.deepEqual(a.vip[0].ipam_network_subnet.subnet, { ip_addr: ip('127.77.5.0'), mask: 24 });
  // PUT without the address (as a client that builds the VIP afresh) keeps it; PUT of what was read keeps it.
  const put1 = await t.api.put(`/api/vsvip/${a.uuid}`, autoVip('auto-a'));
  assert.equal(addrOf(put1.body), '127.77.5.2');
  const put2 = await t.api.put(`/api/vsvip/${a.uuid}`, { ...put1.body, vsvip_cloud_config_cksum: '7' });
  assert.equal(addrOf(put2.body), '127.77.5.2');
  const moved = await t.api.put(`/api/vsvip/${a.uuid}`, { ...put2.body, vip: [{ ...put2.body.vip[0], ip_address: ip('127.77.5.99') }] });
  assert.equal(moved.status, 400);
  assert.match(moved.body.error, /recreate the VIP/);
  await t.api.create('network', net('blue', '10.77.0.0/24', '10.77.0.50', '10.77.0.52'));
  const b = await t.api.create('vsvip', autoVip('auto-b', 'blue'));
  assert.equal(addrOf(b), '10.77.0.50');
  assert.equal((await t.api.del(`/api/vsvip/${b.uuid}`)).status, 204);
  const b2 = await t.api.create('vsvip', autoVip('auto-b2', 'blue'));
  assert.equal(addrOf(b2), '10.77.0.50', 'a released address is handed out again');
});

test('requested addresses: in range and free, or a 400 that says why', async () => {
  await t.api.create('network', net('green', '10.78.0.0/24', '10.78.0.10', '10.78.0.20'));
  const s = await t.api.create('vsvip', { name: 'static-1', vip: [{ vip_id: '0', auto_allocate_ip: true, ip_address: ip('10.78.0.15'), ipam_network_subnet: { network_ref: '/api/network/?name=green' } }] });
  assert.equal(addrOf(s), '10.78.0.15');
  assert.equal(s.vip[0].avi_allocated_vip, false);
  const taken = await t.api.post('/api/vsvip', { name: 'static-2', vip: [{ vip_id: '0', ip_address: ip('10.78.0.15'), ipam_network_subnet: { network_ref: '/api/network/?name=green' } }] });
  assert.equal(taken.status, 400);
  assert.match(taken.body.error, /10\.78\.0\.15 is in use by vsvip static-1/);
  const out = await t.api.post('/api/vsvip', { name: 'static-3', vip: [{ vip_id: '0', ip_address: ip('10.78.0.200'), ipam_network_subnet: { network_ref: '/api/network/?name=green' } }] });
  assert.equal(out.status, 400);
  assert.match(out.body.error, /out of the VIP ranges of network green/);
  // Without a network, the cloud IPAM's usable networks decide.
  const viaIpam = await t.api.post('/api/vsvip', { name: 'static-4', vip: [{ vip_id: '0', ip_address: ip('10.99.99.99') }] });
  assert.equal(viaIpam.status, 400);
  assert.match(viaIpam.body.error, /out of the VIP ranges of network local-vip/);
  const inLocal = await t.api.create('vsvip', { name: 'static-5', vip: [{ vip_id: '0', ip_address: ip('127.77.5.200') }] });
  assert.equal(addrOf(inLocal), '127.77.5.200');
  // Auto allocation skips requested addresses.
  const next = await t.api.create('vsvip', autoVip('after-static', 'green'));
  assert.equal(addrOf(next), '10.78.0.10');
});

test('exhausted ranges: 400 "No available free IPs" naming the network, nothing stored', async () => {
  await t.api.create('network', net('tiny', '10.79.0.0/24', '10.79.0.1', '10.79.0.2'));
  await t.api.create('vsvip', autoVip('tiny-1', 'tiny'));
  await t.api.create('vsvip', autoVip('tiny-2', 'tiny'));
  const r = await t.api.post('/api/vsvip', autoVip('tiny-3', 'tiny'));
  assert.equal(r.status, 400);
  assert.match(r.body.error, /No available free IPs in network tiny/);
  assert.equal((await t.api.get('/api/vsvip?name=tiny-3')).body.count, 0);
});

test('100 concurrent POSTs never get the same address', async () => {
  await t.api.create('network', net('busy', '10.80.0.0/24', '10.80.0.1', '10.80.0.90'));
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => t.api.post('/api/vsvip', autoVip(`busy-${i}`, 'busy'))));
  const ok = results.filter((r) => r.status === 201);
  const full = results.filter((r) => r.status === 400);
  assert.equal(ok.length, 90);
  assert.equal(full.length, 10);
  for (const f of full) assert.match(f.body.error, /No available free IPs/);
  const addrs = ok.map((r) => addrOf(r.body));
  assert.equal(new Set(addrs).size, 90, 'all distinct');
  assert.equal(results.filter((r) => r.status >= 500).length, 0);
});

test('ranges may not overlap within a VRF (they may in another); shrinking under allocations is refused', async () => {
  await t.api.create('network', net('red', '10.81.0.0/24', '10.81.0.10', '10.81.0.20'));
  const overlap = await t.api.post('/api/network', net('red-2', '10.81.0.0/24', '10.81.0.20', '10.81.0.30'));
  assert.equal(overlap.status, 400);
  assert.match(overlap.body.error, /overlaps range 10\.81\.0\.10–10\.81\.0\.20 of network red/);
  await t.api.create('vrfcontext', { name: 'other-vrf' });
  await t.api.create('network', net('red-other-vrf', '10.81.0.0/24', '10.81.0.10', '10.81.0.20', { vrf_context_ref: '/api/vrfcontext?name=other-vrf' }));
  const v = await t.api.create('vsvip', { name: 'red-vip', vip: [{ vip_id: '0', ip_address: ip('10.81.0.18'), ipam_network_subnet: { network_ref: '/api/network?name=red' } }] });
  // The same address in the other VRF is another address.
  const same = await t.api.create('vsvip', { name: 'red-vip-other', vrf_context_ref: '/api/vrfcontext?name=other-vrf', vip: [{ vip_id: '0', ip_address: ip('10.81.0.18'), ipam_network_subnet: { network_ref: '/api/network?name=red-other-vrf' } }] });
  assert.equal(addrOf(same), '10.81.0.18');
  const red = await t.api.byName('network', 'red');
  const shrink = structuredClone(red);
  shrink.configured_subnets[0].static_ip_ranges[0].range.end = ip('10.81.0.15');
  const r = await t.api.put(`/api/network/${red.uuid}`, shrink);
  assert.equal(r.status, 400);
  assert.match(r.body.error, /10\.81\.0\.18 of vsvip red-vip/);
  const grow = structuredClone(red);
  grow.configured_subnets[0].static_ip_ranges[0].range.end = ip('10.81.0.40');
  assert.equal((await t.api.put(`/api/network/${red.uuid}`, grow)).status, 200);
  assert.equal((await t.api.del(`/api/network/${red.uuid}`)).status, 409, 'a network with allocations is referred to');
  assert.equal((await t.api.del(`/api/vsvip/${v.uuid}`)).status, 204);
});

test('DNS: FQDNs under the cloud DNS profile domains, one vsvip per FQDN; domain list', async () => {
  const a = await t.api.create('vsvip', { ...autoVip('dns-a'), dns_info: [{ fqdn: 'Web.Portico.Local' }] });
  assert.equal(a.dns_info[0].fqdn, 'Web.Portico.Local', 'stored as written');
  const dup = await t.api.post('/api/vsvip', { ...autoVip('dns-b'), dns_info: [{ fqdn: 'web.portico.local' }] });
  assert.equal(dup.status, 409);
  assert.match(dup.body.error, /web\.portico\.local is already used by vsvip dns-a/);
  const outside = await t.api.post('/api/vsvip', { ...autoVip('dns-c'), dns_info: [{ fqdn: 'web.example.com' }] });
  assert.equal(outside.status, 400);
  const cloud = await t.api.byName('cloud', 'Default-Cloud');
  const list = await t.api.get(`/api/ipamdnsproviderprofiledomainlist?cloud_uuid=${cloud.uuid}`);
  assert.deepEqual(list.body, { domains: ['portico.local'] });
  // A PUT of the same vsvip keeps its own FQDN.
  assert.equal((await t.api.put(`/api/vsvip/${a.uuid}`, a)).status, 200);
  await t.api.del(`/api/vsvip/${a.uuid}`);
  assert.equal((await t.api.post('/api/vsvip', { ...autoVip('dns-b'), dns_info: [{ fqdn: 'web.portico.local' }] })).status, 201, 'released with the vsvip');
});

test('IPv6: ranges, auto allocation (V6_ONLY and V4_V6) and requested addresses', async () => {
  await t.api.create('network', {
    name: 'six', configured_subnets: [
      { prefix: { ip_addr: { type: 'V6', addr: 'fd00:77::' }, mask: 64 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: { type: 'V6', addr: 'fd00:77::10' }, end: { type: 'V6', addr: 'fd00:77::11' } } }] },
      { prefix: { ip_addr: ip('10.82.0.0'), mask: 24 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: ip('10.82.0.1'), end: ip('10.82.0.9') } }] },
    ],
  });
  const only6 = await t.api.create('vsvip', autoVip('six-1', 'six', { auto_allocate_ip_type: 'V6_ONLY' }));
  assert.deepEqual(only6.vip[0].ip6_address, { type: 'V6', addr: 'fd00:77::10' });
  assert.equal(only6.vip[0].ip_address, undefined);
  const both = await t.api.create('vsvip', autoVip('six-2', 'six', { auto_allocate_ip_type: 'V4_V6' }));
  assert.equal(both.vip[0].ip_address.addr, '10.82.0.1');
  assert.equal(both.vip[0].ip6_address.addr, 'fd00:77::11');
  const taken = await t.api.post('/api/vsvip', { name: 'six-3', vip: [{ vip_id: '0', ip6_address: { type: 'V6', addr: 'fd00:77:0:0::10' }, ipam_network_subnet: { network_ref: '/api/network?name=six' } }] });
  assert.equal(taken.status, 400);
  assert.match(taken.body.error, /fd00:77::10 is in use by vsvip six-1/);
  const full = await t.api.post('/api/vsvip', autoVip('six-4', 'six', { auto_allocate_ip_type: 'V6_ONLY' }));
  assert.equal(full.status, 400);
  assert.match(full.body.error, /No available free IPs/);
});
