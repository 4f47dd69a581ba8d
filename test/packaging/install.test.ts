// Installs the chart's output into the Kubernetes API double through client-node, as Helm would
// (CRDs first, then the objects of kinds the double serves), and uses the CRDs: every kind and
// version is served, status goes through the status subresource, AviInfraSetting is cluster-scoped.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { waitFor } from '../support/kube-api-double/wait.js';
import { loadChart, renderChart } from '../../src/packaging/chart.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SERVED_BY_DOUBLE = new Set(['CustomResourceDefinition', 'ConfigMap', 'Secret', 'IngressClass']);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('installing the chart (Kubernetes API double)', () => {
  let double: KubeApiDouble;
  let objects: KubernetesObjectApi;
  let custom: CustomObjectsApi;

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.60.10.1' });
    const kc = double.kubeConfig();
    objects = KubernetesObjectApi.makeApiClient(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    const r = renderChart(loadChart(join(root, 'charts/portico-operator')), {
      includeCrds: true, namespace: 'avi-system', values: [{ avicredentials: { username: 'admin', password: 'pw' } }],
    });
    const docs = r.docs.map((d) => d.object as unknown as KubernetesObject).filter((o) => SERVED_BY_DOUBLE.has(o.kind!));
    for (const crd of docs.filter((o) => o.kind === 'CustomResourceDefinition')) await objects.create(crd);
    await waitFor('CRDs established', async () => {
      const list = await objects.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
      return list.items.length === 4 && list.items.every((c) => ((c as Obj).status?.conditions ?? []).some((x: Obj) => x.type === 'Established' && x.status === 'True'));
    });
    for (const o of docs.filter((x) => x.kind !== 'CustomResourceDefinition')) await objects.create(o);
  });

  after(async () => { await double?.stop(); });

  it('creates the configmap, the secret and the IngressClass the operator reads', async () => {
    const cm = (await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'avi-k8s-config', namespace: 'avi-system' } })) as Obj;
    assert.equal(cm.data.clusterName, 'my-cluster');
    const secret = (await objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'avi-secret', namespace: 'avi-system' } })) as Obj;
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 'pw');
    const ic = (await objects.read({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb' } })) as Obj;
    assert.equal(ic.spec.controller, 'ako.vmware.com/avi-lb');
  });

  it('serves every CRD kind in every version, with a status subresource', async () => {
    const cases: Array<[string, string, string | undefined, Obj]> = [
      ['v1beta1', 'hostrules', 'red', { virtualhost: { fqdn: 'foo.lab.example.com', fqdnType: 'Exact', tls: { sslKeyCertificate: { name: 'cert', type: 'ref' } } } }],
      ['v1alpha1', 'hostrules', 'red', { virtualhost: { fqdn: 'old.lab.example.com' } }],
      ['v1beta1', 'httprules', 'red', { fqdn: 'foo.lab.example.com', paths: [{ target: '/', loadBalancerPolicy: { algorithm: 'LB_ALGORITHM_ROUND_ROBIN' } }] }],
      ['v1beta1', 'aviinfrasettings', undefined, { seGroup: { name: 'Default-Group' }, l7Settings: { shardSize: 'SMALL' } }],
      ['v1alpha2', 'l4rules', 'red', { loadBalancerIP: '10.10.30.150', backendProperties: [{ port: 80, protocol: 'TCP', lbAlgorithm: 'LB_ALGORITHM_ROUND_ROBIN' }] }],
    ];
    for (const [version, plural, namespace, spec] of cases) {
      const name = `${plural}-${version}`;
      const kind = { hostrules: 'HostRule', httprules: 'HTTPRule', aviinfrasettings: 'AviInfraSetting', l4rules: 'L4Rule' }[plural]!;
      const body = { apiVersion: `ako.vmware.com/${version}`, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec };
      const group = 'ako.vmware.com';
      if (namespace) await custom.createNamespacedCustomObject({ group, version, namespace, plural, body });
      else await custom.createClusterCustomObject({ group, version, plural, body });
      // client-node sends a JSON patch (application/json-patch+json) by default
      const status = [{ op: 'add', path: '/status', value: { status: 'Rejected', error: 'seGroup "x" not found on the controller' } }];
      const patched = (namespace
        ? await custom.patchNamespacedCustomObjectStatus({ group, version, namespace, plural, name, body: status })
        : await custom.patchClusterCustomObjectStatus({ group, version, plural, name, body: status })) as Obj;
      assert.equal(patched.status.status, 'Rejected', `${kind} ${version}`);
      assert.deepEqual(patched.spec, spec, `${kind} ${version}: a status write keeps the spec`);
    }
  });
});
