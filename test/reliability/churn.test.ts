// Config churn under load: 64 keep-alive connections busy on several VSes while 200 changes
// (pool servers, an HTTP policy's pool, certificates, new and deleted VSes on other VIPs) are
// applied through the API. Untouched VSes: zero failed requests. The changed VS: every answer
// comes from the old or the new config (backend b1 or b2), never an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { selfSignedCert, type KeyPair } from '../../src/tls/self-signed.js';
import { Client, PASSWORD } from '../controller/support.js';
import { httpBackend, until, type Backend } from '../engine/support.js';
import { runPortico, type CliProcess } from '../support/cli.js';
import { Load, NET, getOnce } from './support.js';

const HOST = `${NET}.1`;
const CHANGES = Number(process.env.PORTICO_CHURN_CHANGES ?? 200);
let dir: string;
let ctl: Controller;
let api: Client;
let engine: CliProcess;
const backends: Backend[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-churn-'));
  ctl = await startController({ listen: `${HOST}:0`, dataDir: dir, adminPassword: PASSWORD, vipCidr: `${NET}.64/26`, logger: false });
  api = new Client(ctl.url);
  const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
  group.max_vs_per_se = 100;
  assert.equal((await api.req('PUT', `/api/serviceenginegroup/${group.uuid}`, group)).status, 200);
  const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
  engine = runPortico(['engine', '--controller', ctl.url, '--join-token', token, '--name', 'churn-se', '--data', join(dir, 'se'), '--metrics-listen', `${HOST}:0`, '--log-level', 'warn']);
});

after(async () => {
  await engine?.stop();
  await ctl?.close();
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

const ok = async (method: string, path: string, body?: unknown) => {
  const r = await api.req(method, path, body);
  assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const server = (b: Backend) => ({ ip: { addr: b.ip, type: 'V4' }, port: b.port });
async function vs(name: string, body: Record<string, unknown>): Promise<{ uuid: string; vsvip: string; addr: string }> {
  const vsvip = await api.create('vsvip', { name: `${name}-vip`, vip: [{ vip_id: '0', auto_allocate_ip: true }] });
  const v = await api.create('virtualservice', { name, vsvip_ref: `/api/vsvip/${vsvip.uuid}`, ...body });
  return { uuid: v.uuid, vsvip: vsvip.uuid, addr: vsvip.vip[0].ip_address.addr };
}

test(`config churn under load: ${CHANGES} changes, 64 keep-alive connections`, { timeout: 300_000 }, async () => {
  const [b0, b1, b2] = [await httpBackend(`${NET}.2`, 'b0'), await httpBackend(`${NET}.3`, 'b1'), await httpBackend(`${NET}.4`, 'b2')];
  backends.push(b0, b1, b2);
  const certs: KeyPair[] = await Promise.all([0, 1].map(() => selfSignedCert(['churn.example'])));
  const steady = await api.create('pool', { name: 'steady', servers: [server(b0)] });
  const poolA = await api.create('pool', { name: 'pool-a', servers: [server(b1)] });
  const poolB = await api.create('pool', { name: 'pool-b', servers: [server(b2)] });
  let certN = 0;
  const cert = async () => (await api.create('sslkeyandcertificate', { name: `churn-cert-${certN}`, certificate: { certificate: certs[certN % 2]!.cert }, key: certs[certN++ % 2]!.key })).uuid as string;
  const policy = await api.create('httppolicyset', { name: 'churn-policy', http_request_policy: { rules: [{ name: 'all', index: 0, match: { path: { match_criteria: 'BEGINS_WITH', match_str: ['/'] } }, switching_action: { action: 'HTTP_SWITCHING_SELECT_POOL', pool_ref: `/api/pool/${poolA.uuid}` } }] } });

  const untouched = await Promise.all([1, 2, 3].map((i) => vs(`steady-${i}`, { pool_ref: `/api/pool/${steady.uuid}`, services: [{ port: 8080 }] })));
  let certUuid = await cert();
  const changed = await vs('changed', { pool_ref: `/api/pool/${poolA.uuid}`, services: [{ port: 8080 }, { port: 8443, enable_ssl: true }], ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${certUuid}`], http_policies: [{ index: 11, http_policy_set_ref: `/api/httppolicyset/${policy.uuid}` }] });
  const steadyUrls = untouched.map((u) => `http://${u.addr}:8080/`);
  const changedUrls = [`http://${changed.addr}:8080/`, `https://${changed.addr}:8443/`];
  for (const u of [...steadyUrls, changedUrls[0]!]) await until(`${u} serves`, async () => (await getOnce(u)) === 200, 30_000);

  const load = new Load([...steadyUrls, ...changedUrls], 64, (url, status, body) => status === 200 && (steadyUrls.includes(url) ? body === 'b0' : body === 'b1' || body === 'b2'));
  const started = Date.now();
  let extra: { uuid: string; vsvip: string } | undefined;
  try {
    for (let i = 0; i < CHANGES; i++) {
      switch (i % 4) {
        case 0: { // pool servers: pool A moves between b1 and b2
          const p = await ok('GET', `/api/pool/${poolA.uuid}`);
          p.servers = [server(i % 8 === 0 ? b2 : b1)];
          await ok('PUT', `/api/pool/${poolA.uuid}`, p);
          break;
        }
        case 1: { // the policy switches to the other pool
          const p = await ok('GET', `/api/httppolicyset/${policy.uuid}`);
          p.http_request_policy.rules[0].switching_action.pool_ref = `/api/pool/${(i % 8 === 1 ? poolB : poolA).uuid}`;
          await ok('PUT', `/api/httppolicyset/${policy.uuid}`, p);
          break;
        }
        case 2: { // a new certificate, the old one deleted
          const next = await cert();
          await ok('PATCH', `/api/virtualservice/${changed.uuid}`, { replace: { ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${next}`] } });
          await ok('DELETE', `/api/sslkeyandcertificate/${certUuid}`);
          certUuid = next;
          break;
        }
        default: { // a VS on another VIP comes, or goes
          if (extra) {
            await ok('DELETE', `/api/virtualservice/${extra.uuid}`);
            await ok('DELETE', `/api/vsvip/${extra.vsvip}`);
            extra = undefined;
          } else {
            extra = await vs(`extra-${i}`, { pool_ref: `/api/pool/${steady.uuid}`, services: [{ port: 8080 }] });
          }
        }
      }
    }
    // Let the last changes reach the engine under load too.
    await until('the engine applied the last version', async () => (await ok('GET', `/api/virtualservice/${changed.uuid}/runtime`)).oper_status.state === 'OPER_UP', 10_000);
  } finally {
    await load.stop();
  }
  const s = (Date.now() - started) / 1000;
  const steadyOk = steadyUrls.reduce((a, u) => a + load.ok.get(u)!, 0);
  const changedOk = changedUrls.reduce((a, u) => a + load.ok.get(u)!, 0);
  console.log(`# churn: ${CHANGES} changes in ${s.toFixed(1)} s; untouched VSes ${steadyOk} requests, ${steadyUrls.flatMap((u) => load.failed(u)).length} failed; changed VS ${changedOk} requests, ${changedUrls.flatMap((u) => load.failed(u)).length} failed`);
  for (const u of steadyUrls) assert.deepEqual(load.failed(u).slice(0, 5), [], `untouched ${u}`);
  for (const u of changedUrls) assert.deepEqual(load.failed(u).slice(0, 5), [], `changed ${u}: old or new config, never an error`);
  assert.ok(changedOk > 0 && steadyOk > 0);
});
