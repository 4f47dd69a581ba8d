// The chart's contract with the operator it runs: the command line of the StatefulSet is one the
// `portico operator` CLI accepts, and the values file it mounts is one the operator understands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadChart, renderChart, type Values } from '../../src/packaging/chart.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const chart = loadChart(join(root, 'charts/portico-operator'));
const akoUser = parseYaml(readFileSync(join(root, 'test/packaging/fixtures/ako-user-values.yaml'), 'utf8')) as Values;
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rendered(values: Values) {
  const r = renderChart(chart, { values: [values] });
  const cm = r.docs.find((d) => d.object.kind === 'ConfigMap')!.object as Obj;
  const sts = r.docs.find((d) => d.object.kind === 'StatefulSet')!.object as Obj;
  return { valuesFile: cm.data['values.yaml'] as string, container: sts.spec.template.spec.containers[0] as Obj };
}

describe('chart ↔ operator', () => {
  for (const [name, values] of [['default values', {}], ['an AKO user\'s values', akoUser], ['HA', { replicaCount: 2 }]] as const) {
    it(`the mounted values file is understood by the operator (${name})`, () => {
      const { valuesFile } = rendered(values as Values);
      const { settings, problems } = settingsFromValues(parseYaml(valuesFile), { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: 'pw', POD_NAMESPACE: 'avi-system' });
      assert.deepEqual(problems.filter((p) => /unknown key/.test(p.message)), [], 'every key the chart writes is known to the operator');
      const want = ((values as Values).AKOSettings as Obj | undefined)?.clusterName ?? 'my-cluster';
      assert.equal(settings.clusterName, want);
      assert.equal(settings.credentials.username, 'admin');
    });
  }

  for (const [name, values] of [['one replica', akoUser], ['HA, with --leader-election', { ...akoUser, replicaCount: 2 }]] as const) it(`the container command line is accepted by \`portico operator\` (${name})`, () => {
    const { container, valuesFile } = rendered(values as Values);
    const dir = mkdtempSync(join(tmpdir(), 'portico-contract-'));
    try {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, valuesFile);
      const args = (container.args as string[]).map((a) => (a === '/etc/portico/values.yaml' ? file : a));
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: 'pw', POD_NAME: 'ako-0', POD_NAMESPACE: 'avi-system' };
      const r = spawnSync(process.execPath, [join(root, 'bin/portico.js'), ...args], { encoding: 'utf8', env, timeout: 30_000 });
      // Outside a pod, --in-cluster stops at the service host: every flag before it was accepted.
      assert.notEqual(r.status, 0, r.stderr);
      assert.match(r.stderr, /KUBERNETES_SERVICE_HOST/);
      assert.doesNotMatch(r.stderr, /unknown option|error: option/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
