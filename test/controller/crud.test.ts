import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, refPath, type TestController } from './support.js';
import { registry } from '../../src/model/registry.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

let t: TestController;
before(async () => { t = await startTestController(); });
after(async () => { await t?.stop(); });

const cert = selfSigned({ commonName: 'crud.example.com' });

/** A minimal valid body per type (refs by name) and one field to change with PUT. */
const samples: Record<string, { body: Record<string, unknown>; change: Record<string, unknown> }> = {
  tenant: { body: { name: 'crud-tenant' }, change: { description: 'changed' } },
  cloud: { body: { name: 'crud-cloud', vtype: 'CLOUD_NONE' }, change: { mtu: 9000 } },
  vrfcontext: { body: { name: 'crud-vrf' }, change: { static_routes: [{ route_id: 'r1', prefix: { ip_addr: { type: 'V4', addr: '10.244.0.0' }, mask: 24 }, next_hop: { type: 'V4', addr: '10.0.0.5' } }] } },
  network: { body: { name: 'crud-net', configured_subnets: [{ prefix: { ip_addr: { type: 'V4', addr: '10.99.0.0' }, mask: 24 }, static_ip_ranges: [{ type: 'STATIC_IPS_FOR_VIP', range: { begin: { type: 'V4', addr: '10.99.0.10' }, end: { type: 'V4', addr: '10.99.0.20' } } }] }] }, change: { dhcp_enabled: false } },
  ipamdnsproviderprofile: { body: { name: 'crud-ipam', type: 'IPAMDNS_TYPE_INTERNAL', internal_profile: { usable_networks: [{ nw_ref: '/api/network/?name=local-vip' }] } }, change: { allocate_ip_in_vrf: true } },
  serviceenginegroup: { body: { name: 'crud-seg' }, change: { labels: [{ key: 'clustername', value: 'c1' }] } },
  serviceengine: { body: { name: 'crud-se', se_group_ref: '/api/serviceenginegroup?name=Default-Group' }, change: { enable_state: 'SE_STATE_DISABLED' } },
  vsvip: { body: { name: 'crud-vsvip', vip: [{ vip_id: '0', auto_allocate_ip: true }] }, change: { east_west_placement: false, vsvip_cloud_config_cksum: '42' } },
  pool: { body: { name: 'crud-pool', servers: [{ ip: { type: 'V4', addr: '10.1.1.1' }, port: 8080 }], health_monitor_refs: ['/api/healthmonitor/?name=System-TCP'] }, change: { lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN' } },
  poolgroup: { body: { name: 'crud-pg', members: [{ pool_ref: '/api/pool?name=crud-pool', ratio: 2 }] }, change: { implicit_priority_labels: true } },
  healthmonitor: { body: { name: 'crud-hm', type: 'HEALTH_MONITOR_HTTP', http_monitor: { http_request: 'GET /healthz HTTP/1.0', http_response_code: ['HTTP_2XX'] } }, change: { send_interval: 5 } },
  applicationpersistenceprofile: { body: { name: 'crud-persist', persistence_type: 'PERSISTENCE_TYPE_HTTP_COOKIE', http_cookie_persistence_profile: { cookie_name: 'p' } }, change: { server_hm_down_recovery: 'HM_DOWN_ABORT_CONNECTION' } },
  applicationprofile: { body: { name: 'crud-app', type: 'APPLICATION_PROFILE_TYPE_HTTP', http_profile: { xff_enabled: false } }, change: { preserve_client_ip: true } },
  networkprofile: { body: { name: 'crud-np', profile: { type: 'PROTOCOL_TYPE_UDP_FAST_PATH' } }, change: { connection_mirror: true } },
  sslprofile: { body: { name: 'crud-sslp', accepted_versions: [{ type: 'SSL_VERSION_TLS1_2' }] }, change: { send_close_notify: false } },
  analyticsprofile: { body: { name: 'crud-analytics' }, change: { apdex_response_threshold: 300 } },
  sslkeyandcertificate: { body: { name: 'crud-cert', certificate: { certificate: cert.cert }, key: cert.key }, change: { markers: [{ key: 'clustername', values: ['c1'] }] } },
  pkiprofile: { body: { name: 'crud-pki', ca_certs: [{ certificate: cert.cert }] }, change: { crl_check: false } },
  httppolicyset: { body: { name: 'crud-http', http_request_policy: { rules: [{ name: 'r0', index: 0, match: { path: { match_criteria: 'BEGINS_WITH', match_str: ['/api'] } }, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: '/api/pool/?name=crud-pool' } }] } }, change: { is_internal_policy: false } },
  l4policyset: { body: { name: 'crud-l4', l4_connection_policy: { rules: [{ name: 'r0', index: 0, match: { port: { match_criteria: 'IS_IN', ports: [80] } }, action: { select_pool: { action_type: 'L4_RULE_ACTION_SELECT_POOL', pool_ref: '/api/pool?name=crud-pool' } } }] } }, change: { description: 'x' } },
  vsdatascriptset: { body: { name: 'crud-ds', datascript: [{ evt: 'VS_DATASCRIPT_EVT_HTTP_REQ', script: 'avi.http.response(200)' }], pool_refs: ['/api/pool?name=crud-pool'] }, change: { description: 'x' } },
  stringgroup: { body: { name: 'crud-sg', kv: [{ key: '/a' }] }, change: { longest_match: true } },
  virtualservice: { body: { name: 'crud-vs', vsvip_ref: '/api/vsvip/?name=crud-vsvip', pool_group_ref: '/api/poolgroup/?name=crud-pg', services: [{ port: 80 }, { port: 443, enable_ssl: true }], ssl_key_and_certificate_refs: ['/api/sslkeyandcertificate/?name=crud-cert'], http_policies: [{ index: 11, http_policy_set_ref: '/api/httppolicyset/?name=crud-http' }], cloud_config_cksum: '123', service_metadata: '{"a": [1, 2]}' }, change: { enabled: false } },
  user: { body: { name: 'crud-user', password: 'pw-1234', access: [{ tenant_ref: '/api/tenant?name=crud-tenant' }] }, change: { full_name: 'Crud User' } },
};

test('CRUD of every type over HTTP: create, read, replace, patch, delete', async () => {
  const created: Array<[string, string]> = [];
  for (const info of registry.values()) if (!info.internalOnly && !info.singleton) assert.ok(samples[info.type], `a sample for ${info.type}`);
  for (const [type, s] of Object.entries(samples)) {
    const info = registry.get(type)!;
    const obj = await t.api.create(info.type, s.body);
    assert.match(obj.uuid, new RegExp(`^${info.uuidPrefix}-[0-9a-f-]{36}$`), info.type);
    assert.equal(obj.url, `${t.c.url}/api/${info.type}/${obj.uuid}`);
    assert.match(obj._last_modified, /^\d{16}$/);
    assert.ok(obj.tenant_ref.startsWith(`${t.c.url}/api/tenant/`));
    const got = await t.api.get(`/api/${info.type}/${obj.uuid}`);
    assert.equal(got.status, 200);
    // Background modules (placement) may already have set read-only fields of a service engine.
    const settled = (o: any) => { const c = { ...o }; delete c._last_modified; for (const f of info.readOnly) if (f.segs.length === 1) delete c[f.segs[0]!]; return c; };
    assert.deepEqual(settled(got.body), settled(obj), `${info.type}: GET returns what POST returned`);
    let put = await t.api.put(`/api/${info.type}/${obj.uuid}/`, { ...got.body, ...s.change });
    if (put.status === 412) put = await t.api.put(`/api/${info.type}/${obj.uuid}/`, { ...(await t.api.get(`/api/${info.type}/${obj.uuid}`)).body, ...s.change });
    assert.equal(put.status, 200, `${info.type} PUT: ${JSON.stringify(put.body)}`);
    for (const [k, v] of Object.entries(s.change)) assert.deepEqual(put.body[k], v, `${info.type}.${k} after PUT`);
    const patch = await t.api.patch(`/api/${info.type}/${obj.uuid}`, { replace: { description: 'patched' } });
    assert.equal(patch.status, 200, `${info.type} PATCH: ${JSON.stringify(patch.body)}`);
    assert.equal(patch.body.description, 'patched');
    created.push([info.type, obj.uuid]);
  }
  // Delete parents before children (the reverse of creation).
  for (const [type, uuid] of created.reverse()) {
    const d = await t.api.del(`/api/${type}/${uuid}`);
    assert.equal(d.status, 204, `DELETE ${type}: ${JSON.stringify(d.body)}`);
    assert.equal((await t.api.get(`/api/${type}/${uuid}`)).status, 404);
  }
});

test('refs by name and by UUID, include_name, verbatim fields, trailing slashes', async () => {
  const pool = await t.api.create('pool', { name: 'ref-pool', servers: [{ ip: { type: 'V4', addr: '10.2.0.1' } }] });
  const byUuid = await t.api.create('poolgroup', { name: 'pg-uuid', members: [{ pool_ref: `/api/pool/${pool.uuid}` }] });
  const byName = await t.api.create('poolgroup', { name: 'pg-name', members: [{ pool_ref: '/api/pool?name=ref-pool' }] });
  const byUrl = await t.api.create('poolgroup', { name: 'pg-url', members: [{ pool_ref: `${pool.url}#ref-pool` }] });
  for (const pg of [byUuid, byName, byUrl]) assert.equal(pg.members[0].pool_ref, `${t.c.url}/api/pool/${pool.uuid}`);
  const withNames = await t.api.get(`/api/poolgroup/${byName.uuid}/?include_name`);
  assert.equal(withNames.body.members[0].pool_ref, `${t.c.url}/api/pool/${pool.uuid}#ref-pool`);
  assert.equal(withNames.body.tenant_ref, `${t.c.url}/api/tenant/admin#admin`);
  assert.equal(withNames.body.url, `${t.c.url}/api/poolgroup/${byName.uuid}#pg-name`);
  const list = await t.api.get('/api/poolgroup/?name=pg-name&include_name=');
  assert.equal(list.body.count, 1);
  assert.ok(list.body.results[0].cloud_ref.endsWith('#Default-Cloud'));
  const missing = await t.api.post('/api/poolgroup', { name: 'pg-bad', members: [{ pool_ref: '/api/pool?name=nope' }] });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /members\[0\]\.pool_ref: Pool object not found!/);
  const wrongType = await t.api.post('/api/poolgroup', { name: 'pg-bad', members: [{ pool_ref: `/api/vsvip/${pool.uuid}` }] });
  assert.equal(wrongType.status, 400);
  // Verbatim: checksum, service_metadata (spacing kept), markers.
  const meta = '{"namespace_svc_name":["default/web"],  "x": null}';
  const vs = await t.api.create('virtualservice', { name: 'verbatim', cloud_config_cksum: '1188341207', service_metadata: meta, markers: [{ key: 'clustername', values: ['c1'] }], pool_ref: '/api/pool?name=ref-pool', services: [{ port: 8080 }] });
  assert.equal(vs.cloud_config_cksum, '1188341207');
  assert.equal(vs.service_metadata, meta);
  assert.deepEqual(vs.markers, [{ key: 'clustername', values: ['c1'] }]);
  // Tenant refs by query with a trailing slash, as AKO writes them.
  const p2 = await t.api.create('pool', { name: 'ref-pool-2', tenant_ref: '/api/tenant/?name=admin', cloud_ref: '/api/cloud?name=Default-Cloud', vrf_ref: '/api/vrfcontext?name=global' });
  assert.equal(refPath(p2.vrf_ref).split('/')[2], 'vrfcontext');
});

test('pagination with next, filters, fields', async () => {
  for (let i = 0; i < 7; i++) await t.api.create('stringgroup', { name: `page-sg-${i}`, created_by: i % 2 ? 'ako-c1' : 'other', markers: [{ key: 'created_by', values: [i % 2 ? 'ako-c1' : 'other'] }] });
  const seen: string[] = [];
  let url: string | undefined = '/api/stringgroup?name.contains=page-sg-&page_size=3';
  let pages = 0;
  while (url) {
    const r = await t.api.get(url);
    assert.equal(r.status, 200);
    assert.equal(r.body.count, 7);
    seen.push(...r.body.results.map((x: any) => x.name));
    pages++;
    if (r.body.next) {
      const n = new URL(r.body.next);
      assert.ok(r.body.next.includes('/api/stringgroup?'), 'next contains /api/<type>?');
      url = n.pathname + n.search;
    } else url = undefined;
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6].map((i) => `page-sg-${i}`));
  assert.equal((await t.api.get('/api/stringgroup?created_by=ako-c1')).body.count, 3);
  assert.equal((await t.api.get('/api/stringgroup?label_key=created_by&label_value=other')).body.count, 4);
  assert.equal((await t.api.get('/api/stringgroup?name.in=page-sg-1,page-sg-5,zzz')).body.count, 2);
  const f = await t.api.get('/api/stringgroup?name=page-sg-1&fields=created_by');
  assert.deepEqual(Object.keys(f.body.results[0]).sort(), ['created_by', 'name', 'url', 'uuid']);
  assert.equal((await t.api.get('/api/stringgroup?page_size=0')).status, 400);
  const sorted = await t.api.get('/api/stringgroup?name.contains=page-sg-&sort=-name&page_size=2');
  assert.deepEqual(sorted.body.results.map((x: any) => x.name), ['page-sg-6', 'page-sg-5']);
});

test('409 on duplicate names and on deleting what is referred to; 412 on a stale _last_modified; PATCH add/delete', async () => {
  const p = await t.api.create('pool', { name: 'dup-pool' });
  const dup = await t.api.post('/api/pool', { name: 'dup-pool' });
  assert.equal(dup.status, 409);
  assert.match(dup.body.error, /already exists/);
  await t.api.create('poolgroup', { name: 'dup-pg', members: [{ pool_ref: '/api/pool?name=dup-pool' }] });
  const del = await t.api.del(`/api/pool/${p.uuid}`);
  assert.equal(del.status, 409);
  assert.match(del.body.error, /PoolGroup dup-pg/);
  const v1 = await t.api.put(`/api/pool/${p.uuid}`, { ...p, default_server_port: 8081 });
  const stale = await t.api.put(`/api/pool/${p.uuid}`, { ...p, default_server_port: 8082 });
  assert.equal(stale.status, 412);
  const fresh = await t.api.put(`/api/pool/${p.uuid}`, { ...v1.body, default_server_port: 8083 });
  assert.equal(fresh.status, 200);
  const added = await t.api.patch(`/api/pool/${p.uuid}`, { add: { servers: [{ ip: { type: 'V4', addr: '10.3.0.1' } }, { ip: { type: 'V4', addr: '10.3.0.2' } }] } });
  assert.equal(added.body.servers.length, 2);
  const removed = await t.api.patch(`/api/pool/${p.uuid}`, { delete: { servers: [{ ip: { addr: '10.3.0.1' } }] } });
  assert.deepEqual(removed.body.servers.map((s: any) => s.ip.addr), ['10.3.0.2']);
  assert.equal((await t.api.patch(`/api/pool/${p.uuid}`, { frobnicate: {} })).status, 400);
  assert.equal((await t.api.get('/api/pool/pool-00000000-0000-0000-0000-000000000000')).status, 404);
  assert.equal((await t.api.get('/api/nosuchtype')).status, 404);
});

test('VH children are listed on their parent; a parent with children is not deleted', async () => {
  await t.api.create('vsvip', { name: 'vh-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const parent = await t.api.create('virtualservice', { name: 'vh-parent', type: 'VS_TYPE_VH_PARENT', vsvip_ref: '/api/vsvip/?name=vh-vip', services: [{ port: 80 }, { port: 443, enable_ssl: true }] });
  const child = await t.api.create('virtualservice', { name: 'vh-child', type: 'VS_TYPE_VH_CHILD', vh_parent_vs_ref: '/api/virtualservice/?name=vh-parent', vh_domain_name: ['foo.example.com'] });
  const p1 = await t.api.get(`/api/virtualservice/${parent.uuid}?include_name`);
  assert.deepEqual(p1.body.vh_child_vs_uuid, [child.uuid]);
  assert.equal(p1.body._last_modified, parent._last_modified, 'a child does not make the parent stale');
  assert.equal(child.vh_parent_vs_ref, `${t.c.url}/api/virtualservice/${parent.uuid}`);
  // A PUT of the parent keeps the controller-maintained list.
  const put = await t.api.put(`/api/virtualservice/${parent.uuid}`, { ...p1.body, enabled: false });
  assert.deepEqual(put.body.vh_child_vs_uuid, [child.uuid]);
  assert.equal((await t.api.del(`/api/virtualservice/${parent.uuid}`)).status, 409);
  const orphan = await t.api.post('/api/virtualservice', { name: 'vh-bad', type: 'VS_TYPE_VH_CHILD' });
  assert.equal(orphan.status, 400);
  assert.equal((await t.api.del(`/api/virtualservice/${child.uuid}`)).status, 204);
  assert.equal((await t.api.get(`/api/virtualservice/${parent.uuid}`)).body.vh_child_vs_uuid, undefined);
});

test('PATCH json_patch (add, replace, remove by JSON pointer)', async () => {
  const p = await t.api.create('pool', { name: 'jp-pool', servers: [{ ip: { type: 'V4', addr: '10.4.0.1' } }] });
  const r = await t.api.patch(`/api/pool/${p.uuid}`, { json_patch: [
    { op: 'add', path: '/servers/-', value: { ip: { type: 'V4', addr: '10.4.0.2' } } },
    { op: 'replace', path: '/default_server_port', value: 8080 },
    { op: 'remove', path: '/servers/0' },
  ] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.servers.map((s: any) => s.ip.addr), ['10.4.0.2']);
  assert.equal(r.body.default_server_port, 8080);
  const bad = await t.api.patch(`/api/pool/${p.uuid}`, { json_patch: [{ op: 'move', path: '/servers/0' }] });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /json_patch\[0\]\.op/);
});

test('concurrent PATCHes of one object all land: a PATCH names no version, so a write between its read and its write is retried, not refused', async () => {
  const p = await t.api.create('pool', { name: 'race-pool', servers: [{ ip: { type: 'V4', addr: '10.4.1.1' } }] });
  const adds = ['10.4.1.2', '10.4.1.3', '10.4.1.4', '10.4.1.5'];
  const answers = await Promise.all(adds.map((addr) => t.api.patch(`/api/pool/${p.uuid}`, { add: { servers: [{ ip: { type: 'V4', addr } }] } })));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  const got = await t.api.get(`/api/pool/${p.uuid}`);
  assert.deepEqual(got.body.servers.map((s: any) => s.ip.addr).sort(), ['10.4.1.1', ...adds].sort());
});

test('macro API: a tree in one transaction (all or nothing), and its deletion', async () => {
  const tree = (poolName: string, port: number) => ({
    model_name: 'VirtualService',
    data: {
      name: `macro-vs-${poolName}`, services: [{ port: 80 }],
      vsvip_ref_data: { name: `macro-vip-${poolName}`, vip: [{ vip_id: '0', auto_allocate_ip: true }] },
      pool_ref_data: {
        name: poolName, servers: [{ ip: { type: 'V4', addr: '10.5.0.1' }, port }],
        health_monitor_refs: ['/api/healthmonitor?name=System-TCP'],
        health_monitor_refs_data: [{ name: `macro-hm-${poolName}`, type: 'HEALTH_MONITOR_HTTP' }],
      },
    },
  });
  const r = await t.api.post('/api/macro', tree('macro-pool', 8080));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.map((o: any) => new URL(o.url).pathname.split('/')[2]), ['vsvip', 'healthmonitor', 'pool', 'virtualservice']);
  const vs = r.body[3];
  assert.equal(vs.pool_ref, r.body[2].url);
  assert.equal(r.body[2].health_monitor_refs.length, 2);
  // A bad child anywhere: nothing of the tree is stored.
  const bad = await t.api.post('/api/macro', tree('macro-bad', 70000));
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /data\.pool_ref_data: servers\[0\]\.port/);
  for (const [type, name] of [['vsvip', 'macro-vip-macro-bad'], ['healthmonitor', 'macro-hm-macro-bad'], ['pool', 'macro-bad']]) {
    assert.equal((await t.api.get(`/api/${type}?name=${name}`)).body.count, 0, `${type} ${name} not stored`);
  }
  // A failure at the top, after the children were written in the transaction: rolled back too.
  await t.api.create('virtualservice', { name: 'macro-vs-taken' });
  const late = tree('taken', 8080);
  (late.data as any).name = 'macro-vs-taken';
  const lateR = await t.api.post('/api/macro', late);
  assert.equal(lateR.status, 409);
  assert.equal((await t.api.get('/api/pool?name=taken')).body.count, 0, 'children rolled back');
  assert.equal((await t.api.get('/api/vsvip?name=macro-vip-taken')).body.count, 0, 'children rolled back');
  assert.equal((await t.api.post('/api/macro', { model_name: 'Nope', data: {} })).status, 400);
  const del = await t.api.req('DELETE', '/api/macro', { model_name: 'VirtualService', data: { uuid: vs.uuid } });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.equal(del.body.deleted.length, 4);
  assert.equal((await t.api.get('/api/pool?name=macro-pool')).body.count, 0);
  assert.equal((await t.api.get('/api/healthmonitor?name=System-TCP')).body.count, 1, 'shared system objects stay');
});
