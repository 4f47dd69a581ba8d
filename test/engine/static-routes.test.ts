// Static routes of the VRF context on the engine's host (src/engine/vip/routes.ts). Tables for
// what a snapshot's vrfcontexts ask for; loopback mode installs nothing; then network namespaces:
// an L2-mode engine whose pool member sits on a "pod network" behind a router namespace, reachable
// only through the static route the VRF context global carries. The route appears (tagged proto
// 197; one the kernel refuses is left out and logged) and traffic flows; deleting the static route removes it; stopping the engine removes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routesOf, StaticRouteManager } from '../../src/engine/vip/routes.js';
import { startController, type Controller } from '../../src/controller/server.js';
import { PASSWORD } from '../controller/support.js';
import { until } from './support.js';
import { prepareL2Controller } from '../reliability/l2-controller.js';
import { Lab, netnsUnavailable } from '../reliability/netns.js';
import { POD, startPodNetwork } from './pod-network.js';

const route = (id: string, addr: string, mask: number, via: string) => ({ route_id: id, prefix: { ip_addr: { addr, type: 'V4' }, mask }, next_hop: { addr: via, type: 'V4' } });

test('routesOf: prefixes normalised, first VRF wins a prefix, malformed routes named and skipped', () => {
  const { routes, problems } = routesOf([
    { name: 'global', static_routes: [route('a-1', '10.244.1.7', 24, '10.0.0.1'), route('a-2', '10.9.0.0', 33, '10.0.0.1'), route('a-3', '10.8.0.0', 16, 'fd00::1'), { route_id: 'a-4' }] },
    { name: 'other', static_routes: [route('b-1', '10.244.1.0', 24, '10.0.0.2'), route('b-2', '10.244.1.0', 24, '10.0.0.1'), { ...route('b-3', 'fd00:1::', 64, 'fd00::1'), prefix: { ip_addr: { addr: 'fd00:1::', type: 'V6' }, mask: 64 } }] },
    { name: 'empty' },
  ]);
  assert.deepEqual([...routes], [['10.244.1.0/24', '10.0.0.1'], ['fd00:1::/64', 'fd00::1']]);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /global static_routes\[1\] \(a-2\): prefix/);
  assert.match(problems[1]!, /\(a-3\): next_hop is not an IPv4 address/);
  assert.match(problems[2]!, /\(a-4\): prefix/);
  assert.match(problems[3]!, /other static_routes\[0\] \(b-1\): 10\.244\.1\.0\/24 is already routed via 10\.0\.0\.1/);
});

test('loopback mode installs no route and says so once', async () => {
  const infos: string[] = [];
  const m = new StaticRouteManager('loopback', { info: (_o, msg) => infos.push(msg ?? ''), warn() {} });
  const vrfs = [{ name: 'global', static_routes: [route('c-1', '10.244.1.0', 24, '10.0.0.1')] }];
  await m.apply(vrfs);
  await m.apply(vrfs);
  assert.equal(m.routes().size, 0);
  assert.deepEqual(infos.filter((i) => /ignored in loopback mode/.test(i)).length, 1);
});

const CTL_HOST = `127.113.${2 + (process.pid % 200)}.1`;
const VIP = '10.250.0.100';
const why = netnsUnavailable();

test('L2 mode: the VRF\'s static route reaches a pod network behind a router; removed with the route and at stop', { skip: why, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-routes-'));
  const lab = new Lab(dir);
  let closePods = () => {};
  let ctl: Controller | undefined;
  try {
    ctl = await startController({ listen: `${CTL_HOST}:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: '10.250.0.96/28', logger: false });
    const { api, ok, token } = await prepareL2Controller(ctl);

    const net = await startPodNetwork(lab, dir, { host: CTL_HOST, port: Number(new URL(ctl.url).port) }, token);
    closePods = net.close;
    const { seNs, engine, ours } = net;
    await until('the SE joined', async () => (await ok('GET', '/api/serviceengine')).results.some((s: any) => s.se_connected), 30_000);

    const pool = await api.create('pool', { name: 'pods', servers: [{ ip: { addr: POD, type: 'V4' }, port: 8080 }] });
    const vsvip = await api.create('vsvip', { name: 'routes-vip', vip: [{ vip_id: '0', ip_address: { addr: VIP, type: 'V4' } }] });
    await api.create('virtualservice', { name: 'routes-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });
    const client = net.client(VIP);
    await until('the VIP on the SE', () => lab.ip(seNs, '-4', 'addr', 'show', 'dev', 'eth0').includes(`${VIP}/32`), 20_000);
    await until('a few failed attempts without the route', () => client.lines.filter((l) => l === 'fail').length >= 3, 20_000);
    assert.equal(client.lines.includes('ok'), false, 'the pod is not reachable without the route');
    assert.equal(ours(), '');

    // The static route AKO would write: pod CIDR → node (here the router).
    const vrf = (await ok('GET', '/api/vrfcontext?name=global')).results[0];
    // With one the kernel refuses (next hop not on a connected network): only that one is left out.
    const labels = [{ key: 'clustername', value: 'k1' }];
    await ok('PUT', `/api/vrfcontext/${vrf.uuid}`, { ...vrf, static_routes: [{ ...route('k1-1', '10.97.0.0', 24, '10.7.7.7'), labels }, { ...route('k1-2', '10.99.0.0', 24, '10.250.0.1'), labels }] });
    await until('the route on the SE host', () => /^10\.99\.0\.0\/24 via 10\.250\.0\.1 dev eth0/m.test(ours()), 20_000);
    assert.doesNotMatch(ours(), /10\.97\.0\.0/);
    await until('the refused route logged', () => engine.lines.some((l) => l.includes('10.97.0.0/24') && l.includes('failed')), 10_000);
    const from = client.lines.length;
    await until('traffic reaches the pod through the route', () => client.lines.slice(from).filter((l) => l === 'ok').length >= 5, 30_000);

    // The static route deleted: the host route goes; a route the engine did not add stays.
    lab.ip(seNs, 'route', 'add', '10.98.0.0/24', 'via', '10.250.0.1');
    const now = (await ok('GET', '/api/vrfcontext?name=global')).results[0];
    await ok('PUT', `/api/vrfcontext/${now.uuid}`, { ...now, static_routes: [] });
    await until('the route removed from the SE host', () => ours() === '', 20_000);
    assert.match(lab.ip(seNs, '-4', 'route', 'show', '10.98.0.0/24'), /10\.98\.0\.0\/24 via 10\.250\.0\.1/);

    // Back, then the engine stops (SIGTERM): it removes what it added.
    const again = (await ok('GET', '/api/vrfcontext?name=global')).results[0];
    await ok('PUT', `/api/vrfcontext/${again.uuid}`, { ...again, static_routes: [route('k1-1', '10.99.0.0', 24, '10.250.0.1')] });
    await until('the route back on the SE host', () => ours() !== '', 20_000);
    engine.kill('SIGTERM');
    await engine.exited;
    assert.equal(ours(), '', 'routes removed when the engine stops');
  } finally {
    await ctl?.close();
    await lab.close();
    closePods();
    rmSync(dir, { recursive: true, force: true });
  }
});
