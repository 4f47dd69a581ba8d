// An SE holding 1,000 virtual services: how long one-VS changes take to apply (goal < 50 ms)
// and the resident memory (goal < 250 MB). In-process runtime, real listeners on loopback.
//   npm run bench -- engine-scale
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { EngineRuntime } from '../src/engine/runtime/runtime.js';
import { VipManager } from '../src/engine/vip/manager.js';
import type { Snapshot } from '../src/engine/snapshot.js';

const VSES = Number(process.env.VSES ?? 1000);
const CHANGES = 30;
const log = { info() {}, warn() {}, error() {} };
const id = (t: string) => `${t}-${randomUUID()}`;
const stamp = () => String(process.hrtime.bigint());

const backend = net.createServer((s) => s.on('error', () => {}).end());
await new Promise<void>((r) => backend.listen(0, '127.21.250.1', r));
const bport = (backend.address() as net.AddressInfo).port;

const l4 = { uuid: id('applicationprofile'), name: 'System-L4-Application', type: 'APPLICATION_PROFILE_TYPE_L4', _last_modified: '1' };
const tcp = { uuid: id('networkprofile'), name: 'System-TCP-Proxy', profile: { type: 'PROTOCOL_TYPE_TCP_PROXY' }, _last_modified: '1' };
const hm = { uuid: id('healthmonitor'), name: 'System-TCP', type: 'HEALTH_MONITOR_TCP', send_interval: 10, receive_timeout: 4, successful_checks: 2, failed_checks: 2, _last_modified: '1' };
const objects: Record<string, Record<string, any>[]> = { applicationprofile: [l4], networkprofile: [tcp], healthmonitor: [hm], virtualservice: [], vsvip: [], pool: [] };
for (let i = 0; i < VSES; i++) {
  const addr = `127.21.${100 + (i >> 8)}.${(i & 255) || 254}`;
  const port = 20000 + i;
  const pool = { uuid: id('pool'), name: `pool-${i}`, lb_algorithm: 'LB_ALGORITHM_LEAST_CONNECTIONS', health_monitor_refs: [hm.uuid], servers: [{ ip: { addr: '127.21.250.1', type: 'V4' }, port: bport }, { ip: { addr: '127.21.250.2', type: 'V4' }, port: bport, enabled: false }], _last_modified: stamp() };
  const vip = { uuid: id('vsvip'), name: `vip-${i}`, vip: [{ vip_id: '0', ip_address: { addr, type: 'V4' } }], dns_info: [{ fqdn: `vs${i}.portico.local` }], _last_modified: stamp() };
  const vs = { uuid: id('virtualservice'), name: `vs-${i}`, type: 'VS_TYPE_NORMAL', enabled: true, vsvip_ref: vip.uuid, pool_ref: pool.uuid, application_profile_ref: l4.uuid, network_profile_ref: tcp.uuid, services: [{ port, port_range_end: port }], markers: [{ key: 'clustername', values: ['bench'] }], service_metadata: '{"namespace_svc_name":["default/svc-' + i + '"]}', _last_modified: stamp() };
  objects.pool.push(pool);
  objects.vsvip.push(vip);
  objects.virtualservice.push(vs);
}
let version = 1;
const snapshot = (): Snapshot => ({ version: version++, objects: JSON.parse(JSON.stringify(objects)) });

const rt = new EngineRuntime(new VipManager('loopback', undefined, log), log);
const t0 = performance.now();
const first = await rt.apply(snapshot());
const initialMs = performance.now() - t0;

const applyMs: number[] = [];
const pipelineMs: number[] = [];
for (let c = 0; c < CHANGES; c++) {
  // One VS changes: its pool gets the second server enabled/disabled, and the VS a new port.
  const i = (c * 37) % VSES;
  const pool = objects.pool[i];
  pool.servers[1].enabled = !pool.servers[1].enabled;
  pool._last_modified = stamp();
  const vs = objects.virtualservice[i];
  vs.services = [{ port: vs.services[0].port === 20000 + i ? 40000 + i : 20000 + i }];
  vs._last_modified = stamp();
  const text = JSON.stringify(snapshot());
  const p0 = performance.now();
  const snap = JSON.parse(text) as Snapshot;
  const r = await rt.apply(snap);
  pipelineMs.push(performance.now() - p0);
  applyMs.push(r.ms);
  if (r.changed.length !== 1 || r.opened !== 1 || r.closed !== 1) throw new Error(`expected one VS changed, got ${JSON.stringify({ ...r, changed: r.changed.length })}`);
}
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const pct = (a: number[], p: number) => sorted(a)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
global.gc?.();
const rss = process.memoryUsage.rss() / 1024 / 1024;
const up = rt.vsStates().filter((v) => v.oper_state === 'OPER_UP').length;
console.log(`virtual services: ${VSES} (listening: ${rt.listenerKeys().length}, up: ${up}), snapshot ${(JSON.stringify(objects).length / 1024 / 1024).toFixed(1)} MB`);
console.log('| measure | value | goal |');
console.log('|---|---|---|');
console.log(`| initial apply (${first.opened} listeners) | ${initialMs.toFixed(0)} ms | |`);
console.log(`| one-VS change, apply p50 / max | ${pct(applyMs, 50).toFixed(1)} / ${Math.max(...applyMs).toFixed(1)} ms | < 50 ms |`);
console.log(`| one-VS change, JSON.parse + apply p50 / max | ${pct(pipelineMs, 50).toFixed(1)} / ${Math.max(...pipelineMs).toFixed(1)} ms | |`);
console.log(`| RSS | ${rss.toFixed(0)} MB | < 250 MB |`);
await rt.stop(100);
backend.close();
if (pct(applyMs, 50) >= 50 || rss >= 250) process.exitCode = 1;
