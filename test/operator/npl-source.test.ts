// NodePortLocal inputs: the values key, the live-reload rule, pod summaries (readiness, named
// ports, only the NPL annotation kept), Antrea's annotation parser, and Pods from a manifest folder
// (read only in NodePortLocal mode).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { applyLiveSettings } from '../../src/operator/settings/reload.js';
import { summarizePod, summarizeWatchedPod } from '../../src/operator/source/pods.js';
import { parseNplAnnotation } from '../../src/operator/translate/npl.js';
import { createManifestProvider } from '../../src/operator/source/manifests.js';
import type { ClusterSnapshot } from '../../src/operator/source/types.js';

describe('NodePortLocal settings', () => {
  it('accepts L7Settings.serviceType NodePortLocal without a problem', () => {
    const { settings, problems } = settingsFromValues({ L7Settings: { serviceType: 'NodePortLocal' } }, {});
    assert.equal(settings.l7.serviceType, 'NodePortLocal');
    assert.deepEqual(problems.filter((p) => p.key.includes('serviceType')), []);
  });

  it('needs a restart to switch to or from NodePortLocal (the Pod informer is chosen at start); ClusterIP ↔ NodePort stays live', () => {
    const running = settingsFromValues({ L7Settings: { serviceType: 'ClusterIP' } }, {}).settings;
    const r = applyLiveSettings(running, settingsFromValues({ L7Settings: { serviceType: 'NodePortLocal' } }, {}).settings);
    assert.deepEqual(r.restart, ['L7Settings.serviceType']);
    assert.equal(running.l7.serviceType, 'ClusterIP');
    const live = applyLiveSettings(running, settingsFromValues({ L7Settings: { serviceType: 'NodePort' } }, {}).settings);
    assert.deepEqual(live.applied, ['L7Settings.serviceType']);
    assert.equal(running.l7.serviceType, 'NodePort');
  });
});

describe('pod summaries', () => {
  const pod = (status: unknown, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', resourceVersion: '7', labels: { app: 'x' }, annotations: { 'nodeportlocal.antrea.io': '[]', other: 'big', 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(1000) }, managedFields: [{}], ...extra },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9000 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
    ...(status === undefined ? {} : { status }),
  });

  it('keeps name, labels, the NPL annotation only, readiness and named ports', () => {
    const s = summarizePod(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }));
    assert.deepEqual(s, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', resourceVersion: '7', labels: { app: 'x' }, annotations: { 'nodeportlocal.antrea.io': '[]' } },
      ready: true, namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
    });
  });

  it('readiness: the Ready condition; a pending or terminating pod is not ready; a manifest pod without status is', () => {
    assert.equal(summarizePod(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] })).ready, false);
    assert.equal(summarizePod(pod({ phase: 'Pending', conditions: [] })).ready, false);
    assert.equal(summarizePod(pod({ phase: 'Pending' })).ready, false);
    assert.equal(summarizePod(pod({ phase: 'Running' })).ready, true);
    assert.equal(summarizePod(pod(undefined)).ready, true);
    assert.equal(summarizePod(pod({ conditions: [{ type: 'Ready', status: 'True' }] }, { deletionTimestamp: '2026-01-01T00:00:00Z' })).ready, false);
  });

  it('a watched pod: the informer copy keeps only what its cache reads', () => {
    const p = pod({ phase: 'Running' }) as Record<string, any>;
    const s = summarizeWatchedPod(p);
    assert.equal(s.metadata.annotations?.['nodeportlocal.antrea.io'], '[]');
    assert.equal(p.spec, undefined);
    assert.equal(p.status, undefined);
    assert.equal(p.metadata.annotations, undefined);
    assert.equal(p.metadata.managedFields, undefined);
    assert.deepEqual([p.metadata.name, p.metadata.namespace, p.metadata.resourceVersion], ['p', 'ns', '7']);
  });

  it('bad shapes do not throw', () => {
    assert.equal(summarizePod({}).metadata.name, '');
    assert.equal(summarizePod({ metadata: 'x', spec: { containers: 'no' }, status: 7 }).ready, true);
  });
});

describe("Antrea's annotation", () => {
  it('reads current and older formats', () => {
    assert.deepEqual(parseNplAnnotation('[{"podPort":8080,"nodeIP":"10.10.10.1","nodePort":61001,"protocol":"tcp","protocols":["tcp"]}]'),
      [{ podPort: 8080, nodeIP: '10.10.10.1', nodePort: 61001, protocols: ['tcp'] }]);
    assert.deepEqual(parseNplAnnotation('[{"podPort":53,"nodeIP":"fd00::1","nodePort":61002,"protocols":["UDP","tcp"]}]'),
      [{ podPort: 53, nodeIP: 'fd00::1', nodePort: 61002, protocols: ['udp', 'tcp'] }]);
    assert.deepEqual(parseNplAnnotation('[{"podPort":80,"nodeIP":"10.0.0.1","nodePort":61003}]'),
      [{ podPort: 80, nodeIP: '10.0.0.1', nodePort: 61003, protocols: ['tcp'] }]);
    assert.deepEqual(parseNplAnnotation('[]'), []);
  });

  it('says what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['{"podPort":1}', /not a JSON array/],
      ['[7]', /entry 0 is not an object/],
      ['[{"podPort":"8080","nodeIP":"10.0.0.1","nodePort":61000}]', /entry 0: podPort/],
      ['[{"podPort":8080,"nodeIP":"10.0.0.1","nodePort":70000}]', /entry 0: nodePort/],
      ['[{"podPort":8080,"nodeIP":"node-1","nodePort":61000}]', /entry 0: nodeIP/],
      ['[{"podPort":8080,"nodeIP":"10.0.0.1","nodePort":61000,"protocols":[6]}]', /entry 0: protocols/],
    ];
    for (const [text, want] of cases) {
      const r = parseNplAnnotation(text);
      assert.ok(!Array.isArray(r), text);
      assert.match(r.error, want, text);
    }
  });
});

describe('Pods from a manifest folder', () => {
  const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web}
  annotations:
    nodeportlocal.antrea.io: '[{"podPort":8080,"nodeIP":"10.10.10.1","nodePort":61001,"protocol":"tcp"}]'
spec:
  containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]
`;

  async function firstSnapshot(pods: boolean): Promise<ClusterSnapshot> {
    const dir = mkdtempSync(join(tmpdir(), 'portico-npl-'));
    writeFileSync(join(dir, 'pod.yaml'), POD);
    let got: ClusterSnapshot | undefined;
    const provider = createManifestProvider(dir, { pods, pollMs: 60_000 });
    try {
      await provider.start((s) => { got = s; });
      return got!;
    } finally {
      await provider.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('are read, summarised, in NodePortLocal mode', async () => {
    const s = await firstSnapshot(true);
    const p = s.pods.get('default/web-1');
    assert.ok(p);
    assert.equal(p.ready, true);
    assert.deepEqual(p.namedPorts, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.match(p.metadata.annotations!['nodeportlocal.antrea.io']!, /61001/);
    assert.equal((p as unknown as Record<string, unknown>).spec, undefined);
  });

  it('are left out otherwise', async () => {
    assert.equal((await firstSnapshot(false)).pods.size, 0);
  });
});
