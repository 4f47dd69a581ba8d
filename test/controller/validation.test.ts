import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from './support.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

let t: TestController;
before(async () => {
  t = await startTestController();
  await t.api.create('pool', { name: 'v-pool' });
  await t.api.create('network', { name: 'v-net', configured_subnets: [{ prefix: { ip_addr: { type: 'V4', addr: '10.50.0.0' }, mask: 24 }, static_ip_ranges: [{ range: { begin: { type: 'V4', addr: '10.50.0.10' }, end: { type: 'V4', addr: '10.50.0.11' } } }] }] });
});
after(async () => { await t?.stop(); });

const good = selfSigned({ commonName: 'good.example.com' });
const other = selfSigned({ commonName: 'other.example.com' });
const ip = (addr: string, type = 'V4') => ({ type, addr });

/** [type, body (name is added), expected status, what the message must name] */
const cases: Array<[string, unknown, number, RegExp]> = [
  ['pool', 'not json {', 400, /body/i],
  ['pool', [], 400, /body/],
  ['pool', 42, 400, /body/],
  ['pool', {}, 400, /name: required/],
  ['pool', { name: '' }, 400, /name/],
  ['pool', { name: 7 }, 400, /name/],
  ['pool', { frobnicate: true }, 400, /frobnicate: unknown field/],
  ['pool', { servers: [{ ip: ip('10.0.0.1'), port: 0 }] }, 400, /servers\[0\]\.port/],
  ['pool', { servers: [{ ip: ip('10.0.0.1'), port: 70000 }] }, 400, /servers\[0\]\.port/],
  ['pool', { servers: [{ ip: ip('10.0.0.1'), port: '80' }] }, 400, /servers\[0\]\.port/],
  ['pool', { servers: [{ ip: ip('10.0.0.300') }] }, 400, /servers\[0\]\.ip\.addr/],
  ['pool', { servers: [{ ip: ip('::1', 'V4') }] }, 400, /servers\[0\]\.ip\.addr/],
  ['pool', { servers: [{ ip: ip('10.0.0.1', 'V6') }] }, 400, /servers\[0\]\.ip\.addr/],
  ['pool', { servers: [{ ip: ip('10.0.0.1', 'V5') }] }, 400, /servers\[0\]\.ip\.type.*V4, V6, DNS/],
  ['pool', { servers: [{ port: 80 }] }, 400, /servers\[0\]\.ip: required/],
  ['pool', { servers: [{ ip: ip('10.0.0.1'), ratio: 0 }] }, 400, /servers\[0\]\.ratio/],
  ['pool', { servers: {} }, 400, /servers/],
  ['pool', { lb_algorithm: 'LB_ALGORITHM_MAGIC' }, 400, /lb_algorithm.*LB_ALGORITHM_ROUND_ROBIN/],
  ['pool', { default_server_port: -1 }, 400, /default_server_port/],
  ['pool', { health_monitor_refs: ['/api/healthmonitor?name=nope'] }, 400, /health_monitor_refs\[0\].*HealthMonitor object not found/],
  ['pool', { health_monitor_refs: '/api/healthmonitor?name=System-TCP' }, 400, /health_monitor_refs/],
  ['pool', { cloud_ref: '/api/cloud?name=Nowhere' }, 400, /cloud_ref.*Cloud object not found/],
  ['pool', { tenant_ref: '/api/tenant?name=nobody' }, 400, /tenant_ref/],
  ['pool', { graceful_disable_timeout: 99999 }, 400, /graceful_disable_timeout/],
  ['pool', { enabled: 'yes' }, 400, /enabled/],
  ['pool', { _last_modified: 12 }, 400, /_last_modified/],
  ['poolgroup', { members: [{ ratio: 1 }] }, 400, /members\[0\]\.pool_ref: required/],
  ['poolgroup', { members: [{ pool_ref: 'not a ref!' }] }, 400, /members\[0\]\.pool_ref/],
  ['poolgroup', { members: [{ pool_ref: '/api/vsvip?name=v-pool' }] }, 400, /members\[0\]\.pool_ref: refers to a vsvip/],
  ['poolgroup', { members: [{ pool_ref: '/api/pool?name=v-pool', ratio: 5000 }] }, 400, /members\[0\]\.ratio/],
  ['virtualservice', { services: [{ port: 65536 }] }, 400, /services\[0\]\.port/],
  ['virtualservice', { services: [{ port: -5 }] }, 400, /services\[0\]\.port/],
  ['virtualservice', { services: [{ enable_ssl: true }] }, 400, /services\[0\]\.port: required/],
  ['virtualservice', { services: [{ port: 90, port_range_end: 80 }] }, 400, /services\[0\]\.port_range_end/],
  ['virtualservice', { type: 'VS_TYPE_SOMETHING' }, 400, /type.*VS_TYPE_NORMAL/],
  ['virtualservice', { vsvip_ref: '/api/vsvip/?name=missing' }, 400, /vsvip_ref: VsVip object not found/],
  ['virtualservice', { pool_ref: '/api/pool?name=missing' }, 400, /pool_ref: Pool object not found!/],
  ['virtualservice', { vrf_context_ref: '/api/vrfcontext?name=missing' }, 400, /vrf_context_ref: VrfContext object not found/],
  ['virtualservice', { type: 'VS_TYPE_VH_CHILD' }, 400, /vh_parent_vs_ref/],
  ['virtualservice', { vh_parent_vs_ref: '/api/virtualservice?name=missing' }, 400, /vh_parent_vs_ref/],
  ['virtualservice', { http_policies: [{ index: 1 }] }, 400, /http_policies\[0\]\.http_policy_set_ref: required/],
  ['virtualservice', { ssl_key_and_certificate_refs: ['/api/sslkeyandcertificate?name=a', '/api/sslkeyandcertificate?name=b', '/api/sslkeyandcertificate?name=c'] }, 400, /ssl_key_and_certificate_refs/],
  ['vsvip', { vip: [{ vip_id: '0', ip_address: ip('banana') }] }, 400, /vip\[0\]\.ip_address\.addr/],
  ['vsvip', { vip: [{ vip_id: '0', ip_address: ip('10.50.0.99'), ipam_network_subnet: { network_ref: '/api/network?name=v-net' } }] }, 400, /vip\[0\]\.ip_address: 10\.50\.0\.99 is out of the VIP ranges of network v-net/],
  ['vsvip', { vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: '/api/network?name=missing' } }] }, 400, /Network object not found/],
  ['vsvip', { vip: [{ vip_id: '0' }, { vip_id: '0' }] }, 400, /vip\[1\]\.vip_id/],
  ['vsvip', { vip: [{ vip_id: '0', auto_allocate_ip_type: 'V8_ONLY' }] }, 400, /auto_allocate_ip_type/],
  ['vsvip', { dns_info: [{ fqdn: 'web.example.org' }] }, 400, /dns_info\[0\]\.fqdn: web\.example\.org is not under a domain/],
  ['vsvip', { dns_info: [{ fqdn: 'bad name!.portico.local' }] }, 400, /dns_info\[0\]\.fqdn/],
  ['vsvip', { dns_info: [{}] }, 400, /dns_info\[0\]\.fqdn: required/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.60.0.0'), mask: 33 } }] }, 400, /configured_subnets\[0\]\.prefix\.mask/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.60.0.0'), mask: 24 }, static_ip_ranges: [{ range: { begin: ip('10.61.0.1'), end: ip('10.61.0.5') } }] }] }, 400, /static_ip_ranges\[0\]\.range\.begin: .* outside the subnet/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.60.0.0'), mask: 24 }, static_ip_ranges: [{ range: { begin: ip('10.60.0.9'), end: ip('10.60.0.5') } }] }] }, 400, /static_ip_ranges\[0\]\.range: begin/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.60.0.0'), mask: 24 }, static_ip_ranges: [{ range: { begin: ip('10.60.0.1'), end: ip('10.60.0.5') } }, { range: { begin: ip('10.60.0.5'), end: ip('10.60.0.7') } }] }] }, 400, /static_ip_ranges\[1\]\.range: overlaps/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.50.0.0'), mask: 24 }, static_ip_ranges: [{ range: { begin: ip('10.50.0.11'), end: ip('10.50.0.20') } }] }] }, 400, /overlaps range 10\.50\.0\.10–10\.50\.0\.11 of network v-net/],
  ['network', { configured_subnets: [{ prefix: { ip_addr: ip('10.60.0.0'), mask: 24 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_CATS', range: { begin: ip('10.60.0.1'), end: ip('10.60.0.5') } }] }] }, 400, /static_ip_ranges\[0\]\.type/],
  ['sslkeyandcertificate', { certificate: { certificate: 'hello' }, key: good.key }, 400, /certificate\.certificate: Import error/],
  ['sslkeyandcertificate', { certificate: { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, key: good.key }, 400, /certificate\.certificate: Import error/],
  ['sslkeyandcertificate', { certificate: { certificate: good.cert }, key: other.key }, 400, /key: the private key does not match the certificate/],
  ['sslkeyandcertificate', { certificate: { certificate: good.cert }, key: 'not a key' }, 400, /key: Import error/],
  ['sslkeyandcertificate', { certificate: { certificate: good.cert } }, 400, /key: a private key is required/],
  ['sslkeyandcertificate', { key: good.key }, 400, /certificate: required/],
  ['sslkeyandcertificate', { certificate: { certificate: good.cert }, key: good.key, type: 'SSL_CERTIFICATE_TYPE_FANCY' }, 400, /type/],
  ['healthmonitor', {}, 400, /type: required/],
  ['healthmonitor', { type: 'HEALTH_MONITOR_TCP', send_interval: 0 }, 400, /send_interval/],
  ['healthmonitor', { type: 'HEALTH_MONITOR_HTTP', http_monitor: { http_response_code: ['HTTP_6XX'] } }, 400, /http_monitor\.http_response_code\[0\]/],
  ['httppolicyset', { http_request_policy: { rules: [{ name: 'r', index: 0, switching_action: { action: 'HTTP_SWITCHING_TELEPORT' } }] } }, 400, /http_request_policy\.rules\[0\]\.switching_action\.action/],
  ['httppolicyset', { http_request_policy: { rules: [{ name: 'r', index: 0, redirect_action: { protocol: 'HTTPS', port: 0 } }] } }, 400, /redirect_action\.port/],
  ['httppolicyset', { http_request_policy: { rules: [{ name: 'r', index: 0, match: { path: { match_criteria: 'SOUNDS_LIKE' } } }] } }, 400, /match\.path\.match_criteria/],
  ['httppolicyset', { http_request_policy: { rules: [{ name: 'r', index: 0, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: '/api/pool?name=missing' } }] } }, 400, /switching_action\.pool_ref: Pool object not found!/],
  ['l4policyset', { l4_connection_policy: { rules: [{ name: 'r', index: 0, match: { port: { match_criteria: 'IS_IN', ports: [99999] } } }] } }, 400, /ports\[0\]/],
  ['applicationprofile', { type: 'APPLICATION_PROFILE_TYPE_HTTP', http_profile: { keepalive_timeout: 'long' } }, 400, /http_profile\.keepalive_timeout/],
  ['networkprofile', {}, 400, /profile: required/],
  ['ipamdnsproviderprofile', { type: 'IPAMDNS_TYPE_INTERNAL', internal_profile: { usable_networks: [{ nw_ref: '/api/network?name=missing' }] } }, 400, /internal_profile\.usable_networks\[0\]\.nw_ref: Network object not found/],
  ['user', { password: 12345 }, 400, /password/],
  ['cloud', { vtype: 'CLOUD_MARS' }, 400, /vtype/],
  ['tenant', { config_settings: { tenant_vrf: 'maybe' } }, 400, /config_settings\.tenant_vrf/],
  ['vrfcontext', { static_routes: [{ route_id: 'r', prefix: { ip_addr: ip('10.0.0.0'), mask: 24 }, next_hop: ip('300.1.1.1') }] }, 400, /static_routes\[0\]\.next_hop\.addr/],
  ['sejointoken', {}, 405, /created by the controller/],
  ['cluster', {}, 405, /PUT/],
];

test(`a table of ${cases.length} malformed bodies: each a 4xx naming the place, nothing stored`, async () => {
  assert.ok(cases.length >= 50);
  for (let i = 0; i < cases.length; i++) {
    const [type, body, status, message] = cases[i]!;
    const name = `bad-${i}`;
    const sent = typeof body === 'object' && body !== null && !Array.isArray(body) && !('name' in body) && i !== 3 ? { name, ...body } : body;
    const r = await t.api.post(`/api/${type}`, sent);
    const label = `#${i} ${type} ${JSON.stringify(sent).slice(0, 120)} → ${r.status} ${JSON.stringify(r.body)}`;
    assert.equal(r.status, status, label);
    assert.equal(typeof r.body?.error, 'string', label);
    assert.match(r.body.error, message, label);
    if (r.status !== 405) assert.equal((await t.api.get(`/api/${type}?name=${name}`)).body.count, 0, `${label}: nothing stored`);
  }
});

test('bad input on other verbs: PUT/PATCH bodies, unknown paths, bad query values', async () => {
  const pool = await t.api.byName('pool', 'v-pool');
  const r1 = await t.api.put(`/api/pool/${pool.uuid}`, { ...pool, servers: [{ ip: ip('x') }] });
  assert.equal(r1.status, 400);
  assert.match(r1.body.error, /servers\[0\]\.ip\.addr/);
  assert.equal((await t.api.get(`/api/pool/${pool.uuid}`)).body._last_modified, pool._last_modified, 'unchanged');
  const r2 = await t.api.patch(`/api/pool/${pool.uuid}`, { replace: { lb_algorithm: 'NOPE' } });
  assert.equal(r2.status, 400);
  assert.match(r2.body.error, /lb_algorithm/);
  assert.equal((await t.api.patch(`/api/pool/${pool.uuid}`, [1])).status, 400);
  assert.equal((await t.api.get('/api/pool?page=abc')).status, 400);
  assert.equal((await t.api.get('/nope')).status, 404);
  assert.equal((await t.api.req('POST', '/api/pool', 'name=x', { 'content-type': 'text/plain' })).status, 400);
  const form = await t.api.req('POST', '/api/pool', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 415);
  assert.match(form.body.error, /application\/json/);
  const big = await t.api.post('/api/pool', { name: 'big', description: 'x'.repeat(5 * 1024 * 1024) });
  assert.equal(big.status, 413);
});

test('random bodies (fast-check) never get a 5xx', async () => {
  const fc = (await import('fast-check')).default;
  const types = ['pool', 'poolgroup', 'vsvip', 'virtualservice', 'network', 'httppolicyset', 'sslkeyandcertificate', 'user', 'healthmonitor', 'l4policyset'];
  // Shapes close to real bodies (so validation gets deep), plus arbitrary JSON.
  const nearly = fc.record({
    name: fc.oneof(fc.string(), fc.constant('fuzz')),
    servers: fc.array(fc.record({ ip: fc.record({ type: fc.constantFrom('V4', 'V6', 'DNS', 'X'), addr: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()) }), port: fc.integer({ min: -5, max: 70000 }) }, { requiredKeys: [] }), { maxLength: 3 }),
    vip: fc.array(fc.record({ vip_id: fc.string(), auto_allocate_ip: fc.boolean(), ip_address: fc.record({ type: fc.constant('V4'), addr: fc.ipV4() }) }, { requiredKeys: [] }), { maxLength: 2 }),
    members: fc.array(fc.record({ pool_ref: fc.oneof(fc.string(), fc.constant('/api/pool?name=v-pool')) }), { maxLength: 2 }),
    certificate: fc.record({ certificate: fc.string() }),
    services: fc.array(fc.record({ port: fc.integer({ min: -1, max: 70000 }) }), { maxLength: 2 }),
  }, { requiredKeys: [] });
  await fc.assert(fc.asyncProperty(fc.constantFrom(...types), fc.oneof(nearly, fc.jsonValue()), async (type, body) => {
    const r = await t.api.post(`/api/${type}`, JSON.stringify(body));
    if (r.status >= 500) throw new Error(`${type} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status >= 400) assert.equal(typeof r.body.error, 'string');
  }), { numRuns: 300 });
});
