// The manifest-folder provider on a real temp folder: multi-document files, conversions, bad files,
// and live edits (including editors' write-to-temp-then-rename), each visible within 2 s.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManifestProvider } from '../../../src/operator/source/manifests.js';
import type { ClusterSnapshot, SnapshotProvider, SourceProblem } from '../../../src/operator/source/types.js';
import { waitFor } from '../../support/kube-api-double/wait.js';

const APP = `# the AKO docs' style: several documents, old Ingress API
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Endpoints
metadata:
  name: web
subsets:
- addresses:
  - ip: 10.0.0.1
    nodeName: node-1
  - ip: fd00::1
  notReadyAddresses:
  - ip: 10.0.0.2
  ports:
  - name: http
    port: 8080
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata:
  name: shop
  namespace: shop
spec:
  backend:
    serviceName: web
    servicePort: 80
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /cart
        backend:
          serviceName: cart
          servicePort: http
---
apiVersion: v1
kind: Secret
metadata:
  name: shop-tls
  namespace: shop
type: kubernetes.io/tls
stringData:
  tls.crt: CERT
data:
  tls.key: a2V5
---
apiVersion: ako.vmware.com/v1beta1
kind: HostRule
metadata:
  name: shop
  namespace: shop
spec:
  virtualhost:
    fqdn: shop.example.com
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ignored
---
`;

const BAD = `apiVersion: v1
kind: Service
metadata:
  name: broken
  labels: {a: [
---
apiVersion: v1
kind: Service
metadata:
  name: fine-after-broken
`;

describe('manifest provider', () => {
  let dir: string;
  let provider: SnapshotProvider;
  let latest: ClusterSnapshot | undefined;
  let problems: SourceProblem[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
    writeFileSync(join(dir, 'app.yaml'), APP);
    writeFileSync(join(dir, 'bad.yaml'), BAD);
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    writeFileSync(join(dir, 'calico.yaml'), 'apiVersion: crd.projectcalico.org/v1\nkind: BlockAffinity\nmetadata: {name: node-1-192-168-1-0-26, namespace: ignored}\nspec: {node: node-1, cidr: 192.168.1.0/26, state: confirmed, deleted: "false"}\n');
    provider = createManifestProvider(dir, { debounceMs: 20 });
    await provider.start((s, p) => { latest = s; problems = p; });
  });

  after(async () => {
    await provider?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every document of a file, with namespace "default" when none is given', () => {
    assert.ok(latest);
    assert.ok(latest.services.has('default/web'));
    assert.equal(latest.services.get('default/web')?.metadata?.uid?.length, 36);
    assert.ok(latest.secrets.has('shop/shop-tls'));
    assert.deepEqual([...latest.custom.get('HostRule')!.keys()], ['shop/shop']);
    assert.equal(latest.custom.get('L4Rule')?.size, 0, 'CRD kinds are present, empty');
  });

  it('takes the CNI\'s Pod CIDR objects (Calico BlockAffinity), cluster-scoped, for static routes', () => {
    const blocks = latest!.custom.get('BlockAffinity');
    assert.deepEqual([...(blocks?.keys() ?? [])], ['node-1-192-168-1-0-26']);
    assert.equal((blocks?.get('node-1-192-168-1-0-26') as { spec?: { cidr?: string } } | undefined)?.spec?.cidr, '192.168.1.0/26');
  });

  it('converts Endpoints to EndpointSlices per address family, with readiness', () => {
    const v4 = latest!.endpointSlices.get('default/web-0');
    const v6 = latest!.endpointSlices.get('default/web-0-ipv6');
    assert.equal(v4?.addressType, 'IPv4');
    assert.equal(v4?.metadata?.labels?.['kubernetes.io/service-name'], 'web');
    assert.deepEqual(v4?.endpoints.map((e) => [e.addresses[0], e.conditions?.ready, e.nodeName]), [['10.0.0.1', true, 'node-1'], ['10.0.0.2', false, undefined]]);
    assert.deepEqual(v4?.ports, [{ name: 'http', port: 8080, protocol: 'TCP', appProtocol: undefined }]);
    assert.deepEqual(v6?.endpoints.map((e) => e.addresses[0]), ['fd00::1']);
  });

  it('converts networking.k8s.io/v1beta1 Ingress to v1', () => {
    const ing = latest!.ingresses.get('shop/shop');
    assert.equal(ing?.apiVersion, 'networking.k8s.io/v1');
    assert.deepEqual(ing?.spec?.defaultBackend, { service: { name: 'web', port: { number: 80 } } });
    const path = ing?.spec?.rules?.[0].http?.paths[0];
    assert.deepEqual(path, { path: '/cart', pathType: 'ImplementationSpecific', backend: { service: { name: 'cart', port: { name: 'http' } } } });
    assert.deepEqual(ing?.spec?.tls, [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }]);
  });

  it('folds Secret stringData into base64 data', () => {
    assert.deepEqual(latest!.secrets.get('shop/shop-tls')?.data, { 'tls.key': 'a2V5', 'tls.crt': Buffer.from('CERT').toString('base64') });
    assert.equal((latest!.secrets.get('shop/shop-tls') as Record<string, unknown>).stringData, undefined);
  });

  it('adds namespaces that are used but not declared, and the default avi-lb IngressClass', () => {
    assert.deepEqual([...latest!.namespaces.keys()].sort(), ['default', 'shop']);
    const cls = latest!.ingressClasses.get('avi-lb');
    assert.equal(cls?.spec?.controller, 'ako.vmware.com/avi-lb');
    assert.equal(cls?.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  it('reports a file that does not parse with file and line, and keeps its good documents', () => {
    const p = problems.find((x) => x.where.startsWith('bad.yaml:'));
    assert.ok(p, JSON.stringify(problems));
    assert.match(p.where, /^bad\.yaml:[56]$/);
    assert.match(p.message, /does not parse/);
    assert.ok(latest!.services.has('default/fine-after-broken'));
    assert.ok(!latest!.services.has('default/broken'));
  });

  it('sees a new file in a subfolder, an edit by rename, and a delete, each within 2 s', async () => {
    mkdirSync(join(dir, 'team'));
    writeFileSync(join(dir, 'team', 'api.yml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: team}\nspec: {type: LoadBalancer}\n');
    await waitFor('the new file', () => latest?.services.has('team/api'), 2000);
    assert.ok(latest!.namespaces.has('team'));
    const rvBefore = latest!.services.get('team/api')?.metadata?.resourceVersion;
    const created = latest!.services.get('team/api')?.metadata?.creationTimestamp;
    // An editor's save: write a temp file next to it, then rename over the original.
    writeFileSync(join(dir, 'team', '.api.yml.swp'), 'junk');
    writeFileSync(join(dir, 'team', 'api.yml.tmp'), 'apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: team, labels: {v: "2"}}\nspec: {type: LoadBalancer}\n');
    renameSync(join(dir, 'team', 'api.yml.tmp'), join(dir, 'team', 'api.yml'));
    await waitFor('the edit', () => latest?.services.get('team/api')?.metadata?.labels?.v === '2', 2000);
    assert.notEqual(latest!.services.get('team/api')?.metadata?.resourceVersion, rvBefore);
    assert.deepEqual(latest!.services.get('team/api')?.metadata?.creationTimestamp, created, 'an edit keeps the creation time');
    unlinkSync(join(dir, 'team', 'api.yml'));
    await waitFor("the delete", () => !latest?.services.has("team/api") && !latest?.namespaces.has("team"), 2000);
  });

  it('repairs: fixing the bad file brings its objects and clears the problem', async () => {
    writeFileSync(join(dir, 'bad.yaml'), BAD.replace('labels: {a: [', 'labels: {a: "1"}'));
    await waitFor('the fixed file', () => latest?.services.has('default/broken') && !problems.some((p) => p.where.startsWith('bad.yaml')), 2000);
  });

  it('reports a duplicate definition and a wrong apiVersion, keeping the first definition', async () => {
    writeFileSync(join(dir, 'dup.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {dup: "yes"}}\n---\napiVersion: apps/v1\nkind: Ingress\nmetadata: {name: x}\n---\nkind: Service\nmetadata: {name: y}\n');
    await waitFor('the problems', () => problems.some((p) => p.where === 'dup.yaml:1' && /also defined at app\.yaml:2/.test(p.message))
      && problems.some((p) => p.where === 'dup.yaml:5' && /apiVersion apps\/v1 is not supported/.test(p.message))
      && problems.some((p) => p.where === 'dup.yaml:9' && /apiVersion is missing/.test(p.message)), 2000);
    assert.equal(latest!.services.get('default/web')?.metadata?.labels?.dup, undefined);
    unlinkSync(join(dir, 'dup.yaml'));
    await waitFor('the problems gone', () => !problems.some((p) => p.where.startsWith('dup.yaml')), 2000);
  });
});

describe('manifest provider: IngressClass avi-lb', () => {
  it('keeps the folder\'s own avi-lb, and is not the default class when defaultIngController is false', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
    const own = createManifestProvider(dir, { debounceMs: 20 });
    const notDefault = createManifestProvider(dir, { debounceMs: 20, defaultIngController: false });
    try {
      let a: ClusterSnapshot | undefined;
      let b: ClusterSnapshot | undefined;
      await notDefault.start((s) => { b = s; });
      assert.equal(b?.ingressClasses.get('avi-lb')?.metadata?.annotations, undefined);
      writeFileSync(join(dir, 'class.yaml'), 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: avi-lb}\nspec: {controller: example.com/other}\n');
      await own.start((s) => { a = s; });
      assert.equal(a?.ingressClasses.get('avi-lb')?.spec?.controller, 'example.com/other');
    } finally {
      await own.stop();
      await notDefault.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows a ConfigMap-mounted folder, whose update swaps a ..data symlink', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
    const svcYaml = (v: string): string => `apiVersion: v1\nkind: Service\nmetadata: {name: cm, labels: {v: "${v}"}}\n`;
    mkdirSync(join(dir, '..2024_01'));
    writeFileSync(join(dir, '..2024_01', 'app.yaml'), svcYaml('1'));
    symlinkSync('..2024_01', join(dir, '..data'));
    symlinkSync(join('..data', 'app.yaml'), join(dir, 'app.yaml'));
    const p = createManifestProvider(dir, { debounceMs: 20 });
    try {
      let snap: ClusterSnapshot | undefined;
      await p.start((s) => { snap = s; });
      assert.equal(snap?.services.get('default/cm')?.metadata?.labels?.v, '1');
      assert.equal(snap?.services.size, 1, 'the ..-prefixed folders are not read twice');
      // What the kubelet does on a ConfigMap update.
      mkdirSync(join(dir, '..2024_02'));
      writeFileSync(join(dir, '..2024_02', 'app.yaml'), svcYaml('2'));
      symlinkSync('..2024_02', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, '..2024_01'), { recursive: true });
      await waitFor('the swapped content', () => snap?.services.get('default/cm')?.metadata?.labels?.v === '2', 2000);
    } finally {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps serving the last objects when the folder goes away, and reports it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
    const dir = join(parent, 'm');
    mkdirSync(dir);
    writeFileSync(join(dir, 's.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: kept}\n');
    const p = createManifestProvider(dir, { debounceMs: 20, pollMs: 100 });
    try {
      let snap: ClusterSnapshot | undefined;
      let probs: SourceProblem[] = [];
      await p.start((s, pr) => { snap = s; probs = pr; });
      renameSync(dir, join(parent, 'moved'));
      await waitFor('the folder problem', () => probs.some((x) => /serving what was read before/.test(x.message)), 3000);
      assert.ok(snap?.services.has('default/kept'));
    } finally {
      await p.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('reports a missing folder and picks it up once it appears', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'portico-manifests-'));
    const dir = join(parent, 'later');
    const p = createManifestProvider(dir, { debounceMs: 20, pollMs: 100 });
    try {
      let snap: ClusterSnapshot | undefined;
      let probs: SourceProblem[] = [];
      await p.start((s, pr) => { snap = s; probs = pr; });
      assert.match(probs[0]?.message ?? '', /cannot read the manifest folder \(ENOENT\)/);
      mkdirSync(dir);
      writeFileSync(join(dir, 's.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: late}\n');
      await waitFor('the folder read', () => snap?.services.has('default/late') && probs.length === 0, 3000);
    } finally {
      await p.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
