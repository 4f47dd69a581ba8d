// HA_MODE_LEGACY_ACTIVE_STANDBY in L2 VIP mode, in network namespaces (test/reliability/netns.ts):
// the standby engine holds the VS's configuration but neither adds nor announces the VIP; when
// the active SE's host fails (kill -9, link down) the standby takes the VIP (gratuitous ARP)
// and the client's new connections succeed again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startController, type Controller } from '../../src/controller/server.js';
import { Client, PASSWORD } from './support.js';
import { until } from '../engine/support.js';
import { Lab, netnsUnavailable, waitLine, type NsProcess } from '../reliability/netns.js';

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
const CTL_HOST = `127.105.${1 + (process.pid % 9)}.1`;
const VIP = '10.250.0.100';
const BACKEND = '10.250.0.20';
const holdsVip = (lab: Lab, ns: string) => lab.ip(ns, '-4', 'addr', 'show', 'dev', 'eth0').includes(`${VIP}/32`);

test('L2 legacy active/standby: the standby does not hold the VIP until the active host fails, then takes it', { skip: netnsUnavailable(), timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-ha-l2-'));
  const lab = new Lab(dir);
  let ctl: Controller | undefined;
  try {
    ctl = await startController({ listen: `${CTL_HOST}:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: '10.250.0.0/24', logger: false, lifecycle: { seDownTimeoutMs: 1500 } });
    const api = new Client(ctl.url);
    const dns = (await api.ok('GET', '/api/virtualservice?name=local-dns-vs')).results[0];
    await api.ok('PATCH', `/api/virtualservice/${dns.uuid}`, { replace: { enabled: false } });
    const g = await api.create('serviceenginegroup', { name: 'ha-l2', ha_mode: 'HA_MODE_LEGACY_ACTIVE_STANDBY', max_se: 2, min_se: 0, buffer_se: 0, max_scaleout_per_vs: 2 });
    const { token } = await api.ok('POST', `/api/serviceenginegroup/${g.uuid}/jointoken`, {});

    const clientNs = lab.host('client', '10.250.0.10');
    const seNs = new Map([['ha-l2-se1', lab.host('se1', '10.250.0.11')], ['ha-l2-se2', lab.host('se2', '10.250.0.12')]]);
    const beNs = lab.host('backend', BACKEND);
    for (const ns of seNs.values()) await lab.relay(ns, { host: CTL_HOST, port: Number(new URL(ctl.url).port) }, 9080);
    const backendJs = `import http from 'node:http';\nhttp.createServer((q, s) => s.end('backend')).listen(8080, '${BACKEND}', () => console.log('up'));\n`;
    await waitLine(lab.node(beNs, [lab.script('backend.mjs', backendJs)]), /up/, 10_000);
    const engines = new Map<string, NsProcess>();
    for (const [name, ns] of seNs) {
      engines.set(name, lab.node(ns, [BIN, 'engine', '--controller', 'http://127.0.0.1:9080', '--join-token', token, '--name', name, '--data', join(dir, name), '--vip-mode', 'l2', '--interface', 'eth0', '--metrics-listen', '127.0.0.1:0']));
    }
    const pool = await api.create('pool', { name: 'ha-l2-pool', servers: [{ ip: { addr: BACKEND, type: 'V4' }, port: 8080 }] });
    const vsvip = await api.create('vsvip', { name: 'ha-l2-vip', vip: [{ vip_id: '0', ip_address: { addr: VIP, type: 'V4' } }] });
    const vs = await api.create('virtualservice', { name: 'ha-l2-vs', se_group_ref: `/api/serviceenginegroup/${g.uuid}`, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });

    // The client: a new connection every 20 ms, one JSON line per attempt.
    const client = lab.node(clientNs, [lab.script('client.mjs', `
const get = async () => { const t = Date.now(); try { const r = await fetch('http://${VIP}/', { signal: AbortSignal.timeout(400) }); return { t, ok: (await r.text()) === 'backend' }; } catch { return { t, ok: false }; } };
for (;;) { console.log(JSON.stringify(await get())); await new Promise((r) => setTimeout(r, 20)); }
`)]);
    const results = () => client.lines.map((l) => JSON.parse(l) as { t: number; ok: boolean });
    const roles = async () => {
      const rt = await api.ok('GET', `/api/virtualservice/${vs.uuid}/runtime`);
      const active = rt.se_list.find((s: any) => !s.standby && s.connected)?.se_name as string | undefined;
      const standby = rt.se_list.find((s: any) => s.standby && s.connected)?.se_name as string | undefined;
      return rt.oper_status.state === 'OPER_UP' && active && standby ? { active, standby } : undefined;
    };
    const { active, standby } = await until('an active and a standby SE', roles, 30_000);
    await until('the client reaches the VIP', () => results().some((r) => r.ok), 30_000);
    assert.ok(holdsVip(lab, seNs.get(active)!), 'the active SE holds the VIP');
    assert.ok(!holdsVip(lab, seNs.get(standby)!), 'the standby does not');

    // The active host fails: the standby takes the VIP as soon as the active is down.
    const killedAt = Date.now();
    engines.get(active)!.kill('SIGKILL');
    lab.ip(seNs.get(active)!, 'link', 'set', 'eth0', 'down');
    await until('served again', () => results().some((r) => r.t > killedAt && r.ok), 30_000);
    console.log(`# L2 active/standby: first successful new connection ${results().find((r) => r.t > killedAt && r.ok)!.t - killedAt} ms after the kill (SE down timeout 1500 ms)`);
    assert.ok(holdsVip(lab, seNs.get(standby)!), 'the former standby holds the VIP');
    assert.match(lab.ip(clientNs, 'neigh', 'show', VIP), new RegExp(lab.mac(seNs.get(standby)!)));
    const rt = await api.ok('GET', `/api/virtualservice/${vs.uuid}/runtime`);
    assert.equal(rt.se_list.find((s: any) => !s.standby).se_name, standby);
  } finally {
    await ctl?.close();
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
