// The values file re-read while the operator runs: which keys apply live and which wait for a
// restart; the watch (a plain write, and a ConfigMap-style symlink swap); and end to end, a
// `portico operator` process against the API double and the real controller that stops serving a
// namespace blocked in the file, and reports (log + Events on its pod) a key that needs a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { settingsFromValues } from '../../../src/operator/settings/values.js';
import { applyLiveSettings, changedSettings, watchValuesFile } from '../../../src/operator/settings/reload.js';
import { KubeApiDouble } from '../../support/kube-api-double/index.js';
import { waitFor } from '../../support/kube-api-double/wait.js';
import { runPortico, type CliProcess } from '../../support/cli.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from '../support/controller.js';

const settings = (values: object) => settingsFromValues(values, {}).settings;

describe('values file: live keys and restart keys', () => {
  it('applies the live keys in place and names the others by their values-file key', () => {
    const running = settings({ AKOSettings: { clusterName: 'a', logLevel: 'WARN' }, avicredentials: { username: 'admin', password: 'old-secret' } });
    const held = running.l7;
    const next = settings({
      AKOSettings: { clusterName: 'b', logLevel: 'DEBUG', blockedNamespaceList: ['kube-system'], deleteConfig: 'true' },
      L7Settings: { shardVSSize: 'SMALL', l7ShardingScheme: 'namespace' }, ControllerSettings: { cloudName: 'other-cloud' },
      NetworkSettings: { defaultDomain: 'example.com' }, avicredentials: { username: 'admin', password: 'new-secret' },
    });
    const r = applyLiveSettings(running, next);
    assert.deepEqual(r.applied.sort(), ['AKOSettings.blockedNamespaceList', 'AKOSettings.deleteConfig', 'AKOSettings.logLevel', 'L7Settings.l7ShardingScheme', 'L7Settings.shardVSSize']);
    assert.deepEqual(r.restart.sort(), ['AKOSettings.clusterName', 'ControllerSettings.cloudName', 'NetworkSettings.defaultDomain', 'avicredentials.password']);
    assert.equal(running.logLevel, 'DEBUG');
    assert.deepEqual(running.blockedNamespaceList, ['kube-system']);
    assert.equal(running.deleteConfig, true);
    assert.equal(held.shardVSSize, 'SMALL', 'changed in place: the operator holds the same objects');
    assert.equal(running.clusterName, 'a', 'a restart key keeps its running value');
    assert.equal(running.credentials.password, 'old-secret');
    assert.ok(!JSON.stringify(r).includes('secret'), 'credentials are named, never shown');
    assert.deepEqual(changedSettings(running, running), []);
  });
});

describe('values file watch', () => {
  it('sees a plain write and a ConfigMap-style symlink swap, and ignores a write of the same content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-values-watch-'));
    const stops: Array<() => void> = [];
    try {
      // A plain file, written in place.
      const plain = join(dir, 'plain');
      mkdirSync(plain);
      writeFileSync(join(plain, 'values.yaml'), 'AKOSettings: { logLevel: WARN }\n');
      let plainCalls = 0;
      stops.push(watchValuesFile(join(plain, 'values.yaml'), () => { plainCalls++; }, { debounceMs: 20 }));
      writeFileSync(join(plain, 'values.yaml'), 'AKOSettings: { logLevel: WARN }\n');
      writeFileSync(join(plain, 'values.yaml'), 'AKOSettings: { logLevel: INFO }\n');
      await waitFor('the write seen', () => plainCalls === 1);

      // The kubelet's layout: values.yaml → ..data/values.yaml, ..data → ..<version>, swapped by a rename.
      const cm = join(dir, 'cm');
      mkdirSync(join(cm, '..v1'), { recursive: true });
      writeFileSync(join(cm, '..v1', 'values.yaml'), 'AKOSettings: { logLevel: WARN }\n');
      symlinkSync('..v1', join(cm, '..data'));
      symlinkSync('..data/values.yaml', join(cm, 'values.yaml'));
      let cmCalls = 0;
      stops.push(watchValuesFile(join(cm, 'values.yaml'), () => { cmCalls++; }, { debounceMs: 20 }));
      mkdirSync(join(cm, '..v2'));
      writeFileSync(join(cm, '..v2', 'values.yaml'), 'AKOSettings: { logLevel: INFO }\n');
      symlinkSync('..v2', join(cm, '..data_tmp'));
      renameSync(join(cm, '..data_tmp'), join(cm, '..data'));
      await waitFor('the swap seen', () => cmCalls === 1);
      assert.equal(plainCalls, 1, 'the same content written again is no change');
    } finally {
      for (const stop of stops) stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('portico operator re-reads --values', () => {
  let double: KubeApiDouble;
  let ctl: TestController | undefined;
  let skip: string | undefined;
  let op: CliProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'portico-values-reload-'));

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.104.4.1' });
    const c = await startTestController('127.104.4.2', '127.104.5.0/28');
    if ('unavailable' in c) skip = `controller not available: ${c.unavailable}`;
    else ctl = c;
  });
  after(async () => {
    await op?.stop();
    await ctl?.stop();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops serving a namespace blocked in the file, and reports a key that needs a restart', async (t) => {
    if (skip) return t.skip(skip);
    const values = (extra: Record<string, unknown> = {}) => stringify({
      AKOSettings: { clusterName: 'reload', fullSyncFrequency: '0', ...extra },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
    });
    const file = join(dir, 'values.yaml');
    writeFileSync(file, values());
    double.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ako-0', namespace: 'avi-system' }, spec: { containers: [{ name: 'ako', image: 'portico' }] } });
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'team' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    double.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'team', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['127.104.6.1'], conditions: { ready: true } }],
    });
    op = runPortico(['operator', '--controller', ctl!.url, '--kubeconfig', double.writeKubeconfig(), '--values', file, '--listen', '127.104.4.3:0'], {
      env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: ADMIN_PASSWORD, POD_NAME: 'ako-0', POD_NAMESPACE: 'avi-system' },
    });
    await op.waitForLine(/listening on/, 30_000);
    const vip = () => (double.get('v1', 'Service', 'web', 'team') as any).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
    await eventually(() => vip(), 'a VIP for team/web');
    const vs = async () => (await ctl!.api('GET', '/api/virtualservice?name=reload--team-web')).body.results?.length ?? 0;
    assert.equal(await vs(), 1);

    writeFileSync(file, values({ blockedNamespaceList: ['team'], clusterName: 'renamed' }));
    await eventually(() => vip() === undefined, 'the status of team/web cleared once its namespace is blocked');
    await eventually(async () => (await vs()) === 0, 'the virtual service of team/web deleted');
    const line = await op.waitForLine(/values file changed/, 10_000);
    assert.match(line, /applied: AKOSettings\.blockedNamespaceList/);
    assert.match(line, /needs a restart \(not applied\): AKOSettings\.clusterName/);
    type Ev = { type: string; reason: string; message: string; involvedObject: { name: string } };
    const events = await eventually(() => {
      const list = (double.list('v1', 'Event', 'avi-system') as unknown as Ev[]).filter((e) => e.involvedObject.name === 'ako-0');
      return list.some((e) => e.reason === 'RestartNeeded') && list;
    }, 'the Events on the pod');
    assert.match(events.find((e) => e.reason === 'ValuesApplied')!.message, /AKOSettings\.blockedNamespaceList/);
    const restart = events.find((e) => e.reason === 'RestartNeeded')!;
    assert.equal(restart.type, 'Warning');
    assert.match(restart.message, /AKOSettings\.clusterName/);
    assert.equal(op.proc.exitCode, null, 'still running');

    // deleteConfig on, off and on again, live: everything owned deleted each time, then re-created.
    const url = /(https?:\/\/\S+)/.exec(await op.waitForLine(/listening on/))![1]!;
    const deleteState = async () => ((await (await fetch(`${url}/api/status`)).json()) as { deleteConfig?: string }).deleteConfig;
    const podReasons = () => (double.list('v1', 'Event', 'avi-system') as unknown as Ev[]).filter((e) => e.involvedObject.name === 'ako-0').map((e) => e.reason);
    writeFileSync(file, values({ clusterName: 'renamed' }));
    await eventually(async () => (await vs()) === 1, 'team/web served again once unblocked');
    for (const round of [1, 2]) {
      writeFileSync(file, values({ clusterName: 'renamed', deleteConfig: 'true' }));
      await eventually(async () => (await deleteState()) === 'done', `deleteConfig done (round ${round})`);
      assert.equal(await vs(), 0);
      writeFileSync(file, values({ clusterName: 'renamed' }));
      await eventually(async () => (await vs()) === 1, `re-created after deleteConfig is unset (round ${round})`);
      assert.equal(await deleteState(), undefined);
    }
    const reasons = podReasons();
    for (const r of ['AKODeleteConfigSet', 'AKODeleteConfigDone', 'AKODeleteConfigUnset']) assert.ok(reasons.includes(r), `${r} on the pod (${reasons.join(', ')})`);

    // A file that no longer parses keeps the running settings.
    writeFileSync(file, 'AKOSettings: [unclosed\n');
    await op.waitForLine(/the running settings are kept/, 10_000);
  });
});
