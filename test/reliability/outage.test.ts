// Controller down for a while (CI: 10 s; soak: PORTICO_OUTAGE_S=60) while the operator's
// manifests change: after the controller's return the operator converges (new Services served,
// the deleted one gone, nothing duplicated); then an operator restart makes zero churn on the
// controller (no object deleted or created again). Figures are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { fetchStatus } from '../../src/up/report.js';
import { Client, PASSWORD } from '../controller/support.js';
import { until } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { NET, lbService } from './support.js';

const OUTAGE_MS = Number(process.env.PORTICO_OUTAGE_S ?? 10) * 1000;
const HOST = `${NET}.12`;

const service = (name: string, n: number) => lbService(name, `[{ name: http, port: ${8000 + n}, targetPort: 8080, protocol: TCP }]`, `${NET}.${40 + n}`);

test(`controller down ${OUTAGE_MS / 1000} s: the operator converges after; an operator restart makes no churn`, { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-outage-'));
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const opts = (port: number) => ({ listen: `${HOST}:${port}`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: `${NET}.128/26`, logger: false });
  let ctl: Controller | undefined = await startController(opts(0));
  const port = ctl.port;
  let op: CliProcess | undefined;
  const startOperator = async () => {
    const p = runPortico(['operator', '--controller', ctl!.url, '--manifests', manifests, '--listen', `${HOST}:0`], { env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: PASSWORD } });
    const line = await p.waitForLine(/listening on https?:\/\//, 30_000);
    return { p, url: /(https?:\/\/\S+)/.exec(line)![1]!.replace(/\/$/, '') };
  };
  try {
    let api = new Client(ctl.url);
    const vsNames = async () => ((await api.get('/api/virtualservice?page_size=200')).body.results as any[]).map((v) => v.name as string).filter((n) => n !== 'local-dns-vs').sort();
    writeFileSync(join(manifests, 'svc-0.yaml'), service('svc-0', 0));
    let o = await startOperator();
    op = o.p;
    await until('svc-0 served', async () => (await vsNames()).length === 1, 30_000);

    // The outage: the controller is gone while Services come and go.
    await ctl.close();
    ctl = undefined;
    const downAt = Date.now();
    unlinkSync(join(manifests, 'svc-0.yaml'));
    for (const n of [1, 2, 3]) writeFileSync(join(manifests, `svc-${n}.yaml`), service(`svc-${n}`, n));
    await until('the operator sees the new manifests', async () => (await fetchStatus(o.url)).filter((i) => /^svc-[123]$/.test(i.name)).length === 3, 20_000);
    await until(`an outage of ${OUTAGE_MS} ms`, () => Date.now() - downAt >= OUTAGE_MS, OUTAGE_MS + 5000);

    ctl = await startController(opts(port));
    api = new Client(ctl.url);
    const backAt = Date.now();
    await until('converged', async () => {
      const names = await vsNames();
      return names.length === 3 && names.every((n) => /svc-[123]/.test(n));
    }, 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: VSes ${(await vsNames()).join(' ')}; operator: ${op!.lines.slice(-15).join('\n')}`);
    });
    const convergeMs = Date.now() - backAt;
    const names = await vsNames();
    assert.equal(new Set(names).size, names.length, 'no VS twice');
    const vips = ((await api.get('/api/vsvip?page_size=200')).body.results as any[]).map((v) => v.vip?.[0]?.ip_address?.addr);
    assert.equal(new Set(vips).size, vips.length, 'no address twice');
    await until('statuses show the VIPs', async () => (await fetchStatus(o.url)).filter((i) => /^svc-[123]$/.test(i.name) && i.loadBalancer.ingress.length === 1).length === 3, 20_000);

    // Operator restart: no object of the controller is deleted or created again.
    const snapshot = async () => {
      const out = new Map<string, string>();
      for (const t of ['virtualservice', 'vsvip', 'pool', 'poolgroup', 'l4policyset', 'httppolicyset', 'vsdatascriptset']) {
        const r = await api.get(`/api/${t}?page_size=1000`);
        for (const x of (r.body.results ?? []) as any[]) out.set(x.uuid, `${t}/${x.name}`);
      }
      return out;
    };
    const before = await snapshot();
    const changes: string[] = [];
    const off = ctl.host.onChange((type, uuid) => { if (type !== 'serviceengine') changes.push(`${type} ${uuid}`); });
    await op.stop();
    const restartedAt = Date.now();
    o = await startOperator();
    op = o.p;
    await until('the restarted operator reports every Service', async () => (await fetchStatus(o.url)).filter((i) => /^svc-[123]$/.test(i.name) && i.loadBalancer.ingress.length === 1).length === 3, 30_000);
    await until('a settled restart (5 s)', () => Date.now() - restartedAt >= 5000, 10_000);
    off();
    const after = await snapshot();
    assert.deepEqual([...after].sort(), [...before].sort(), 'same objects, same UUIDs');
    console.log(`# controller outage ${OUTAGE_MS} ms: converged ${convergeMs} ms after its return (3 new Services, 1 deleted, nothing duplicated); operator restart: ${changes.length} writes on the controller, no object re-created`);
  } finally {
    await op?.stop();
    await ctl?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
