// L2 VIP failover in network namespaces: a client, two service engines (`--vip-mode l2
// --interface eth0`) and a backend on one bridge. The controller places the VS on one SE (SE
// group Default-Group: HA_MODE_SHARED, one SE per VS), which adds the VIP to eth0 and announces
// it with gratuitous ARP. kill -9 of that SE: the controller marks it down after the SE down
// timeout, places the VS on the other SE, which takes the VIP (GARP moves the client's ARP
// entry); the client's new connections succeed again. The gap is printed (no timing assertion).
// Two cases: the SE's host fails (kill -9 and its link down), and only the engine dies on a host
// that stays up: then its VIP lease (--vip-lease) ends and its host stops answering ARP for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startController, type Controller } from '../../src/controller/server.js';
import { PASSWORD } from '../controller/support.js';
import { until } from '../engine/support.js';
import { prepareL2Controller } from './l2-controller.js';
import { Lab, netnsUnavailable, waitLine, type NsProcess } from './netns.js';

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
const CTL_HOST = `127.80.${1 + (process.pid % 200)}.1`;
const VIP = '10.250.0.100';
const BACKEND = '10.250.0.20';
const SE_DOWN_MS = Number(process.env.PORTICO_L2_SE_DOWN_MS ?? 1500);
const why = netnsUnavailable();

test('L2 mode: the active SE host fails (kill -9, link down): the other SE takes the VIP (gratuitous ARP)', { skip: why, timeout: 120_000 }, () => failover('host'));
test('L2 mode: only the active engine dies (kill -9, host up): its VIP lease ends, the other SE takes the VIP', { skip: why, timeout: 120_000 }, () => failover('engine'));

async function failover(fails: 'host' | 'engine'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-l2-'));
  const lab = new Lab(dir);
  let ctl: Controller | undefined;
  try {
    ctl = await startController({ listen: `${CTL_HOST}:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: '10.250.0.0/24', logger: false, lifecycle: { seDownTimeoutMs: SE_DOWN_MS } });
    const { api, ok, token } = await prepareL2Controller(ctl);

    const clientNs = lab.host('client', '10.250.0.10');
    const seNs = [lab.host('se1', '10.250.0.11'), lab.host('se2', '10.250.0.12')];
    const beNs = lab.host('backend', BACKEND);
    const port = new URL(ctl.url).port;
    for (const ns of seNs) await lab.relay(ns, { host: CTL_HOST, port: Number(port) }, 9080);

    const backend = lab.node(beNs, [lab.script('backend.mjs', `
import http from 'node:http';
http.createServer((q, s) => s.end('backend')).listen(8080, ${JSON.stringify(BACKEND)}, () => console.log('backend ready'));
`)]);
    await waitLine(backend, /backend ready/, 10_000);

    const engines = new Map<string, NsProcess>();
    for (const [i, ns] of seNs.entries()) {
      const name = `l2-se${i + 1}`;
      engines.set(name, lab.node(ns, [BIN, 'engine', '--controller', 'http://127.0.0.1:9080', '--join-token', token, '--name', name,
        '--data', join(dir, name), '--vip-mode', 'l2', '--interface', 'eth0', '--metrics-listen', '127.0.0.1:0']));
    }
    await until('both SEs joined', async () => (await ok('GET', '/api/serviceengine')).results.filter((s: any) => s.se_connected).length === 2, 30_000);

    const pool = await api.create('pool', { name: 'l2-pool', servers: [{ ip: { addr: BACKEND, type: 'V4' }, port: 8080 }] });
    const vsvip = await api.create('vsvip', { name: 'l2-vip', vip: [{ vip_id: '0', ip_address: { addr: VIP, type: 'V4' } }] });
    const vs = await api.create('virtualservice', { name: 'l2-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 80 }] });

    // The client: a new connection every ~20 ms, one line per attempt.
    const client = lab.node(clientNs, [lab.script('client.mjs', `
import http from 'node:http';
const once = () => new Promise((resolve) => {
  const t0 = Date.now();
  const req = http.get({ host: ${JSON.stringify(VIP)}, port: 80, path: '/', agent: false, timeout: 400 }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve({ t: t0, ok: res.statusCode === 200 && body === 'backend' }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve({ t: t0, ok: false, err: e.code || e.message }));
});
for (;;) {
  console.log(JSON.stringify(await once()));
  await new Promise((r) => setTimeout(r, 20));
}
`)]);
    const results = () => client.lines.map((l) => JSON.parse(l) as { t: number; ok: boolean; err?: string });
    await until('the client reaches the VIP', () => results().some((r) => r.ok), 30_000);

    const holderOf = async () => (await ok('GET', `/api/virtualservice/${vs.uuid}/runtime`)).se_list?.[0]?.se_name as string | undefined;
    const active = await until('the VS is placed', holderOf, 10_000);
    const standby = [...engines.keys()].find((n) => n !== active)!;
    const activeNs = seNs[[...engines.keys()].indexOf(active)]!;
    const standbyNs = seNs[[...engines.keys()].indexOf(standby)]!;
    assert.match(lab.ip(activeNs, '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(`${VIP.replaceAll('.', '\\.')}/32`), 'the active SE holds the VIP');
    assert.doesNotMatch(lab.ip(standbyNs, '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(VIP.replaceAll('.', '\\.')), 'only one SE holds the VIP');
    await until('steady traffic', () => results().filter((r) => r.ok).length >= 20, 20_000);

    // The active SE's host fails (its engine dies with kill -9 and its link goes down), or only
    // its engine dies: then the VIP stays on eth0 until its lease ends (docs/engine.md, L2 VIPs).
    const killedAt = Date.now();
    engines.get(active)!.kill('SIGKILL');
    if (fails === 'host') lab.ip(activeNs, 'link', 'set', 'eth0', 'down');
    await engines.get(active)!.exited;
    await until('the client is served again after the kill', () => results().some((r) => r.t > killedAt && r.ok), 30_000);
    const firstOk = results().find((r) => r.t > killedAt && r.ok)!;
    const lastOkBefore = results().filter((r) => r.t <= killedAt && r.ok).at(-1)!;
    const failed = results().filter((r) => r.t > killedAt && r.t < firstOk.t).length;
    let leaseEnd = '';
    if (fails === 'engine') {
      await until('the dead engine\'s VIP lease ends', () => !lab.ip(activeNs, '-4', 'addr', 'show', 'dev', 'eth0').includes(`${VIP}/32`), 30_000);
      const flaps = results().filter((r) => r.t > firstOk.t && !r.ok).length;
      leaseEnd = `; its VIP gone from its host ${Date.now() - killedAt} ms after the kill, ${flaps} attempts failed after the first success until then`;
    }
    const what = fails === 'host' ? 'kill -9 + link down' : 'kill -9, host up';
    console.log(`# L2 failover (${what}): first successful new connection ${firstOk.t - killedAt} ms after the kill (last before: ${killedAt - lastOkBefore.t} ms before; ${failed} attempts failed in between; SE down timeout ${SE_DOWN_MS} ms${leaseEnd})`);

    // The standby holds the VIP now and the client's ARP entry points at it.
    assert.match(lab.ip(standbyNs, '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(`${VIP.replaceAll('.', '\\.')}/32`));
    assert.equal(await holderOf(), standby);
    const neigh = lab.ip(clientNs, 'neigh', 'show', VIP);
    assert.match(neigh, new RegExp(lab.mac(standbyNs)), `client ARP entry: ${neigh}`);
    // And keeps serving: every attempt of the next 50 succeeds.
    const from = results().length;
    await until('50 more attempts', () => results().length >= from + 50, 20_000);
    const after = results().slice(from, from + 50);
    assert.deepEqual(after.filter((r) => !r.ok), [], 'attempts after the failover all succeed');
  } finally {
    await ctl?.close();
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
