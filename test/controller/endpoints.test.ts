import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestController, type TestController } from './support.js';

let t: TestController;
before(async () => { t = await startTestController(); });
after(async () => { await t?.stop(); });

test('start-up reads: cluster runtime, initial-data, cluster, systemconfiguration (singletons)', async () => {
  const rt = await t.api.get('/api/cluster/runtime');
  assert.equal(rt.body.cluster_state.state, 'CLUSTER_UP_NO_HA');
  assert.equal(rt.body.node_states[0].role, 'CLUSTER_LEADER');
  assert.ok(rt.body.node_states[0].up_since);
  const cluster = await t.api.get('/api/cluster');
  assert.match(cluster.body.uuid, /^cluster-/);
  const sc = await t.api.get('/api/systemconfiguration');
  assert.equal(sc.body.default_license_tier, 'ENTERPRISE');
  const put = await t.api.put('/api/systemconfiguration', { ...sc.body, default_license_tier: 'ESSENTIALS' });
  assert.equal(put.status, 200);
  assert.equal((await t.api.get('/api/systemconfiguration/')).body.default_license_tier, 'ESSENTIALS');
  const cloud = await t.api.get('/api/cloud/?include_name&name=Default-Cloud');
  assert.ok(cloud.body.results[0].ipam_provider_ref.endsWith('#local-ipam'));
  const ipam = await t.api.get('/api/ipamdnsproviderprofile/?include_name&name=local-ipam');
  assert.ok(ipam.body.results[0].internal_profile.usable_networks[0].nw_ref.endsWith('#local-vip'));
  const names = async (type: string) => (await t.api.get(`/api/${type}?page_size=100`)).body.results.map((o: any) => o.name);
  for (const n of ['System-HTTP', 'System-Secure-HTTP', 'System-L4-Application', 'System-SSL-Application', 'System-DNS']) assert.ok((await names('applicationprofile')).includes(n), n);
  for (const n of ['System-TCP-Proxy', 'System-TCP-Fast-Path', 'System-UDP-Fast-Path']) assert.ok((await names('networkprofile')).includes(n), n);
  for (const n of ['System-TCP', 'System-UDP', 'System-HTTP', 'System-HTTPS']) assert.ok((await names('healthmonitor')).includes(n), n);
  assert.ok((await names('sslprofile')).includes('System-Standard'));
  assert.deepEqual((await names('vrfcontext')).sort(), ['global', 'management']);
  assert.deepEqual(await names('serviceenginegroup'), ['Default-Group']);
  const cert = (await t.api.get('/api/sslkeyandcertificate?name=System-Default-Cert')).body.results[0];
  assert.equal(cert.type, 'SSL_CERTIFICATE_TYPE_SYSTEM');
  assert.equal(cert.certificate.self_signed, true);
  const dnsVs = (await t.api.get('/api/virtualservice?name=local-dns-vs&include_name')).body.results[0];
  assert.ok(dnsVs.application_profile_ref.endsWith('#System-DNS'));
  assert.deepEqual(dnsVs.services.map((s: any) => s.port), [53, 53]);
  assert.equal((await t.api.del(`/api/sslkeyandcertificate/${cert.uuid}`)).status, 403, 'system objects stay');
});

test('VS runtime: disabled, or down with a reason while no SE serves it', async () => {
  await t.api.create('vsvip', { name: 'rt-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const vs = await t.api.create('virtualservice', { name: 'rt-vs', vsvip_ref: '/api/vsvip?name=rt-vip', services: [{ port: 80 }] });
  const rt = await t.api.get(`/api/virtualservice/${vs.uuid}/runtime/`);
  assert.equal(rt.status, 200);
  assert.equal(rt.body.oper_status.state, 'OPER_DOWN');
  assert.ok(rt.body.oper_status.reason.length > 0);
  assert.match(rt.body.vip_summary[0].ip_address.addr, /^127\.77\.0\./);
  await t.api.patch(`/api/virtualservice/${vs.uuid}`, { replace: { enabled: false } });
  assert.equal((await t.api.get(`/api/virtualservice/${vs.uuid}/runtime`)).body.oper_status.state, 'OPER_DISABLED');
  assert.equal((await t.api.get('/api/virtualservice/virtualservice-nope/runtime')).status, 404);
});

test('the engine host: same validation and transaction, refs as bare UUIDs, secrets included, change events', async () => {
  const seen: string[] = [];
  const off = t.c.host.onChange((type, uuid) => seen.push(`${type}/${uuid}`));
  const rev0 = await t.c.host.revision();
  const group = (await t.c.host.list('serviceenginegroup'))[0]!;
  const se = await t.c.host.create('serviceengine', { name: 'se-host-1', se_group_ref: group.uuid, se_secret_hash: 'h1' });
  assert.match(se.uuid, /^se-/);
  assert.equal(se.se_group_ref, group.uuid);
  assert.equal(se.se_secret_hash, 'h1');
  // Re-read first: background modules (placement) may have written the SE since it was created.
  const upd = await t.c.host.update('serviceengine', se.uuid, { ...(await t.c.host.get('serviceengine', se.uuid)), oper_status: { state: 'OPER_UP' }, se_connected: true });
  assert.deepEqual(upd.oper_status, { state: 'OPER_UP' });
  assert.ok((await t.c.host.revision()) > rev0);
  assert.ok(seen.includes(`serviceengine/${se.uuid}`));
  await assert.rejects(t.c.host.create('serviceengine', { name: 'se-bad', se_group_ref: group.uuid, frob: 1 }), /frob: unknown field/);
  // RO fields of an SE are the host's: a REST PUT keeps them, a REST client cannot set them.
  const rest = await t.api.get(`/api/serviceengine/${se.uuid}`);
  assert.equal(rest.body.se_secret_hash, undefined, 'internal hash not served');
  const change = { oper_status: { state: 'OPER_DOWN' }, enable_state: 'SE_STATE_DISABLED' };
  let put = await t.api.put(`/api/serviceengine/${se.uuid}`, { ...rest.body, ...change });
  if (put.status === 412) put = await t.api.put(`/api/serviceengine/${se.uuid}`, { ...(await t.api.get(`/api/serviceengine/${se.uuid}`)).body, ...change });
  assert.deepEqual(put.body.oper_status, { state: 'OPER_UP' });
  assert.equal((await t.c.host.get('serviceengine', se.uuid))?.se_secret_hash, 'h1');
  await t.c.host.remove('serviceengine', se.uuid);
  assert.equal(await t.c.host.get('serviceengine', se.uuid), undefined);
  off();
});

test('/metrics and the OpenAPI document', async () => {
  await t.api.get('/api/pool');
  const m = await fetch(`${t.c.url}/metrics`, { headers: t.api.headers });
  const text = await m.text();
  assert.match(text, /portico_controller_http_requests_total\{method="GET",route="\/api\/:type",status="200"\} \d+/);
  assert.match(text, /portico_controller_objects\{type="applicationprofile"\} 6/);
  assert.match(text, /portico_controller_store_revision \d+/);
  const doc = (await t.api.get('/api/openapi.json')).body;
  assert.equal(doc.openapi, '3.0.3');
  assert.ok(doc.paths['/api/virtualservice/{uuid}']);
  assert.ok(doc.components.schemas.VsVip.properties.vip);
});

test('TLS: the API over HTTPS with the given certificate', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const https = await import('node:https');
  const { selfSigned } = await import('../../src/controller/certs/selfsigned.js');
  const { startController } = await import('../../src/controller/server.js');
  const { freshAddress, PASSWORD } = await import('./support.js');
  const cert = selfSigned({ commonName: 'localhost', altNames: ['localhost'] });
  const dir = mkdtempSync(join(tmpdir(), 'portico-tls-'));
  const c = await startController({ listen: `${freshAddress()}:0`, dataDir: dir, adminPassword: PASSWORD, tls: { cert: cert.cert, key: cert.key } });
  try {
    assert.ok(c.url.startsWith('https://'));
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(`${c.url}/api/cloud?include_name`, { ca: cert.cert, servername: 'localhost', headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` } }, (res) => {
        let s = ''; res.on('data', (d) => (s += d)); res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      req.end();
    });
    const j = JSON.parse(body);
    assert.ok(j.results[0].url.startsWith('https://'), 'refs carry the https origin');
  } finally {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inventories: virtual services and service engines with config and runtime, paged', async () => {
  await t.api.create('virtualservice', { name: 'inv-vs', vsvip_ref: '/api/vsvip?name=rt-vip', services: [{ port: 81 }] });
  const inv = await t.api.get('/api/virtualservice-inventory?include_name=true&page_size=200&include=config,runtime,health_score');
  assert.equal(inv.status, 200);
  const item = inv.body.results.find((r: any) => r.config.name === 'inv-vs');
  assert.ok(item.config.vsvip_ref.endsWith('#rt-vip'));
  assert.equal(item.runtime.oper_status.state, 'OPER_DOWN');
  assert.equal(item.health_score.health_score, 0);
  assert.equal(inv.body.count, inv.body.results.length);
  const one = await t.api.get(`/api/virtualservice-inventory/${item.uuid}`);
  assert.equal(one.body.config.name, 'inv-vs');
  const group = (await t.c.host.list('serviceenginegroup'))[0]!;
  const se = await t.c.host.create('serviceengine', { name: 'inv-se', se_group_ref: group.uuid, oper_status: { state: 'OPER_UP' }, se_connected: true });
  const ses = await t.api.get('/api/serviceengine-inventory?include_name=true&page_size=200');
  const seItem = ses.body.results.find((r: any) => r.uuid === se.uuid);
  assert.deepEqual(seItem.runtime.oper_status, { state: 'OPER_UP' });
  assert.equal(seItem.runtime.se_connected, true);
  assert.equal((await t.api.get(`/api/serviceengine/${se.uuid}/runtime`)).body.oper_status.state, 'OPER_UP');
});
