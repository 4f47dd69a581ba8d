// `template-cli` (helm template without Helm) as a user runs it: a real process, real files.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'dist/src/packaging/template-cli.js');
const chartDir = join(root, 'charts/portico-operator');
const tmp = mkdtempSync(join(tmpdir(), 'portico-tpl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
}

describe('template-cli', () => {
  it('prints the manifests of an AKO values file, CRDs included, with NOTES on stderr', () => {
    const r = run(chartDir, '-f', join(root, 'test/packaging/fixtures/ako-user-values.yaml'), '-n', 'lab', '--include-crds');
    assert.equal(r.status, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string } });
    assert.deepEqual([...new Set(docs.map((d) => d.kind))].sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'IngressClass', 'Role', 'RoleBinding', 'Secret', 'ServiceAccount', 'StatefulSet']);
    assert.equal(docs.find((d) => d.kind === 'StatefulSet')!.metadata.namespace, 'lab');
    assert.match(r.stdout, /^# Source: portico-operator\/templates\/statefulset\.yaml$/m);
    assert.match(r.stderr, /NOTES:/);
  });

  it('rejects bad values with the field named and exit status 1, never a stack trace', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'replicaCount: many\nAKOSetings: {}\n');
    const r = run(chartDir, '-f', bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /replicaCount: must be integer/);
    assert.match(r.stderr, /additional property "AKOSetings" is not allowed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

    writeFileSync(bad, '- just\n- a list\n');
    const list = run(chartDir, '-f', bad);
    assert.equal(list.status, 1);
    assert.match(list.stderr, /must be a mapping/);

    writeFileSync(bad, 'AKOSettings: {clusterName: [unclosed\n');
    const broken = run(chartDir, '-f', bad);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /bad\.yaml/);
    assert.doesNotMatch(broken.stderr, /\n\s+at /);

    const noChart = run(join(tmp, 'no-chart-here'));
    assert.equal(noChart.status, 1);
    assert.match(noChart.stderr, /no-chart-here\/Chart\.yaml: no such file/);
    assert.doesNotMatch(noChart.stderr, /\n\s+at /);

    const missing = run(chartDir, '-f', join(tmp, 'nope.yaml'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.yaml/);
  });

  it('keeps the password out of everything but the Secret', () => {
    const values = join(tmp, 'cred.yaml');
    writeFileSync(values, 'avicredentials:\n  username: admin\n  password: S3cret-Value\n');
    const r = run(chartDir, '-f', values);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('S3cret-Value') && !r.stderr.includes('S3cret-Value'), 'only base64 in the Secret');
    assert.ok(r.stdout.includes(Buffer.from('S3cret-Value').toString('base64')));
  });
});
