// Backends flapping: a pool server goes away and comes back, twice. Its monitor takes it out
// (runtime shows DOWN) and back in; once it is marked down no request fails, and after it is
// back it gets traffic again. The detection time is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { Client, PASSWORD } from '../controller/support.js';
import { until } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { Load, NET, getOnce } from './support.js';

/** An HTTP server that can leave and come back on the same address. */
class Flapper {
  hits = 0;
  port = 0;
  private server: http.Server | undefined;
  constructor(readonly ip: string, readonly name: string) {}
  async up(): Promise<void> {
    const s = http.createServer((_q, r) => { this.hits++; r.end(this.name); });
    await new Promise<void>((r) => s.listen(this.port, this.ip, r));
    this.port = (s.address() as AddressInfo).port;
    this.server = s;
  }
  async down(): Promise<void> {
    const s = this.server!;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

test('backends flapping: out on the monitor, no failed request while marked down, back in', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-flap-'));
  let ctl: Controller | undefined;
  let engine: CliProcess | undefined;
  const steady = new Flapper(`${NET}.30`, 'steady');
  const flap = new Flapper(`${NET}.31`, 'flap');
  try {
    await steady.up();
    await flap.up();
    ctl = await startController({ listen: `${NET}.11:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.64/26`, logger: false });
    const api = new Client(ctl.url);
    const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
    const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
    engine = runPortico(['engine', '--controller', ctl.url, '--join-token', token, '--name', 'flap-se', '--data', join(dir, 'se'), '--metrics-listen', `${NET}.11:0`, '--log-level', 'warn']);
    const hm = await api.create('healthmonitor', { name: 'flap-hm', type: 'HEALTH_MONITOR_HTTP', send_interval: 1, receive_timeout: 1, failed_checks: 2, successful_checks: 1 });
    const pool = await api.create('pool', { name: 'flap-pool', health_monitor_refs: [`/api/healthmonitor/${hm.uuid}`], servers: [steady, flap].map((b) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port })) });
    const vsvip = await api.create('vsvip', { name: 'flap-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] });
    const vs = await api.create('virtualservice', { name: 'flap-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, pool_ref: `/api/pool/${pool.uuid}`, services: [{ port: 8080 }] });
    const url = `http://${vsvip.vip[0].ip_address.addr}:8080/`;
    const stateOf = async () => ((await api.get(`/api/virtualservice/${vs.uuid}/runtime`)).body.servers ?? []).find((s: any) => s.ip?.addr === flap.ip || s.ip === flap.ip || String(s.name ?? '').includes(flap.ip))?.state as string | undefined;
    await until('both servers up and the VS serving', async () => (await getOnce(url)) === 200 && (await stateOf()) === 'UP', 30_000);

    const detections: number[] = [];
    let failedWhileDown = 0;
    for (let round = 0; round < 2; round++) {
      const wentAt = Date.now();
      await flap.down();
      await until('marked down', async () => (await stateOf()) === 'DOWN', 20_000);
      detections.push(Date.now() - wentAt);
      // Marked down: every request from now on goes to the steady server.
      const load = new Load([url], 8, (_u, s, body) => s === 200 && body === 'steady');
      const started = Date.now();
      await until('some traffic while down', () => load.total() >= 200 || Date.now() - started > 3000, 10_000);
      await load.stop();
      failedWhileDown += load.failed().length;
      assert.deepEqual(load.failed().slice(0, 5), [], `round ${round}: requests while the server is marked down`);
      const before = flap.hits;
      await flap.up();
      await until('back up', async () => (await stateOf()) === 'UP', 20_000);
      await until('traffic again', async () => { await getOnce(url); return flap.hits > before + 1; }, 10_000);
    }
    console.log(`# flapping: detection ${detections.join(', ')} ms (monitor: 1 s interval, 2 failed checks, 1 s timeout); ${failedWhileDown} failed requests while marked down`);
  } finally {
    await engine?.stop();
    await ctl?.close();
    await steady.down().catch(() => {});
    await flap.down().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
