import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterNameProblem, defaultSettings, loadSettings, settingsFromValues } from '../../../src/operator/settings/values.js';

test('defaults are AKO chart defaults', () => {
  const s = defaultSettings();
  assert.equal(s.logLevel, 'WARN');
  assert.equal(s.fullSyncFrequency, 1800);
  assert.equal(s.apiServerPort, 8080);
  assert.equal(s.l7.shardVSSize, 'LARGE');
  assert.equal(s.l7.serviceType, 'ClusterIP');
  assert.equal(s.l7.defaultIngController, true);
  assert.equal(s.l7.shardScheme, 'hostname');
  assert.equal(s.l4.defaultLBController, true);
  assert.equal(s.l4.autoFQDN, 'default');
  assert.equal(s.controller.serviceEngineGroupName, 'Default-Group');
  assert.equal(s.controller.cloudName, 'Default-Cloud');
  assert.equal(s.controller.tenantName, 'admin');
});

test('a chart values file: strings as the configmap has them, JSON lists, unknown and unsupported keys reported', () => {
  const { settings: s, problems } = settingsFromValues({
    replicaCount: 2,
    image: { repository: 'x' },
    AKOSettings: { clusterName: 'k8s-1', logLevel: 'INFO', fullSyncFrequency: '60', deleteConfig: 'false', layer7Only: 'true', blockedNamespaceList: ['kube-system'], namespaceSelector: { labelKey: 'app', labelValue: 'web' }, istioEnabled: true, cniPlugin: '', typoKey: 1 },
    NetworkSettings: { vipNetworkList: '[{"networkName":"vip","cidr":"10.0.0.0/24"}]', defaultDomain: 'corp.local' },
    L7Settings: { shardVSSize: 'medium', serviceType: 'NodePort', L7ShardingScheme: 'namespace', passthroughShardSize: 'HUGE' },
    L4Settings: { defaultLBController: 'false', autoFQDN: 'flat' },
    ControllerSettings: { controllerHost: '10.1.1.1', tenantName: 'team', vrfName: 'blue' },
    nodePortSelector: { key: 'role', value: 'lb' },
    avicredentials: { username: 'admin', password: 'secret-pw' },
  });
  assert.equal(s.clusterName, 'k8s-1');
  assert.equal(s.logLevel, 'INFO');
  assert.equal(s.fullSyncFrequency, 60);
  assert.equal(s.layer7Only, true);
  assert.deepEqual(s.blockedNamespaceList, ['kube-system']);
  assert.deepEqual(s.network.vipNetworkList, [{ networkName: 'vip', cidr: '10.0.0.0/24' }]);
  assert.equal(s.l7.shardVSSize, 'MEDIUM');
  assert.equal(s.l7.serviceType, 'NodePort');
  assert.equal(s.l7.shardScheme, 'namespace');
  assert.equal(s.l4.defaultLBController, false);
  assert.equal(s.l4.autoFQDN, 'flat');
  assert.equal(s.controller.tenantName, 'team');
  assert.deepEqual(s.nodePortSelector, { key: 'role', value: 'lb' });
  assert.equal(s.credentials.password, 'secret-pw');
  const keys = problems.map((p) => p.key).sort();
  assert.deepEqual(keys, ['AKOSettings.istioEnabled', 'AKOSettings.typoKey', 'L7Settings.passthroughShardSize']);
  assert.ok(!JSON.stringify(problems).includes('secret-pw'), 'a password never appears in a problem');
});

test('older charts: NetworkSettings.networkName + subnetIP/subnetPrefix; L4Settings.defaultDomain as fallback', () => {
  const { settings: s, problems } = settingsFromValues({ NetworkSettings: { networkName: 'old-net', subnetIP: '10.9.0.0', subnetPrefix: '16' }, L4Settings: { defaultDomain: 'l4.local' } });
  assert.deepEqual(problems, []);
  assert.deepEqual(s.network.vipNetworkList, [{ networkName: 'old-net', cidr: '10.9.0.0/16' }]);
  assert.equal(s.network.defaultDomain, 'l4.local');
});

test('env overrides as AKO reads its configmap, and bad values named', () => {
  const { settings: s, problems } = settingsFromValues({ AKOSettings: { clusterName: 'a', apiServerPort: 'eighty' }, NetworkSettings: { vipNetworkList: [{ cidr: '1.2.3.0/24' }] } }, {
    CLUSTER_NAME: 'from-env', SHARD_VS_SIZE: 'SMALL', VIP_NETWORK_LIST: '[{"networkName":"envnet"}]', PORTICO_USERNAME: 'u', PORTICO_PASSWORD: 'p', POD_NAMESPACE: 'ako-ns',
  });
  assert.equal(s.clusterName, 'from-env');
  assert.equal(s.l7.shardVSSize, 'SMALL');
  assert.deepEqual(s.network.vipNetworkList, [{ networkName: 'envnet' }]);
  assert.deepEqual(s.credentials, { username: 'u', password: 'p' });
  assert.equal(s.akoNamespace, 'ako-ns');
  assert.deepEqual(problems.map((p) => p.key).sort(), ['AKOSettings.apiServerPort', 'NetworkSettings.vipNetworkList[0]']);
});

test('a values file that does not parse or does not exist is a problem, not a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-values-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), 'AKOSettings: [unclosed\n');
    const bad = loadSettings(join(dir, 'bad.yaml'), {});
    assert.match(bad.problems[0]!.message, /not valid YAML/);
    assert.equal(bad.settings.logLevel, 'WARN');
    const missing = loadSettings(join(dir, 'nope.yaml'), {});
    assert.match(missing.problems[0]!.message, /cannot read/);
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    assert.match(loadSettings(join(dir, 'list.yaml'), {}).problems[0]!.message, /mapping/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clusterName rules (§1.6)', () => {
  assert.equal(clusterNameProblem('good-name_1'), undefined);
  assert.match(clusterNameProblem('')!, /empty/);
  assert.match(clusterNameProblem('bad name')!, /letters, digits/);
  assert.match(clusterNameProblem('x'.repeat(33))!, /32/);
});

test('EVH: enableEVH and vipPerNamespace are applied (values and env); vipPerNamespace without EVH is reported and off', () => {
  const on = settingsFromValues({ AKOSettings: { enableEVH: true, vipPerNamespace: 'true' } });
  assert.deepEqual(on.problems, []);
  assert.equal(on.settings.enableEVH, true);
  assert.equal(on.settings.vipPerNamespace, true);
  const alone = settingsFromValues({ AKOSettings: { vipPerNamespace: 'true' } });
  assert.deepEqual(alone.problems.map((p) => p.key), ['AKOSettings.vipPerNamespace']);
  assert.equal(alone.settings.vipPerNamespace, false);
  const env = settingsFromValues(undefined, { ENABLE_EVH: 'true', VIP_PER_NAMESPACE: 'true' });
  assert.equal(env.settings.enableEVH, true);
  assert.equal(env.settings.vipPerNamespace, true);
});

test('AKOSettings.ipFamily: "" and V4 (what Portico does) are quiet; V6 and unknown values are reported (values and env IP_FAMILY)', () => {
  assert.deepEqual(settingsFromValues({ AKOSettings: { ipFamily: '' } }).problems, []);
  assert.deepEqual(settingsFromValues({ AKOSettings: { ipFamily: 'V4' } }).problems, []);
  assert.match(settingsFromValues({ AKOSettings: { ipFamily: 'V6' } }).problems[0]!.message, /V6 is not supported/);
  assert.match(settingsFromValues({ AKOSettings: { ipFamily: 'V5' } }).problems[0]!.message, /V4\|V6/);
  assert.match(settingsFromValues(undefined, { IP_FAMILY: 'V6' }).problems[0]!.message, /V6 is not supported/);
});

test('EVH: L7Settings.fqdnReusePolicy (values and env FQDN_REUSE_POLICY); Strict without EVH and unknown values are reported', () => {
  assert.equal(settingsFromValues(undefined).settings.l7.fqdnReusePolicy, 'InterNamespaceAllowed');
  const strict = settingsFromValues({ AKOSettings: { enableEVH: true }, L7Settings: { fqdnReusePolicy: 'Strict' } });
  assert.deepEqual(strict.problems, []);
  assert.equal(strict.settings.l7.fqdnReusePolicy, 'Strict');
  const sni = settingsFromValues({ L7Settings: { fqdnReusePolicy: 'Strict' } });
  assert.deepEqual(sni.problems.map((p) => p.key), ['L7Settings.fqdnReusePolicy']);
  assert.equal(sni.settings.l7.fqdnReusePolicy, 'InterNamespaceAllowed');
  const bad = settingsFromValues({ AKOSettings: { enableEVH: true }, L7Settings: { fqdnReusePolicy: 'Loose' } });
  assert.match(bad.problems[0]!.message, /InterNamespaceAllowed\|Strict/);
  assert.equal(bad.settings.l7.fqdnReusePolicy, 'InterNamespaceAllowed');
  const env = settingsFromValues(undefined, { ENABLE_EVH: 'true', FQDN_REUSE_POLICY: 'Strict' });
  assert.equal(env.settings.l7.fqdnReusePolicy, 'Strict');
});
