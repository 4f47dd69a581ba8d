// The requests AKO makes (shared/reference/avi-api.md §1.8, §3), as it makes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from './support.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

let t: TestController;
before(async () => { t = await startTestController(); });
after(async () => { await t?.stop(); });

const common = { tenant_ref: '/api/tenant/?name=admin', created_by: 'ako-c1' };
const markers = [{ key: 'clustername', values: ['c1'] }];
const cloudRefs = { cloud_ref: '/api/cloud?name=Default-Cloud' };

test('L4 LoadBalancer Service: vsvip, pool, l4policyset, VS; cache fill; update via GET→PUT', async () => {
  const vsvip = await t.api.create('vsvip/', {
    name: 'c1--default-web', ...cloudRefs, tenant_ref: '/api/tenant/?name=admin', vrf_context_ref: '/api/vrfcontext?name=global',
    east_west_placement: false, vsvip_cloud_config_cksum: '2771182345', markers, dns_info: [{ fqdn: 'web.default.portico.local' }],
    vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: '/api/network/?name=local-vip', subnet: { ip_addr: { type: 'V4', addr: '127.77.0.0' }, mask: 24 } } }],
  });
  assert.match(vsvip.vip[0].ip_address.addr, /^127\.77\.0\./);
  await t.api.create('pool/', {
    name: 'c1--default-web-TCP-80', ...common, cloud_config_cksum: '93310231', ...cloudRefs, vrf_ref: '/api/vrfcontext?name=global',
    graceful_disable_timeout: 1, sni_enabled: false, service_metadata: '{"namespace_svc_name":null}',
    health_monitor_refs: ['/api/healthmonitor/?name=System-TCP'],
    markers: [...markers, { key: 'Namespace', values: ['default'] }, { key: 'ServiceName', values: ['web'] }, { key: 'Port', values: ['80'] }],
    servers: [{ ip: { type: 'V4', addr: '10.244.1.5' }, port: 8080, external_uuid: '10.244.1.5:8080' }, { ip: { type: 'V4', addr: '10.244.2.7' }, port: 8080, external_uuid: '10.244.2.7:8080' }],
  });
  await t.api.create('l4policyset/', {
    name: 'c1--default-web', ...common,
    l4_connection_policy: { rules: [{ name: 'c1--default-web-TCP-80', index: 0, match: { port: { match_criteria: 'IS_IN', ports: [80] }, protocol: { match_criteria: 'IS_IN', protocol: 'PROTOCOL_TCP' } }, action: { select_pool: { action_type: 'L4_RULE_ACTION_SELECT_POOL', pool_ref: '/api/pool?name=c1--default-web-TCP-80' } } }] },
  });
  const vs = await t.api.create('virtualservice/', {
    name: 'c1--default-web', type: 'VS_TYPE_NORMAL', ...common, cloud_config_cksum: '1188341207', enabled: true, ...cloudRefs,
    se_group_ref: '/api/serviceenginegroup?name=Default-Group', vrf_context_ref: '/api/vrfcontext?name=global',
    application_profile_ref: '/api/applicationprofile/?name=System-L4-Application', network_profile_ref: '/api/networkprofile/?name=System-TCP-Proxy',
    vsvip_ref: '/api/vsvip/?name=c1--default-web', services: [{ port: 80, port_range_end: 80, enable_ssl: false, enable_http2: false }],
    l4_policies: [{ index: 0, l4_policy_set_ref: '/api/l4policyset/?name=c1--default-web' }], remove_listening_port_on_vs_down: true,
    service_metadata: '{"namespace_svc_name":["default/web"]}', markers,
  });
  // Cache fill, paged as AKO does it.
  const list = await t.api.get('/api/virtualservice/?include_name=true&cloud_ref.name=Default-Cloud&created_by=ako-c1&page_size=100');
  assert.equal(list.body.count, 1);
  const got = list.body.results[0];
  for (const k of ['name', 'uuid', 'tenant_ref', '_last_modified', 'cloud_config_cksum', 'service_metadata']) assert.ok(got[k] !== undefined, k);
  assert.equal(got.vsvip_ref.split('#')[1], 'c1--default-web');
  assert.equal(got.l4_policies[0].l4_policy_set_ref.split('#')[1], 'c1--default-web');
  const vips = await t.api.get('/api/vsvip/?include_name=true&name.contains=c1--&cloud_ref.name=Default-Cloud&page_size=100');
  assert.equal(vips.body.results[0].vip[0].ipam_network_subnet.network_ref.split('#')[1], 'local-vip');
  // VsVip update: GET, modify, PUT with _last_modified; a stale copy gets 412.
  const cur = (await t.api.get(`/api/vsvip/${vsvip.uuid}`)).body;
  const upd = await t.api.put(`/api/vsvip/${vsvip.uuid}`, { ...cur, vsvip_cloud_config_cksum: '1' });
  assert.equal(upd.status, 200);
  assert.equal((await t.api.put(`/api/vsvip/${vsvip.uuid}`, { ...cur, vsvip_cloud_config_cksum: '2' })).status, 412);
  // 409 on POST → GET ?name= → PUT to the UUID found.
  const again = await t.api.post('/api/pool/', { name: 'c1--default-web-TCP-80', ...common });
  assert.equal(again.status, 409);
  const found = await t.api.get('/api/pool?name=c1--default-web-TCP-80&include_name=true&created_by=ako-c1');
  assert.equal((await t.api.put(`/api/pool/${found.body.results[0].uuid}`, { name: 'c1--default-web-TCP-80', ...common, cloud_config_cksum: '5' })).status, 200);
  // Delete in AKO's order: VS, then its children; DELETE of a gone object is 404.
  for (const [type, name] of [['virtualservice', 'c1--default-web'], ['vsvip', 'c1--default-web'], ['l4policyset', 'c1--default-web'], ['pool', 'c1--default-web-TCP-80']]) {
    const o = await t.api.byName(type!, name!);
    assert.equal((await t.api.req('DELETE', `/api/${type}/${o.uuid}`, undefined, { 'content-type': 'application/json' })).status, 204, `${type} ${name}`);
  }
  assert.equal((await t.api.del(`/api/virtualservice/${vs.uuid}`)).status, 404);
});

test('shared L7 parent, SNI child with certificate and path policy, EVH child, redirect policy, datascript', async () => {
  const c = selfSigned({ commonName: 'foo.example.com' });
  const cert = await t.api.create('sslkeyandcertificate', { name: 'c1--foo.example.com-secret1', type: 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE', ...common, certificate: { certificate: c.cert }, key: c.key, markers });
  assert.equal(cert.certificate.certificate, c.cert, 'PEM unchanged (AKO checksums it)');
  await t.api.create('vsvip', { name: 'c1--Shared-L7-0', ...cloudRefs, tenant_ref: '/api/tenant/?name=admin', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  await t.api.create('pool', { name: 'c1--Shared-L7-0-pool', ...common });
  await t.api.create('poolgroup', { name: 'c1--Shared-L7-0', ...common, implicit_priority_labels: true, members: [{ pool_ref: '/api/pool/?name=c1--Shared-L7-0-pool', ratio: 100, priority_label: 'bar.example.com/' }] });
  await t.api.create('vsdatascriptset', { name: 'c1--Shared-L7-0', ...common, datascript: [{ evt: 'VS_DATASCRIPT_EVT_HTTP_REQ', script: 'host = avi.http.get_host_tokens(1)' }], pool_group_refs: ['/api/poolgroup/?name=c1--Shared-L7-0'] });
  await t.api.create('httppolicyset', {
    name: 'c1--Shared-L7-0-redirect', ...common, cloud_config_cksum: '9',
    http_request_policy: { rules: [{ name: 'c1--Shared-L7-0-redirect-0', index: 0, enable: true, match: { host_hdr: { match_criteria: 'HDR_EQUALS', value: ['foo.example.com'] }, vs_port: { match_criteria: 'IS_IN', ports: [80] } }, redirect_action: { protocol: 'HTTPS', port: 443, status_code: 'HTTP_REDIRECT_STATUS_CODE_302' } }] },
    http_security_policy: {},
  });
  const parent = await t.api.create('virtualservice', {
    name: 'c1--Shared-L7-0', type: 'VS_TYPE_VH_PARENT', ...common, cloud_config_cksum: '1', ...cloudRefs,
    application_profile_ref: '/api/applicationprofile/?name=System-HTTP', network_profile_ref: '/api/networkprofile/?name=System-TCP-Proxy',
    vsvip_ref: '/api/vsvip/?name=c1--Shared-L7-0', services: [{ port: 80, port_range_end: 80, enable_ssl: false }, { port: 443, port_range_end: 443, enable_ssl: true }],
    vs_datascripts: [{ index: 0, vs_datascript_set_ref: '/api/vsdatascriptset/?name=c1--Shared-L7-0' }],
    http_policies: [{ index: 11, http_policy_set_ref: '/api/httppolicyset/?name=c1--Shared-L7-0-redirect' }],
    se_group_ref: '/api/serviceenginegroup?name=Default-Group', vrf_context_ref: '/api/vrfcontext?name=global', markers,
  });
  await t.api.create('pool', { name: 'c1--default-foo.example.com_api-ing1', ...common });
  await t.api.create('httppolicyset', {
    name: 'c1--default-foo.example.com_api-ing1', ...common,
    http_request_policy: { rules: [{ name: 'c1--default-foo.example.com_api-ing1-0', index: 0, enable: true, match: { path: { match_criteria: 'BEGINS_WITH', match_case: 'SENSITIVE', match_str: ['/api'] } }, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: '/api/pool/?name=c1--default-foo.example.com_api-ing1' } }] },
    http_security_policy: {},
  });
  const child = await t.api.create('virtualservice', {
    name: 'c1--foo.example.com', type: 'VS_TYPE_VH_CHILD', vh_parent_vs_ref: '/api/virtualservice/?name=c1--Shared-L7-0', vh_domain_name: ['foo.example.com'],
    application_profile_ref: '/api/applicationprofile/?name=System-Secure-HTTP', network_profile_ref: '/api/networkprofile/?name=System-TCP-Proxy',
    ssl_key_and_certificate_refs: ['/api/sslkeyandcertificate/?name=c1--foo.example.com-secret1'],
    http_policies: [{ index: 11, http_policy_set_ref: '/api/httppolicyset/?name=c1--default-foo.example.com_api-ing1' }],
    ign_pool_net_reach: false, east_west_placement: false, se_group_ref: '/api/serviceenginegroup?name=Default-Group', ...cloudRefs,
    vrf_context_ref: '/api/vrfcontext?name=global', ...common, cloud_config_cksum: '2', service_metadata: '{"hostnames":["foo.example.com"]}', markers,
  });
  const evh = await t.api.create('virtualservice', {
    name: 'c1--evh-child', type: 'VS_TYPE_VH_CHILD', vh_type: 'VS_TYPE_VH_ENHANCED', vh_parent_vs_ref: '/api/virtualservice/?name=c1--Shared-L7-0',
    vh_matches: [{ host: 'bar.example.com', rules: [{ name: 'VHMATCHRULENAME', matches: { path: { match_criteria: 'BEGINS_WITH', match_case: 'SENSITIVE', match_str: ['/'] } } }] }], ...common,
  });
  const p = (await t.api.get(`/api/virtualservice/${parent.uuid}?include_name`)).body;
  assert.deepEqual(p.vh_child_vs_uuid.sort(), [child.uuid, evh.uuid].sort());
  assert.equal((await t.api.get(`/api/virtualservice/${child.uuid}?include_name`)).body.vh_parent_vs_ref, `${t.c.url}/api/virtualservice/${parent.uuid}#c1--Shared-L7-0`);
  const hp = (await t.api.get('/api/httppolicyset?name=c1--default-foo.example.com_api-ing1&include_name')).body.results[0];
  assert.equal(hp.http_request_policy.rules[0].switching_action.pool_ref.split('#')[1], 'c1--default-foo.example.com_api-ing1');
});

test('start-up reads: cloud, IPAM profile, tenant, VRF, SE group labels PUT, network, system configuration', async () => {
  const cloud = (await t.api.get('/api/cloud/?include_name&name=Default-Cloud')).body.results[0];
  assert.equal(cloud.vtype, 'CLOUD_NONE');
  const ipamName = cloud.ipam_provider_ref.split('#')[1];
  const ipam = (await t.api.get(`/api/ipamdnsproviderprofile/?include_name&name=${ipamName}`)).body.results[0];
  assert.equal(ipam.type, 'IPAMDNS_TYPE_INTERNAL');
  assert.equal((await t.api.get('/api/tenant/?include_name&name=admin')).body.count, 1);
  assert.equal((await t.api.get('/api/vrfcontext/?include_name&name=global&cloud_ref.name=Default-Cloud')).body.count, 1);
  const seg = (await t.api.get('/api/serviceenginegroup/?include_name&page_size=100&cloud_ref.name=Default-Cloud&name.in=Default-Group')).body.results[0];
  const labelled = await t.api.put(`/api/serviceenginegroup/${seg.uuid}`, { ...seg, labels: [{ key: 'clustername', value: 'c1' }] });
  assert.deepEqual(labelled.body.labels, [{ key: 'clustername', value: 'c1' }]);
  const net = (await t.api.get('/api/network/?include_name=true&name=local-vip&cloud_ref.name=Default-Cloud&vrf_context_ref.name=global')).body.results[0];
  assert.equal(net.vrf_context_ref.split('#')[1], 'global');
  assert.equal((await t.api.get(`/api/network/${net.uuid}?cloud_uuid=${cloud.uuid}&include_name`)).status, 200);
  // VRF static routes, as AKO merges them.
  const vrf = (await t.api.get('/api/vrfcontext/?name=global')).body.results[0];
  const routed = await t.api.put(`/api/vrfcontext/${vrf.uuid}`, { ...vrf, static_routes: [{ route_id: 'c1-10.244.1.0-1', prefix: { ip_addr: { type: 'V4', addr: '10.244.1.0' }, mask: 24 }, next_hop: { type: 'V4', addr: '192.0.2.10' }, labels: [{ key: 'clustername', value: 'c1' }] }] });
  assert.equal(routed.status, 200);
  assert.ok(['ENTERPRISE', 'ENTERPRISE_WITH_CLOUD_SERVICES', 'ESSENTIALS'].includes((await t.api.get('/api/systemconfiguration')).body.default_license_tier));
});
