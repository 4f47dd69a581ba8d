// Change passes against the real controller: one change rebuilds one unit and writes (and
// compares) only what changed; a removed Service's objects go and its status is cleared; a new
// one is created; a VS deleted behind the operator's back comes back on a full pass; a
// restart with nothing changed writes nothing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createMemoryStatusSink } from '../../src/operator/status/memory.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { emptySnapshot, type ClusterSnapshot, type SnapshotProvider } from '../../src/operator/source/types.js';
import { createProgrammaticProvider } from '../../src/operator/source/programmatic.js';
import { ADMIN_PASSWORD, controllerSuite, eventually } from './support/controller.js';

const HOST = '127.103.1.1';
const VIP_CIDR = '127.103.2.0/24';
const SERVICES = 20;

function service(i: number): [V1Service, V1EndpointSlice] {
  const name = `svc${i}`;
  return [
    { metadata: { name, namespace: 'default', uid: `u${i}` }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    {
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [`127.103.9.${i + 1}`], conditions: { ready: true } }],
    },
  ];
}

function withService(s: ClusterSnapshot, i: number, present: boolean, address?: string): ClusterSnapshot {
  const [svc, slice] = service(i);
  if (address) slice.endpoints![0]!.addresses = [address];
  const next: ClusterSnapshot = { ...s, services: new Map(s.services), endpointSlices: new Map(s.endpointSlices) };
  if (present) { next.services.set(`default/svc${i}`, svc); next.endpointSlices.set(`default/svc${i}-1`, slice); } else { next.services.delete(`default/svc${i}`); next.endpointSlices.delete(`default/svc${i}-1`); }
  return next;
}

describe('operator change passes', () => {
  const suite = controllerSuite(HOST, VIP_CIDR);
  const operators: RunningOperator[] = [];
  after(async () => { for (const op of operators) await op.close().catch(() => undefined); });

  async function operator(p: SnapshotProvider): Promise<RunningOperator> {
    const { settings, problems } = settingsFromValues({
      AKOSettings: { clusterName: 'chg', fullSyncFrequency: '0' }, NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
    }, {});
    assert.deepEqual(problems, []);
    const op = await startOperator({
      controller: suite.ctl!.url, provider: p, sink: createMemoryStatusSink(), settings, listen: `${HOST}:0`, username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });
    operators.push(op);
    return op;
  }

  async function settle(op: RunningOperator, passesBefore: number): Promise<void> {
    await eventually(() => op.passes() > passesBefore, 'a pass');
    await op.idle();
  }

  const vipOf = (op: RunningOperator, i: number) => op.status().find((s) => s.ref.name === `svc${i}`)?.ingress[0]?.ip;

  test('one change: one unit compared and written; removals, additions, repairs; restart writes nothing', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const p = createProgrammaticProvider();
    let snap = emptySnapshot();
    for (let i = 0; i < SERVICES; i++) snap = withService(snap, i, true);
    p.push(snap);
    const op = await operator(p);
    await settle(op, 0);
    assert.equal(op.lastReport()!.created, SERVICES * 4, JSON.stringify(op.lastReport()!.failures));
    assert.ok(vipOf(op, 3), 'svc3 has a VIP');

    // An endpoint moves: the pool is rewritten, nothing else of the 80 objects is even compared.
    let n = op.passes();
    snap = withService(snap, 3, true, '127.103.9.200');
    p.push(snap);
    await settle(op, n);
    let r = op.lastReport()!;
    assert.deepEqual([r.created, r.updated, r.deleted], [0, 1, 0]);
    assert.ok(r.unchanged <= 3, `only svc3's unit is looked at (unchanged ${r.unchanged})`);
    const pool = await suite.ctl!.api('GET', '/api/pool?name=chg--default-svc3-TCP-80');
    assert.equal(pool.body.results[0].servers[0].ip.addr, '127.103.9.200');
    assert.ok(vipOf(op, 3), 'svc3 keeps its VIP');

    // A Service goes: its four objects are deleted, its status cleared; the others untouched.
    n = op.passes();
    snap = withService(snap, 5, false);
    p.push(snap);
    await settle(op, n);
    r = op.lastReport()!;
    assert.deepEqual([r.created, r.updated, r.deleted], [0, 0, 4]);
    assert.equal(op.status().length, SERVICES - 1);
    assert.equal((await suite.ctl!.api('GET', '/api/virtualservice?name=chg--default-svc5')).body.count, 0);

    // A new one comes: created, with a VIP in its status.
    n = op.passes();
    snap = withService(snap, SERVICES, true);
    p.push(snap);
    await settle(op, n);
    assert.deepEqual([op.lastReport()!.created, op.lastReport()!.deleted], [4, 0]);
    await eventually(() => vipOf(op, SERVICES), `svc${SERVICES} gets a VIP`);

    // A VS deleted behind the operator's back is not seen by change passes; a full pass (resync) puts it back.
    const vs = (await suite.ctl!.api('GET', '/api/virtualservice?name=chg--default-svc7')).body.results[0];
    assert.equal((await suite.ctl!.api('DELETE', `/api/virtualservice/${vs.uuid}`)).status < 300, true);
    n = op.passes();
    op.resync();
    await settle(op, n);
    assert.equal(op.lastReport()!.created, 1, JSON.stringify(op.lastReport()));
    assert.equal((await suite.ctl!.api('GET', '/api/virtualservice?name=chg--default-svc7')).body.count, 1);

    // Restart with nothing changed: no writes.
    await op.close();
    operators.splice(operators.indexOf(op), 1);
    const again = await operator(p);
    await settle(again, 0);
    r = again.lastReport()!;
    assert.deepEqual([r.created, r.updated, r.deleted, r.failures.length], [0, 0, 0, 0]);
    assert.equal(r.unchanged, SERVICES * 4);
  });
});
