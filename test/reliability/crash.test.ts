// Crashes with real processes: the controller killed with kill -9 during a write burst (every
// acknowledged write kept, IPAM without duplicate or leaked address, the SE serving all along),
// and an SE killed with kill -9 in loopback mode while the controller does not answer (SIGSTOP):
// the Supervisor restarts it and it serves its on-disk configuration. Figures are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '../../src/up/supervisor.js';
import { httpBackend, until, type Backend } from '../engine/support.js';
import { killAllWithArg } from '../support/cli.js';
import { Load, NET, getOnce, startControllerProcess, superviseEngine, type ControllerProcess } from './support.js';

const HOST = `${NET}.1`;
// A /27: 30 VIP addresses, so the test can fill the range to prove nothing leaked.
const VIP_CIDR = `${NET}.32/27`;
const RANGE_SIZE = 30;

let dir: string;
let ctl: ControllerProcess;
let sup: Supervisor;
let backend: Backend;
let vsUrl: string;
const engineLines: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-crash-'));
  ctl = await startControllerProcess(join(dir, 'ctl'), `${HOST}:0`, ['--vip-cidr', VIP_CIDR]);
  const group = (await ctl.api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
  const { token } = (await ctl.api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
  sup = new Supervisor();
  superviseEngine(sup, 'se', ['--controller', ctl.url, '--join-token', token, '--name', 'crash-se', '--data', join(dir, 'se'), '--metrics-listen', `${HOST}:0`], engineLines);
  backend = await httpBackend(`${NET}.2`, 'backend');
  const pool = await ctl.api.create('pool', { name: 'crash-pool', servers: [{ ip: { addr: backend.ip, type: 'V4' }, port: backend.port }] });
  const vsvip = await ctl.api.create('vsvip', { name: 'crash-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  await ctl.api.create('virtualservice', { name: 'crash-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
  vsUrl = `http://${vsvip.vip[0].ip_address.addr}:8080/`;
  await until('the VS serves', async () => (await getOnce(vsUrl)) === 200, 30_000);
});

after(async () => {
  await sup?.stopAll();
  if (ctl) { ctl.cli.proc.kill('SIGCONT'); await ctl.cli.stop(); }
  await backend?.close();
  killAllWithArg(dir);
  rmSync(dir, { recursive: true, force: true });
});

/** The API call's result, or undefined when the controller is gone mid-call. */
async function tryPost(path: string, body: unknown): Promise<{ status: number; body: any } | undefined> {
  try { return await ctl.api.post(path, body); } catch { return undefined; }
}

test('controller kill -9 during a write burst: acknowledged writes kept, IPAM whole, the SE serving', { timeout: 120_000 }, async () => {
  const load = new Load([vsUrl], 8);
  try {
    const acked = new Map<string, string>();
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; ; i++) {
        const name = `burst-${w}-${i}`;
        const r = await tryPost('/api/vsvip', { name, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
        if (!r) return; // connection refused/reset: the controller is gone
        if (r.status === 201) acked.set(name, r.body.vip[0].ip_address.addr);
        else if (r.status === 400 && /No available free IPs/.test(r.body.error)) return;
        else assert.fail(`POST /api/vsvip → ${r.status} ${JSON.stringify(r.body)}`);
        if (acked.size >= 8 && !killed) { killed = true; ctl.cli.proc.kill('SIGKILL'); }
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    await ctl.cli.exited;
    const ackedCount = acked.size;
    const port = ctl.port;
    ctl = await startControllerProcess(join(dir, 'ctl'), `${HOST}:${port}`, ['--vip-cidr', VIP_CIDR]);

    const stored = (await ctl.api.get('/api/vsvip?page_size=200')).body.results as any[];
    const byName = new Map(stored.map((v) => [v.name, v.vip?.[0]?.ip_address?.addr as string]));
    for (const [name, addr] of acked) assert.equal(byName.get(name), addr, `acknowledged ${name} (${addr}) kept`);
    // Fill what is left: every address of the range exactly once across all vsvips.
    for (let i = 0; ; i++) {
      const r = await ctl.api.post('/api/vsvip', { name: `fill-${i}`, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
      if (r.status === 400 && /No available free IPs/.test(r.body.error)) break;
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(i < RANGE_SIZE, 'more addresses than the range holds');
    }
    const all = ((await ctl.api.get('/api/vsvip?page_size=200')).body.results as any[]).map((v) => v.vip[0].ip_address.addr as string);
    assert.equal(new Set(all).size, all.length, `no address twice: ${all.join(' ')}`);
    assert.equal(all.length, RANGE_SIZE, 'every address of the range allocatable again (none leaked)');
    await until('the SE reports to the restarted controller', async () => (await ctl.api.get('/api/serviceengine?name=crash-se')).body.results[0]?.se_connected === true, 20_000);
    await load.stop();
    console.log(`# controller kill -9 in a write burst: ${ackedCount} acknowledged writes, all kept; ${RANGE_SIZE} addresses, none duplicated or leaked; SE served ${load.total()} requests with ${load.failed().length} failures`);
    assert.deepEqual(load.failed(), [], 'the SE kept serving');
  } finally {
    await load.stop();
    // Give the range back for the next test.
    const fills = ((await ctl.api.get('/api/vsvip?name.contains=fill-&page_size=200')).body.results ?? []).concat((await ctl.api.get('/api/vsvip?name.contains=burst-&page_size=200')).body.results ?? []);
    for (const v of fills) await ctl.api.req('DELETE', `/api/vsvip/${v.uuid}`);
  }
});

test('SE kill -9 in loopback mode: restarted by the supervisor, serves its on-disk config while the controller does not answer', { timeout: 60_000 }, async () => {
  const pid = sup.pid('se')!;
  ctl.cli.proc.kill('SIGSTOP'); // accepts connections, answers nothing
  try {
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await until('the supervisor started a new engine', () => sup.pid('se') !== undefined && sup.pid('se') !== pid, 10_000);
    await until('served again', async () => (await getOnce(vsUrl, 500)) === 200, 20_000);
    const gap = Date.now() - killedAt;
    console.log(`# SE kill -9 (loopback mode, controller stopped): serving again after ${gap} ms (supervisor backoff 250 ms included)`);
    for (let i = 0; i < 20; i++) assert.equal(await getOnce(vsUrl), 200);
  } finally {
    ctl.cli.proc.kill('SIGCONT');
  }
  await until('the restarted SE reports again', async () => (await ctl.api.get('/api/serviceengine?name=crash-se')).body.results[0]?.se_connected === true, 20_000);
});
