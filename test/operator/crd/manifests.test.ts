// CRDs from a manifest folder (standalone mode): the verdicts are kept in the operator's view
// (/api/status `crds`), a missing object created on the controller or a fixed file gets it Accepted
// and applied, a removed file restores the defaults.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../../src/operator/operator.js';
import { createManifestProvider } from '../../../src/operator/source/manifests.js';
import { createMemoryStatusSink } from '../../../src/operator/status/memory.js';
import { settingsFromValues } from '../../../src/operator/settings/values.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from '../support/controller.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: default, annotations: {ako.vmware.com/l4rule: db-rule}}
spec: {type: LoadBalancer, ports: [{name: pg, port: 5432}]}
`;
const rule = (monitor: string) => `apiVersion: ako.vmware.com/v1alpha2
kind: L4Rule
metadata: {name: db-rule, namespace: default}
spec:
  backendProperties: [{port: 5432, protocol: TCP, lbAlgorithm: LB_ALGORITHM_ROUND_ROBIN, healthMonitorRefs: [${monitor}]}]
`;

describe('CRDs from a manifest folder', () => {
  let ctl: TestController | undefined;
  let op: RunningOperator | undefined;
  let skip: string | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'portico-crd-manifests-'));

  before(async () => {
    const c = await startTestController('127.61.0.5', '127.61.3.0/28');
    if ('unavailable' in c) { skip = `controller not available: ${c.unavailable}`; return; }
    ctl = c;
    writeFileSync(join(dir, 'db.yaml'), SERVICE);
    writeFileSync(join(dir, 'rule.yaml'), rule('no-such-monitor'));
    const { settings } = settingsFromValues({
      AKOSettings: { clusterName: 'crdm', fullSyncFrequency: '0' },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
    }, {});
    op = await startOperator({
      controller: ctl.url, provider: createManifestProvider(dir, { debounceMs: 20 }), sink: createMemoryStatusSink(), settings,
      listen: '127.61.0.6:0', username: 'admin', password: ADMIN_PASSWORD, fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200,
      logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await op?.close().catch(() => undefined);
    await ctl?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async () => (await (await fetch(`${op!.url}/api/status`)).json()) as { crds: Array<{ kind: string; name: string; status: string; error: string }>; items: any[] };
  const pool = async () => (await ctl!.api('GET', '/api/pool?name=crdm--default-db-TCP-5432&include_name=true')).body.results?.[0];

  test('Rejected with the missing monitor, Accepted once it exists, changed with the file, defaults back when the file goes', async (t) => {
    if (skip) return t.skip(skip);
    const rejected = await eventually(async () => (await status()).crds.find((c) => c.name === 'db-rule' && c.status === 'Rejected'), 'L4Rule Rejected');
    assert.match(rejected.error, /spec\.backendProperties\[0\]\.healthMonitorRefs\[0\]: healthmonitor no-such-monitor not found on the controller/);
    const before = await eventually(pool, 'the pool with defaults');
    assert.notEqual(before.lb_algorithm, 'LB_ALGORITHM_ROUND_ROBIN');
    const svc = (await status()).items.find((i) => i.kind === 'Service' && i.name === 'db');
    assert.ok(svc.events.some((e: any) => e.reason === 'L4RuleNotApplied' && /Rejected/.test(e.message)), JSON.stringify(svc.events));

    // The missing monitor created on the controller: the next change (any file) gets the rule Accepted.
    assert.equal((await ctl!.api('POST', '/api/healthmonitor', { name: 'no-such-monitor', type: 'HEALTH_MONITOR_TCP' })).status, 201);
    writeFileSync(join(dir, 'touch.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: touched}\n');
    await eventually(async () => (await status()).crds.find((c) => c.name === 'db-rule' && c.status === 'Accepted'), 'L4Rule Accepted once the monitor exists');
    await eventually(async () => (await pool())?.health_monitor_refs?.some((r: string) => r.endsWith('#no-such-monitor')), 'the pool on the new monitor');

    writeFileSync(join(dir, 'rule.yaml'), rule('System-TCP'));
    const p = await eventually(async () => { const o = await pool(); return o?.health_monitor_refs?.[0]?.endsWith('#System-TCP') && o; }, 'the pool to take the changed rule');
    assert.equal(p.lb_algorithm, 'LB_ALGORITHM_ROUND_ROBIN');
    assert.equal(p.health_monitor_refs.length, 1);

    unlinkSync(join(dir, 'rule.yaml'));
    await eventually(async () => !(await status()).crds.some((c) => c.name === 'db-rule'), 'the verdict gone with the file');
    await eventually(async () => { const o = await pool(); return o && o.lb_algorithm !== 'LB_ALGORITHM_ROUND_ROBIN'; }, 'the pool defaults back');
  });
});
