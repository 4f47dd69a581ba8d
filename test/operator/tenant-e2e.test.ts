// Tenant per namespace against the real controller: two tenants created through its API; a
// LoadBalancer Service lands in its namespace's tenant (X-Avi-Tenant / tenant_ref), the others in
// the configured one; a namespace naming a missing tenant gets Warnings (Services and Namespace)
// and its objects once the tenant is created; moving the annotation moves the objects; a restart
// with nothing changed writes nothing; orphans and deleteConfig are found in every tenant.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createMemoryStatusSink, type MemoryStatusSink } from '../../src/operator/status/memory.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { emptySnapshot, type ClusterSnapshot } from '../../src/operator/source/types.js';
import { createProgrammaticProvider, type ProgrammaticProvider } from '../../src/operator/source/programmatic.js';
import { ControllerClient } from '../../src/operator/controller-client/client.js';
import { ControllerError } from '../../src/operator/controller-client/errors.js';
import { ADMIN_PASSWORD, controllerSuite, eventually } from './support/controller.js';

const HOST = '127.114.1.1';
const VIP_CIDR = '127.114.2.0/24';
const L4_TYPES = ['virtualservice', 'l4policyset', 'pool', 'vsvip'];

function namespace(name: string, tenant?: string): V1Namespace {
  return { metadata: { name, ...(tenant ? { annotations: { 'ako.vmware.com/tenant-name': tenant } } : {}) } };
}

function lbService(ns: string): V1Service {
  // Its auto FQDN (web.<ns>.portico.local) gives the status AKO's annotations, tenant-name among them.
  return { metadata: { name: 'web', namespace: ns, uid: `u-${ns}` }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } };
}

function snapshotOf(namespaces: Array<[string, string | undefined]>): ClusterSnapshot {
  const s = emptySnapshot();
  for (const [ns, tenant] of namespaces) {
    s.namespaces.set(ns, namespace(ns, tenant));
    s.services.set(`${ns}/web`, lbService(ns));
  }
  return s;
}

describe('operator: tenant per namespace (real controller)', () => {
  const suite = controllerSuite(HOST, VIP_CIDR);
  const operators: RunningOperator[] = [];
  after(async () => { for (const op of operators) await op.close().catch(() => undefined); });

  /** GET in a tenant (X-Avi-Tenant): the names of that type there. */
  async function namesIn(tenant: string, type: string): Promise<string[]> {
    const res = await fetch(`${suite.ctl!.url}/api/${type}?fields=name,tenant_ref&include_name=true`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'x-avi-tenant': tenant },
    });
    assert.equal(res.status, 200, `GET ${type} in ${tenant}`);
    const body = (await res.json()) as { results: Array<{ name: string; tenant_ref: string }> };
    return body.results.filter((o) => o.tenant_ref.endsWith(`#${tenant}`) && o.name.startsWith('mt--')).map((o) => o.name).sort();
  }

  async function operator(p: ProgrammaticProvider, sink: MemoryStatusSink, extra: Record<string, unknown> = {}): Promise<RunningOperator> {
    const { settings, problems } = settingsFromValues({
      AKOSettings: { clusterName: 'mt', fullSyncFrequency: '0', ...extra }, NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
    }, {});
    assert.deepEqual(problems, []);
    const op = await startOperator({
      controller: suite.ctl!.url, provider: p, sink, settings, listen: `${HOST}:0`, username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });
    operators.push(op);
    return op;
  }

  async function stop(op: RunningOperator): Promise<void> {
    await op.close();
    operators.splice(operators.indexOf(op), 1);
  }

  const vipOf = (op: RunningOperator, ns: string) => op.status().find((s) => s.ref.kind === 'Service' && s.ref.namespace === ns)?.ingress[0]?.ip;
  const tenantNameOf = (ns: string) => sink.get({ kind: 'Service', namespace: ns, name: 'web' })?.annotations?.['ako.vmware.com/tenant-name'];
  let sink = createMemoryStatusSink();

  test('objects land in their tenant, wait for a missing one, move with the annotation; orphans and deleteConfig in every tenant', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    for (const name of ['team-a', 'team-c']) assert.equal((await suite.ctl!.api('POST', '/api/tenant', { name })).status, 201, `tenant ${name} created`);

    const p = createProgrammaticProvider();
    sink = createMemoryStatusSink();
    let snap = snapshotOf([['default', undefined], ['team-a', 'team-a'], ['team-b', 'team-b']]);
    p.push(snap);
    let op = await operator(p, sink);

    // default → admin, team-a → tenant team-a (and not visible from admin).
    await eventually(() => vipOf(op, 'default') && vipOf(op, 'team-a'), 'VIPs for default/web and team-a/web').catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(op.lastReport()?.failures)} ${JSON.stringify(op.status())}`); });
    assert.deepEqual(await namesIn('team-a', 'virtualservice'), ['mt--team-a-web']);
    assert.deepEqual(await namesIn('admin', 'virtualservice'), ['mt--default-web']);
    for (const type of L4_TYPES) assert.equal((await namesIn('team-a', type)).length, 1, `${type} in team-a`);
    await op.idle();
    assert.equal(tenantNameOf('team-a'), 'team-a');
    assert.equal(tenantNameOf('default'), 'admin');

    // team-b names a tenant the controller lacks: nothing built, Warnings on the Service and the Namespace.
    await op.idle();
    const svcB = sink.get({ kind: 'Service', namespace: 'team-b', name: 'web' });
    assert.ok(svcB?.events.some((e) => e.type === 'Warning' && e.reason === 'TenantNotFound' && e.message.includes('team-b')), JSON.stringify(svcB));
    assert.deepEqual(svcB?.ingress, []);
    const nsB = sink.get({ kind: 'Namespace', namespace: 'team-b', name: 'team-b' });
    assert.ok(nsB?.events.some((e) => e.reason === 'TenantNotFound' && e.message.includes('tenant team-b')), JSON.stringify(nsB));
    assert.equal((await op.lastReport()!.failures.length), 0, JSON.stringify(op.lastReport()!.failures));

    // The tenant appears: its objects are created there (slow retry), the Warning goes.
    assert.equal((await suite.ctl!.api('POST', '/api/tenant', { name: 'team-b' })).status, 201);
    await eventually(() => vipOf(op, 'team-b'), 'team-b/web gets a VIP once tenant team-b exists');
    assert.deepEqual(await namesIn('team-b', 'virtualservice'), ['mt--team-b-web']);
    assert.ok(!sink.get({ kind: 'Service', namespace: 'team-b', name: 'web' })!.events.some((e) => e.reason === 'TenantNotFound'));

    // Moving team-a to tenant team-c: deleted in team-a, created in team-c.
    snap = { ...snap, namespaces: new Map(snap.namespaces).set('team-a', namespace('team-a', 'team-c')) };
    p.push(snap);
    await eventually(async () => (await namesIn('team-c', 'virtualservice')).length === 1, 'mt--team-a-web in tenant team-c');
    await op.idle();
    for (const type of L4_TYPES) {
      assert.deepEqual(await namesIn('team-a', type), [], `${type} left team-a`);
      assert.equal((await namesIn('team-c', type)).length, 1, `${type} in team-c`);
    }
    await eventually(() => vipOf(op, 'team-a') && tenantNameOf('team-a') === 'team-c', 'team-a/web has a VIP again, status tenant-name team-c');
    assert.equal(op.lastReport()!.failures.length, 0, JSON.stringify(op.lastReport()!.failures));

    // A restart with nothing changed writes nothing, in any tenant.
    await stop(op);
    op = await operator(p, sink);
    await eventually(() => op.passes() > 0, 'first pass');
    await op.idle();
    let r = op.lastReport()!;
    assert.deepEqual([r.created, r.updated, r.deleted, r.failures.length], [0, 0, 0, 0], JSON.stringify(r.failures));
    assert.equal(r.unchanged, 12);

    // Orphans: team-a's Service removed while no operator runs → deleted from tenant team-c at start.
    await stop(op);
    snap = { ...snap, services: new Map(snap.services) };
    snap.services.delete('team-a/web');
    p.push(snap);
    op = await operator(p, sink);
    await eventually(() => op.passes() > 0, 'first pass');
    await op.idle();
    r = op.lastReport()!;
    assert.deepEqual([r.created, r.deleted], [0, 4]);
    for (const type of L4_TYPES) assert.deepEqual(await namesIn('team-c', type), [], `orphan ${type} gone from team-c`);

    // deleteConfig: everything it owns, in every tenant.
    await stop(op);
    op = await operator(p, sink, { deleteConfig: 'true' });
    await eventually(() => op.passes() > 0, 'deleteConfig pass');
    await op.idle();
    for (const tenant of ['admin', 'team-a', 'team-b', 'team-c']) {
      for (const type of L4_TYPES) assert.deepEqual(await namesIn(tenant, type), [], `deleteConfig: no ${type} left in ${tenant}`);
    }
  });

  test('a 403 on GET or PUT in another tenant is tried again as admin (AKO\'s SDK); a POST is not', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    assert.equal((await suite.ctl!.api('POST', '/api/tenant', { name: 'team-x' })).status, 201);
    const user = await suite.ctl!.api('POST', '/api/user', {
      name: 'admin-tenant-only', password: 'tenant-user-pw-1', access: [{ tenant_ref: '/api/tenant?name=admin', role_ref: '/api/role?name=Tenant-Admin' }],
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const c = new ControllerClient({ url: suite.ctl!.url, username: 'admin-tenant-only', password: 'tenant-user-pw-1', tenant: 'team-x', auth: 'basic' });
    try {
      const page = await c.get<{ count: number }>('/api/pool');
      assert.equal(typeof page.count, 'number');
      await assert.rejects(c.call('POST', '/api/pool', { name: 'x' }), (e: unknown) => e instanceof ControllerError && e.status === 403);
    } finally {
      await c.close();
    }
  });
});
