// The operator end to end against the real controller: a manifest folder in, controller objects
// and statuses out; restart with nothing changed writes nothing; orphans removed at start and
// objects of others untouched; deletion order; IP exhaustion → Warning then recovery; deleteConfig.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createManifestProvider } from '../../src/operator/source/manifests.js';
import { createMemoryStatusSink } from '../../src/operator/status/memory.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from './support/controller.js';

const HOST = '127.30.4.1';
// A /29: .1 is the DNS VS, so 5 VIPs are free (IP exhaustion is reachable).
const VIP_CIDR = '127.30.5.0/29';

function lbService(name: string, port = 80): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  type: LoadBalancer
  ports: [{name: http, port: ${port}, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [127.30.9.1], conditions: {ready: true}}]
`;
}

describe('operator against the real controller', () => {
  let ctl: TestController | undefined;
  let skip: string | undefined;
  const dirs: string[] = [];
  const operators: RunningOperator[] = [];

  before(async () => {
    const c = await startTestController(HOST, VIP_CIDR);
    if ('unavailable' in c) skip = `controller not available: ${c.unavailable}`;
    else ctl = c;
  });
  after(async () => {
    for (const op of operators) await op.close().catch(() => undefined);
    await ctl?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function folder(): string {
    const d = mkdtempSync(join(tmpdir(), 'portico-op-manifests-'));
    dirs.push(d);
    return d;
  }

  async function operator(dir: string, extra: Record<string, unknown> = {}): Promise<RunningOperator> {
    const { settings, problems } = settingsFromValues({
      AKOSettings: { clusterName: 'optest', fullSyncFrequency: '0', ...(extra.AKOSettings as object ?? {}) },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L7Settings: { shardVSSize: 'SMALL' },
      L4Settings: { autoFQDN: 'default' },
    }, {});
    assert.deepEqual(problems, []);
    const op = await startOperator({
      controller: ctl!.url, provider: createManifestProvider(dir, { debounceMs: 20 }), sink: createMemoryStatusSink(), settings,
      listen: `${HOST}:0`, username: 'admin', password: ADMIN_PASSWORD, fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200,
      logger: pino({ level: 'silent' }),
    });
    operators.push(op);
    return op;
  }

  async function stopOperator(op: RunningOperator): Promise<void> {
    await op.close();
    operators.splice(operators.indexOf(op), 1);
  }

  async function statusOf(op: RunningOperator): Promise<any[]> {
    const res = await fetch(`${op.url}/api/status`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { items: any[] }).items;
  }

  test('LB Service → VIP in status, objects owned; restart with nothing changed writes nothing; delete removes all', async (t) => {
    if (skip) return t.skip(skip);
    const dir = folder();
    writeFileSync(join(dir, 'web.yaml'), lbService('web'));
    const op = await operator(dir);
    const item = await eventually(async () => (await statusOf(op)).find((i) => i.name === 'web' && i.loadBalancer.ingress.length), 'web to get a VIP');
    assert.match(item.loadBalancer.ingress[0].ip, /^127\.30\.5\.\d$/);
    assert.equal(item.loadBalancer.ingress[0].hostname, 'web.default.portico.local');
    assert.deepEqual(item.virtualServices, ['optest--default-web']);
    assert.equal(item.events[0].reason, 'Synced');
    const vs = await ctl!.api('GET', '/api/virtualservice?name=optest--default-web');
    assert.equal(vs.body.count, 1);
    assert.equal(vs.body.results[0].created_by, 'ako-optest');
    const pool = await ctl!.api('GET', '/api/pool?name=optest--default-web-TCP-80');
    assert.deepEqual(pool.body.results[0].servers.map((s: any) => `${s.ip.addr}:${s.port}`), ['127.30.9.1:8080']);
    const metrics = await (await fetch(`${op.url}/metrics`)).text();
    assert.match(metrics, /portico_operator_objects_handled\{kind="Service"\} 1/);
    await stopOperator(op);

    // Restart: nothing changed → zero writes, same VIP.
    const op2 = await operator(dir);
    await eventually(() => op2.passes() > 0 && op2.lastReport(), 'first pass after restart');
    await op2.idle();
    const r = op2.lastReport()!;
    assert.equal(r.created + r.updated + r.deleted, 0, `restart wrote: ${JSON.stringify({ ...r, failed: undefined })}`);
    assert.equal((await statusOf(op2)).find((i) => i.name === 'web').loadBalancer.ingress[0].ip, item.loadBalancer.ingress[0].ip);

    // Deleting the Service removes VS, VsVip, pools, policy set (parents before children) and the status.
    unlinkSync(join(dir, 'web.yaml'));
    await eventually(async () => !(await statusOf(op2)).some((i) => i.name === 'web'), 'web to leave the status');
    await op2.idle();
    for (const type of ['virtualservice', 'vsvip', 'pool', 'l4policyset']) {
      const l = await ctl!.api('GET', `/api/${type}?name.contains=optest--default-web`);
      assert.equal(l.body.count, 0, `${type} left behind: ${JSON.stringify(l.body.results?.map((x: any) => x.name))}`);
    }
    assert.deepEqual(op2.lastReport()!.failures, []);
    await stopOperator(op2);
  });

  test('orphans it owns are deleted at start; objects it does not own are left alone', async (t) => {
    if (skip) return t.skip(skip);
    const orphan = await ctl!.api('POST', '/api/pool', { name: 'optest--orphan-pool', created_by: 'ako-optest', servers: [] });
    assert.equal(orphan.status, 201, JSON.stringify(orphan.body));
    const foreign = await ctl!.api('POST', '/api/pool', { name: 'someone-elses-pool', servers: [] });
    assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
    const op = await operator(folder());
    await eventually(() => op.passes() > 0, 'first pass');
    await op.idle();
    assert.equal((await ctl!.api('GET', '/api/pool?name=optest--orphan-pool')).body.count, 0);
    assert.equal((await ctl!.api('GET', '/api/pool?name=someone-elses-pool')).body.count, 1);
    await stopOperator(op);
  });

  test('no free IP → Warning and no status; served as soon as an address frees', async (t) => {
    if (skip) return t.skip(skip);
    const dir = folder();
    for (let i = 1; i <= 6; i++) writeFileSync(join(dir, `s${i}.yaml`), lbService(`s${i}`));
    const op = await operator(dir);
    const starved = await eventually(async () => (await statusOf(op)).find((i) => i.events.some((e: any) => e.reason === 'NoFreeIP')), 'a NoFreeIP warning');
    assert.deepEqual(starved.loadBalancer.ingress, []);
    const served = (await statusOf(op)).filter((i) => i.loadBalancer.ingress.length > 0);
    assert.equal(served.length, 5);
    unlinkSync(join(dir, `${served[0].name}.yaml`));
    await eventually(async () => (await statusOf(op)).find((i) => i.name === starved.name && i.loadBalancer.ingress.length > 0), `${starved.name} to get the freed VIP`);
    const after = (await statusOf(op)).find((i) => i.name === starved.name);
    assert.ok(!after.events.some((e: any) => e.reason === 'NoFreeIP'), 'the fixed Warning is gone');
    await stopOperator(op);
  });

  test('an Ingress: shared parent serves the host, a bad path is a Warning; deleteConfig removes everything owned', async (t) => {
    if (skip) return t.skip(skip);
    const dir = folder();
    writeFileSync(join(dir, 'app.yaml'), `${lbService('app').replace('type: LoadBalancer', 'type: ClusterIP')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: default}
spec:
  rules:
    - host: site.portico.local
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}
    - host: bad-svc.portico.local
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: nope, port: {number: 80}}}}]}
`);
    const op = await operator(dir);
    const item = await eventually(async () => (await statusOf(op)).find((i) => i.kind === 'Ingress' && i.loadBalancer.ingress.length), 'the Ingress to get a VIP');
    assert.deepEqual(item.loadBalancer.ingress.map((i: any) => i.hostname), ['site.portico.local']);
    assert.ok(item.events.some((e: any) => e.reason === 'UnknownService'));
    const parent = await ctl!.api('GET', '/api/virtualservice?name=optest--Shared-L7-0');
    assert.equal(parent.body.count, 1);
    await stopOperator(op);

    const del = await operator(dir, { AKOSettings: { deleteConfig: 'true' } });
    await eventually(async () => ((await (await fetch(`${del.url}/api/status`)).json()) as any).deleteConfig === 'done', 'deleteConfig done');
    for (const type of ['virtualservice', 'vsvip', 'pool', 'httppolicyset', 'l4policyset']) {
      const l = await ctl!.api('GET', `/api/${type}?created_by=ako-optest`);
      assert.equal(type === 'vsvip' ? 0 : l.body.count, 0, `${type} left after deleteConfig`);
    }
    assert.equal((await ctl!.api('GET', '/api/vsvip?name.contains=optest--')).body.count, 0);
    await stopOperator(del);
  });

  test('a TLS host whose secret is missing: Warning, not served; served as soon as the secret appears', async (t) => {
    if (skip) return t.skip(skip);
    const dir = folder();
    writeFileSync(join(dir, 'app.yaml'), `${lbService('app2').replace('type: LoadBalancer', 'type: ClusterIP')}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: tls-site, namespace: default}
spec:
  tls: [{hosts: [secure.portico.local], secretName: late-secret}]
  rules:
    - host: secure.portico.local
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app2, port: {number: 80}}}}]}
    - host: plain.portico.local
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app2, port: {number: 80}}}}]}
`);
    const op = await operator(dir);
    const before = await eventually(async () => (await statusOf(op)).find((i) => i.name === 'tls-site' && i.loadBalancer.ingress.length), 'the plain host to be served');
    assert.deepEqual(before.loadBalancer.ingress.map((i: any) => i.hostname), ['plain.portico.local']);
    assert.ok(before.events.some((e: any) => e.reason === 'SecretNotFound'), JSON.stringify(before.events));
    assert.equal((await ctl!.api('GET', '/api/virtualservice?name=optest--secure.portico.local')).body.count, 0);
    const tls = new URL('./fixtures/tls/', `file://${process.cwd()}/test/`);
    const b64 = (f: string) => readFileSync(new URL(f, tls)).toString('base64');
    writeFileSync(join(dir, 'secret.yaml'), `apiVersion: v1
kind: Secret
metadata: {name: late-secret, namespace: default}
type: kubernetes.io/tls
data: {tls.crt: ${b64('secure.example.com.crt')}, tls.key: ${b64('secure.example.com.key')}}
`);
    const after = await eventually(async () => (await statusOf(op)).find((i) => i.name === 'tls-site' && i.loadBalancer.ingress.length === 2), 'the secure host to be served');
    assert.deepEqual(after.loadBalancer.ingress.map((i: any) => i.hostname).sort(), ['plain.portico.local', 'secure.portico.local']);
    assert.ok(!after.events.some((e: any) => e.type === 'Warning'), 'the fixed Warning is gone');
    const child = await ctl!.api('GET', '/api/virtualservice?name=optest--secure.portico.local&include_name=true');
    assert.equal(child.body.count, 1);
    assert.match(child.body.results[0].vh_parent_vs_ref, /#optest--Shared-L7-0$/);
    await stopOperator(op);
  });

  test('a name held by an object it does not own: Warning, and that object is never overwritten', async (t) => {
    if (skip) return t.skip(skip);
    const foreign = await ctl!.api('POST', '/api/pool', { name: 'optest--default-taken-TCP-80', servers: [] });
    assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
    const dir = folder();
    writeFileSync(join(dir, 'taken.yaml'), lbService('taken'));
    const op = await operator(dir);
    const item = await eventually(async () => (await statusOf(op)).find((i) => i.name === 'taken' && i.events.some((e: any) => e.reason === 'SyncFailed')), 'a SyncFailed warning');
    assert.match(item.events.find((e: any) => e.reason === 'SyncFailed').message, /not owned by ako-optest/);
    assert.deepEqual(item.loadBalancer.ingress, []);
    const after = await ctl!.api('GET', '/api/pool?name=optest--default-taken-TCP-80');
    assert.equal(after.body.results[0].created_by, undefined);
    assert.equal(after.body.results[0]._last_modified, foreign.body._last_modified);
    // The VS that needs the pool was not attempted.
    assert.equal((await ctl!.api('GET', '/api/virtualservice?name=optest--default-taken')).body.count, 0);
    await stopOperator(op);
  });
});
