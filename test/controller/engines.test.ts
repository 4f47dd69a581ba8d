// The SE protocol end to end: a real controller, `portico token create`, a real `portico engine`
// process joined with the token, objects written through the REST API, traffic through the VIP,
// monitors reaching /api/virtualservice/<uuid>/runtime, the DNS VS, a restart with the
// controller down, and the protocol's refusals (bad token, no/wrong secret, bad bodies).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { startController, type Controller } from '../../src/controller/server.js';
import { tcpBackend, tcpExchange, until, type Backend } from '../engine/support.js';
import { startEngineProcess, type EngineProcess } from '../engine/process.js';

const PASSWORD = 'engines-test-pw';
const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let ctl: Controller;
let ctlDir: string;
let seDir: string;
let se: EngineProcess;
let token: string;
let backends: Backend[];

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${ctl.url}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function create(type: string, body: Record<string, unknown>): Promise<any> {
  const r = await api('POST', `/api/${type}`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

const vsRuntime = async (uuid: string) => (await api('GET', `/api/virtualservice/${uuid}/runtime`)).body;

function startSe(): EngineProcess {
  const p = startEngineProcess(['--controller', ctl.url, '--join-token', token, '--data', seDir, '--name', 'se-e2e']);
  cleanups.push(() => p.stop());
  return p;
}

before(async () => {
  ctlDir = mkdtempSync(join(tmpdir(), 'portico-ctl-'));
  seDir = mkdtempSync(join(tmpdir(), 'portico-se-'));
  cleanups.push(() => rmSync(ctlDir, { recursive: true, force: true }), () => rmSync(seDir, { recursive: true, force: true }));
  ctl = await startController({ listen: '127.21.60.1:0', dataDir: ctlDir, vipCidr: '127.21.61.0/24', adminPassword: PASSWORD });
  backends = await Promise.all([1, 2, 3].map((i) => tcpBackend(`127.21.62.${i}`, `s${i}`)));
  for (const b of backends) cleanups.push(() => b.close());
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await ctl?.close();
});

test('token create (CLI) → engine joins → VS through the API serves traffic, runtime shows it', async () => {
  // Async: the controller runs in this process and must keep answering.
  const cli = await promisify(execFile)(process.execPath, [BIN, 'token', 'create', '--controller', ctl.url, '--se-group', 'Default-Group'], { env: { ...process.env, PORTICO_PASSWORD: PASSWORD }, encoding: 'utf8' });
  token = cli.stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{40,}$/);
  se = startSe();
  await se.waitFor((l) => l.msg === 'joined the controller', 'join');
  const identity = JSON.parse(readFileSync(join(seDir, 'identity.json'), 'utf8'));
  assert.match(identity.se_uuid, /^se-/);
  assert.equal(statSync(join(seDir, 'identity.json')).mode & 0o777, 0o600);
  assert.ok(!JSON.stringify(se.lines).includes(identity.se_secret), 'the SE secret is never logged');
  assert.ok(!JSON.stringify(se.lines).includes(token), 'the join token is never logged');

  const hm = await create('healthmonitor', { name: 'tcp-1s', type: 'HEALTH_MONITOR_TCP', send_interval: 1, receive_timeout: 1, successful_checks: 1, failed_checks: 1 });
  const pool = await create('pool', { name: 'e2e-pool', lb_algorithm: 'LB_ALGORITHM_ROUND_ROBIN', health_monitor_refs: [`/api/healthmonitor/${hm.uuid}`], servers: backends.slice(0, 2).map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
  const vsvip = await create('vsvip', { name: 'e2e-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }], dns_info: [{ fqdn: 'e2e.portico.local' }] });
  const vip = vsvip.vip[0].ip_address.addr as string;
  const vs = await create('virtualservice', { name: 'e2e-l4', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, application_profile_ref: '/api/applicationprofile?name=System-L4-Application', network_profile_ref: '/api/networkprofile?name=System-TCP-Proxy', services: [{ port: 9300 }] });
  await until('VS up on the SE', async () => (await vsRuntime(vs.uuid)).oper_status.state === 'OPER_UP', 15_000);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add((await tcpExchange(vip, 9300, 'x')).split(':')[0]);
  assert.deepEqual([...seen].sort(), ['s1', 's2']);
  const rt = await vsRuntime(vs.uuid);
  assert.equal(rt.se_list.length, 1);
  // The heartbeat's counters reach the controller's registry.
  const { engineRegistryOf } = await import('../../src/controller/engines/routes.js');
  await until('VS counters reported', () => (engineRegistryOf(ctl.app)!.virtualServiceRuntime(vs.uuid).metrics?.connections ?? 0) >= 4);
  assert.equal(rt.se_list[0].connected, true);
  assert.equal(rt.servers.filter((s: any) => s.state === 'UP').length, 2);

  // The SE record shows the applied version; the secret hash never leaves the controller.
  const rec = (await api('GET', `/api/serviceengine/${identity.se_uuid}`)).body;
  assert.equal(rec.name, 'se-e2e');
  assert.equal(rec.se_connected, true);
  assert.ok(rec.applied_version > 0);
  assert.ok(!JSON.stringify(rec).includes('se_secret'));

  // A monitor takes a server out, and the controller shows it.
  const port = backends[1].port;
  await backends[1].close();
  await until('server down in the runtime', async () => (await vsRuntime(vs.uuid)).servers.some((s: any) => s.port === port && s.state === 'DOWN'));
  const pr = (await api('GET', `/api/pool/${pool.uuid}/runtime`)).body;
  assert.equal(pr.num_servers_up, 1);
  for (let i = 0; i < 3; i++) assert.match(await tcpExchange(vip, 9300, 'x'), /^s1:/);
  backends[1] = await tcpBackend('127.21.62.2', 's2', port);
  cleanups.push(() => backends[1].close());
  await until('server back up', async () => (await vsRuntime(vs.uuid)).servers.every((s: any) => s.state === 'UP'));

  // A change to the pool reaches the SE without touching the listener: an open connection carries on.
  const net = await import('node:net');
  const open = await new Promise<import('node:net').Socket>((resolve, reject) => {
    const c = net.connect({ host: vip, port: 9300 }, () => resolve(c));
    c.on('error', reject);
  });
  const before = se.lines.filter((l) => l.msg === 'snapshot applied').length;
  const full = (await api('GET', `/api/pool/${pool.uuid}`)).body;
  const put = await api('PUT', `/api/pool/${pool.uuid}`, { ...full, servers: backends.map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await until('new snapshot applied', () => se.lines.filter((l) => l.msg === 'snapshot applied').length > before);
  const applied = se.lines.filter((l) => l.msg === 'snapshot applied').at(-1)!;
  assert.deepEqual([applied.opened, applied.closed], [0, 0]);
  const answer = await new Promise<string>((r) => open.once('data', (d: Buffer) => r(d.toString())).write('still'));
  assert.match(answer, /:still$/);
  open.destroy();
  const all = new Set<string>();
  for (let i = 0; i < 6; i++) all.add((await tcpExchange(vip, 9300, 'x')).split(':')[0]);
  assert.deepEqual([...all].sort(), ['s1', 's2', 's3']);
});

test('the DNS VS answers for vsvip FQDNs; NXDOMAIN in portico.local; REFUSED elsewhere', async () => {
  const dnsVs = (await api('GET', '/api/virtualservice?name=local-dns-vs')).body.results[0];
  await until('DNS VS up', async () => (await vsRuntime(dnsVs.uuid)).oper_status.state === 'OPER_UP');
  const dnsVip = (await api('GET', '/api/vsvip?name=local-dns-vs')).body.results[0].vip[0].ip_address.addr;
  const e2eVip = (await api('GET', '/api/vsvip?name=e2e-vip')).body.results[0].vip[0].ip_address.addr;
  const ask = (name: string) => new Promise<any>((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no DNS answer')); }, 3000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(dnsPacket.decode(m)); });
    s.send(dnsPacket.encode({ type: 'query', id: 3, questions: [{ type: 'A', name }] }), 53, dnsVip);
  });
  const a = await ask('e2e.portico.local');
  assert.equal(a.answers[0].data, e2eVip);
  assert.equal(a.answers[0].ttl, 30);
  assert.equal((await ask('missing.portico.local')).rcode, 'NXDOMAIN');
  assert.equal((await ask('www.example.com')).rcode, 'REFUSED');
});

test('protocol refusals: bad token, missing or wrong secret, bad bodies', async () => {
  const bad = await fetch(`${ctl.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope', version: '1', vip_mode: 'loopback' }) });
  assert.equal(bad.status, 401);
  const noToken = await fetch(`${ctl.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vip_mode: 'loopback' }) });
  assert.equal(noToken.status, 400);
  assert.match(((await noToken.json()) as { error: string }).error, /token/);
  const id = JSON.parse(readFileSync(join(seDir, 'identity.json'), 'utf8'));
  assert.equal((await fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=0`)).status, 401);
  assert.equal((await fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=0`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const badWait = await fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=0&wait=600`, { headers: { authorization: `Bearer ${id.se_secret}` } });
  assert.equal(badWait.status, 400);
  const hb = await fetch(`${ctl.url}/api/se/${id.se_uuid}/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${id.se_secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ applied_version: 'x' }) });
  assert.equal(hb.status, 400);
  assert.match(((await hb.json()) as { error: string }).error, /applied_version/);
  // A current SE asking with its version waits, then gets 204.
  const cfg = await fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=${Number.MAX_SAFE_INTEGER}&wait=1`, { headers: { authorization: `Bearer ${id.se_secret}` } });
  assert.equal(cfg.status, 204);
  // Tokens need a user; bad bodies name the field; unknown groups are 404.
  const group = (await api('GET', '/api/serviceenginegroup?name=Default-Group')).body.results[0];
  assert.equal((await fetch(`${ctl.url}/api/serviceenginegroup/${group.uuid}/jointoken`, { method: 'POST' })).status, 401);
  const badTtl = await api('POST', `/api/serviceenginegroup/${group.uuid}/jointoken`, { ttl_seconds: -1 });
  assert.equal(badTtl.status, 400);
  assert.match(badTtl.body.error, /ttl_seconds/);
  assert.equal((await api('POST', '/api/serviceenginegroup/serviceenginegroup-00000000-0000-4000-8000-000000000000/jointoken', {})).status, 404);
  const once = await api('POST', `/api/serviceenginegroup/${group.uuid}/jointoken`, { max_uses: 1 });
  assert.equal(once.status, 201);
  const join1 = await fetch(`${ctl.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: once.body.token, name: 'se-once', version: '1', vip_mode: 'loopback' }) });
  assert.equal(join1.status, 200);
  const join2 = await fetch(`${ctl.url}/api/se/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: once.body.token, name: 'se-twice', version: '1', vip_mode: 'loopback' }) });
  assert.equal(join2.status, 401);
});

test('snapshots carry keys to joined SEs only; a change in another SE group does not wake an SE', async () => {
  const id = JSON.parse(readFileSync(join(seDir, 'identity.json'), 'utf8'));
  const auth = { authorization: `Bearer ${id.se_secret}` };
  const res = await fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=0`, { headers: auth });
  assert.equal(res.status, 200);
  const snap = (await res.json()) as any;
  assert.equal(snap.se.uuid, id.se_uuid);
  const cert = snap.objects.sslkeyandcertificate.find((c: any) => c.name === 'System-Default-Cert');
  assert.match(cert?.key ?? '', /PRIVATE KEY/, 'the SE gets the System-Default-Cert key');
  assert.ok(snap.objects.virtualservice.some((v: any) => v.name === 'e2e-l4'));
  assert.ok(!JSON.stringify(snap).includes('token_hash') && !JSON.stringify(snap).includes('se_secret_hash'));
  // A VS in another SE group changes nothing for this SE: its long-poll runs out (204).
  const other = await create('serviceenginegroup', { name: 'other-group' });
  const poll = fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=${snap.version}&wait=2`, { headers: auth });
  const pool = await create('pool', { name: 'other-pool', servers: [{ ip: { addr: '127.21.62.9', type: 'V4' }, port: 1 }] });
  const vip = await create('vsvip', { name: 'other-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  await create('virtualservice', { name: 'other-vs', se_group_ref: `/api/serviceenginegroup/${other.uuid}`, vsvip_ref: `/api/vsvip/${vip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, application_profile_ref: '/api/applicationprofile?name=System-L4-Application', services: [{ port: 9301 }] });
  assert.equal((await poll).status, 204);
  // A change in its own group wakes it with a higher version.
  const wake = fetch(`${ctl.url}/api/se/${id.se_uuid}/config?version=${snap.version}&wait=10`, { headers: auth });
  const mine = (await api('GET', '/api/virtualservice?name=e2e-l4')).body.results[0];
  const patched = await api('PUT', `/api/virtualservice/${mine.uuid}`, { ...mine, services: [{ port: 9300 }, { port: 9302 }] });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const woke = await wake;
  assert.equal(woke.status, 200);
  assert.ok(((await woke.json()) as any).version > snap.version);
  const vipAddr = (await api('GET', '/api/vsvip?name=e2e-vip')).body.results[0].vip[0].ip_address.addr;
  await until('new port served', () => tcpExchange(vipAddr, 9302, 'p').then((r) => /^s\d:p/.test(r), () => false));
});

test('a deleted SE joins again with its token', async () => {
  const id = JSON.parse(readFileSync(join(seDir, 'identity.json'), 'utf8'));
  const del = await api('DELETE', `/api/serviceengine/${id.se_uuid}`);
  assert.equal(del.status, 204, JSON.stringify(del.body));
  await until('re-joined', () => se.lines.filter((l) => l.msg === 'joined the controller').length === 2, 15_000);
  const again = JSON.parse(readFileSync(join(seDir, 'identity.json'), 'utf8'));
  assert.notEqual(again.se_uuid, id.se_uuid);
  const vs = (await api('GET', '/api/virtualservice?name=e2e-l4')).body.results[0];
  await until('VS up on the re-joined SE', async () => (await vsRuntime(vs.uuid)).se_list.some((s: any) => s.se_uuid === again.se_uuid && s.oper_state === 'OPER_UP'));
  assert.deepEqual((await vsRuntime(vs.uuid)).se_list.map((s: any) => s.se_uuid), [again.se_uuid], 'the deleted SE is gone from the runtime view');
});

test('SE restarted while the controller is down serves from its data directory, then reconnects', async () => {
  const vip = (await api('GET', '/api/vsvip?name=e2e-vip')).body.results[0].vip[0].ip_address.addr;
  const url = new URL(ctl.url);
  await se.stop();
  await ctl.close();
  se = startSe();
  await se.waitFor((l) => l.msg === 'snapshot applied' && l.source === 'disk', 'applied from disk');
  assert.match(await tcpExchange(vip, 9300, 'headless'), /^s\d:headless/);
  await se.waitFor((l) => /retrying|failed/.test(l.msg ?? ''), 'retrying the controller');
  // The controller comes back on the same address: the SE re-attaches with its identity (no new join).
  ctl = await startController({ listen: `${url.hostname}:${url.port}`, dataDir: ctlDir, adminPassword: PASSWORD });
  const vs = (await api('GET', '/api/virtualservice?name=e2e-l4')).body.results[0];
  await until('VS up again', async () => (await vsRuntime(vs.uuid)).oper_status.state === 'OPER_UP', 20_000);
  assert.equal(se.lines.filter((l) => l.msg === 'joined the controller').length, 0, 'identity.json is re-used');
});

test('a TLS controller with its own certificate: the SE verifies it with --controller-ca', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-tls-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const gen = await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=portico-test', '-addext', 'subjectAltName=IP:127.21.60.2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]).catch((e: Error) => e);
  if (gen instanceof Error) return void test.skip?.('openssl not usable');
  const tlsCtl = await startController({ listen: '127.21.60.2:0', dataDir: join(dir, 'ctl'), vipCidr: '127.21.63.0/24', adminPassword: PASSWORD, tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) } });
  cleanups.push(() => tlsCtl.close());
  assert.match(tlsCtl.url, /^https:/);
  const basic = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
  const { Agent, fetch: ufetch } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: readFileSync(join(dir, 'cert.pem'), 'utf8') } });
  cleanups.push(() => dispatcher.close());
  const groups = (await (await ufetch(`${tlsCtl.url}/api/serviceenginegroup?name=Default-Group`, { headers: { authorization: basic }, dispatcher })).json()) as any;
  const tok = (await (await ufetch(`${tlsCtl.url}/api/serviceenginegroup/${groups.results[0].uuid}/jointoken`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: '{}', dispatcher })).json()) as any;
  const tlsSe = startEngineProcess(['--controller', tlsCtl.url, '--controller-ca', join(dir, 'cert.pem'), '--join-token', tok.token, '--data', join(dir, 'se')]);
  cleanups.push(() => tlsSe.stop());
  await tlsSe.waitFor((l) => l.msg === 'snapshot applied' && l.source === 'controller', 'snapshot over TLS');
  // Without the CA the same controller is refused (the SE keeps retrying, never trusts it).
  const untrusting = startEngineProcess(['--controller', tlsCtl.url, '--join-token', tok.token, '--data', join(dir, 'se2')]);
  cleanups.push(() => untrusting.stop());
  await untrusting.waitFor((l) => l.msg === 'controller unreachable; retrying', 'TLS refusal');
});
