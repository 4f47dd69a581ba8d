// The Kubernetes provider against the API double, through a kubeconfig file, as against a cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesProvider } from '../../../src/operator/source/kubernetes.js';
import type { ClusterSnapshot, SnapshotProvider, SourceProblem } from '../../../src/operator/source/types.js';
import { akoCrd, KubeApiDouble } from '../../support/kube-api-double/index.js';
import { waitFor } from '../../support/kube-api-double/wait.js';

function service(name: string, namespace = 'default', labels: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: name } },
  };
}

describe('Kubernetes provider (against the API double)', () => {
  let double: KubeApiDouble;
  let provider: SnapshotProvider;
  let latest: ClusterSnapshot | undefined;
  let latestProblems: SourceProblem[] = [];
  const problemsSeen = new Set<string>();
  let snapshots = 0;

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.31.1.1' });
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    double.create(service('web'));
    double.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb' }, spec: { controller: 'ako.vmware.com/avi-lb' } });
    double.create({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop', namespace: 'shop' },
      spec: { ingressClassName: 'avi-lb', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'shop' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } });
    double.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '10.1.0.1' }] } });
    provider = createKubernetesProvider({ kubeconfig: double.writeKubeconfig(), debounceMs: 10, crdDiscoveryMs: 100, retryMinMs: 20, retryMaxMs: 200 });
    await provider.start((s, p) => {
      latest = s;
      latestProblems = p;
      for (const x of p) problemsSeen.add(x.where);
      snapshots++;
    });
  });

  after(async () => {
    await provider?.stop();
    await double?.stop();
  });

  it('delivers the initial list of every kind, with CRD kinds empty while the CRDs are absent', () => {
    assert.ok(latest, 'start resolves after the first snapshot');
    assert.deepEqual([...latest.services.keys()], ['default/web']);
    assert.deepEqual([...latest.endpointSlices.keys()], ['default/web-abc']);
    assert.deepEqual([...latest.ingresses.keys()], ['shop/shop']);
    assert.deepEqual([...latest.ingressClasses.keys()], ['avi-lb']);
    assert.deepEqual([...latest.secrets.keys()], ['shop/tls']);
    assert.deepEqual([...latest.namespaces.keys()].sort(), ['default', 'shop']);
    assert.deepEqual([...latest.nodes.keys()], ['node-1']);
    assert.equal(latest.custom.get('HostRule')?.size, 0);
    assert.equal(latest.ingresses.get('shop/shop')?.spec?.rules?.[0].host, 'shop.example.com');
    assert.deepEqual(latestProblems, []);
  });

  it('follows adds, updates and deletes', async () => {
    double.create(service('api', 'shop'));
    await waitFor('the added service', () => latest?.services.has('shop/api'));
    assert.ok(latest!.services.get('shop/api')?.metadata?.creationTimestamp instanceof Date, 'watched objects carry Dates, as listed ones');
    assert.ok(latest!.services.get('default/web')?.metadata?.creationTimestamp instanceof Date);
    double.patch('v1', 'Service', 'api', 'shop', { metadata: { labels: { tier: 'backend' } } });
    await waitFor('the label change', () => latest?.services.get('shop/api')?.metadata?.labels?.tier === 'backend');
    double.delete('v1', 'Service', 'api', 'shop');
    await waitFor('the deletion', () => !latest?.services.has('shop/api'));
  });

  it('re-watches when the server drops the streams', async () => {
    await waitFor('a services watch', () => double.watchCount('services') === 1);
    double.dropWatches();
    double.create(service('after-drop'));
    await waitFor('the service created while the watch was down', () => latest?.services.has('default/after-drop'));
    await waitFor('the services watch again', () => double.watchCount('services') === 1);
  });

  it('relists after 410 Gone (expired resourceVersion) and sees deletions made meanwhile', async () => {
    await waitFor('a services watch', () => double.watchCount('services') === 1);
    const listsBefore = double.requests.filter((r) => r === 'GET /api/v1/services').length;
    double.dropWatches();
    double.delete('v1', 'Service', 'after-drop', 'default');
    double.create(service('after-compact'));
    double.compact();
    await waitFor('the relisted state', () => latest?.services.has('default/after-compact') && !latest.services.has('default/after-drop'));
    const listsAfter = double.requests.filter((r) => r === 'GET /api/v1/services').length;
    assert.ok(listsAfter > listsBefore, 'the provider listed again');
  });

  it('recovers when the API answers errors for a while, and reports the problem meanwhile', async () => {
    double.failNext({ path: '/api/v1/services', code: 500, count: 3 });
    await waitFor('a services watch', () => double.watchCount('services') === 1);
    double.dropWatches();
    await waitFor('the problem reported', () => problemsSeen.has('Service (list/watch)'));
    await waitFor('the problem cleared once the watch is back, with no event needed', () => latestProblems.length === 0);
    double.create(service('after-outage'));
    await waitFor('the service created after the outage', () => latest?.services.has('default/after-outage'));
  });

  it('picks up ako.vmware.com CRDs installed later, and their objects', async () => {
    double.create(akoCrd('HostRule'));
    double.create({
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'multiclusteringresses.ako.vmware.com' },
      spec: { group: 'ako.vmware.com', scope: 'Namespaced', names: { kind: 'MultiClusterIngress', plural: 'multiclusteringresses' }, versions: [{ name: 'v1alpha1', served: true, storage: true }] },
    });
    await waitFor('the HostRule watch', () => double.watchCount('hostrules') === 1);
    assert.equal(double.watchCount('multiclusteringresses'), 0, 'kinds of the group the operator does not read are not watched');
    double.create({ apiVersion: 'ako.vmware.com/v1beta1', kind: 'HostRule', metadata: { name: 'hr', namespace: 'shop' }, spec: { virtualhost: { fqdn: 'shop.example.com' } } });
    await waitFor('the HostRule in the snapshot', () => latest?.custom.get('HostRule')?.has('shop/hr'));
    assert.equal(latest?.custom.get('HostRule')?.get('shop/hr')?.spec?.virtualhost !== undefined, true);
    double.delete('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'hostrules.ako.vmware.com');
    await waitFor('the HostRule gone with its CRD', () => latest?.custom.get('HostRule')?.size === 0);
    assert.ok(snapshots > 1);
  });
});

describe('Kubernetes provider: start-up conditions', () => {
  it('waits through API errors at start, and a CRD it may not list does not hold back the first snapshot', async () => {
    const double = await KubeApiDouble.start({ host: '127.31.1.2' });
    const provider = createKubernetesProvider({ kubeConfig: double.kubeConfig(), debounceMs: 10, crdDiscoveryMs: 0, retryMinMs: 20, retryMaxMs: 100, resyncMs: 100 });
    try {
      double.create(akoCrd('HostRule'));
      double.create(service('early'));
      double.failNext({ path: '/api/v1/services', code: 503, count: 2 });
      double.failNext({ path: '/apis/ako.vmware.com/v1beta1/hostrules', code: 403, count: Infinity });
      let latest: ClusterSnapshot | undefined;
      let problems: SourceProblem[] = [];
      let count = 0;
      await provider.start((s, p) => { latest = s; problems = p; count++; });
      assert.ok(latest?.services.has('default/early'), 'the services list succeeded after the errors');
      assert.deepEqual(problems.map((p) => p.where), ['HostRule (list/watch)']);
      assert.match(problems[0].message, /403/);
      assert.equal(latest?.custom.get('HostRule')?.size, 0);
      const after = count;
      await waitFor('a resync delivering the snapshot again', () => count >= after + 2);
    } finally {
      await provider.stop();
      await double.stop();
    }
  });

  it('restarts idle watches from their resourceVersion (no relist), quietly', async () => {
    const double = await KubeApiDouble.start({ host: '127.31.1.3' });
    const provider = createKubernetesProvider({ kubeConfig: double.kubeConfig(), debounceMs: 10, crdDiscoveryMs: 0, rewatchMs: 50 });
    try {
      let latest: ClusterSnapshot | undefined;
      let problems: SourceProblem[] = [];
      await provider.start((s, p) => { latest = s; problems = p; });
      const watches = (): number => double.requests.filter((r) => r === 'GET /api/v1/services (watch)').length;
      await waitFor('several re-watches', () => watches() >= 4);
      double.create(service('late'));
      await waitFor('the change through a restarted watch', () => latest?.services.has('default/late'));
      assert.equal(double.requests.filter((r) => r === 'GET /api/v1/services').length, 1, 'listed once');
      assert.deepEqual(problems, []);
      await waitFor('one open services watch', () => double.watchCount('services') === 1);
    } finally {
      await provider.stop();
      await double.stop();
    }
  });

  it('names the problem with --kubeconfig and --in-cluster', async () => {
    const { loadKubeConfig } = await import('../../../src/operator/source/kubernetes.js');
    assert.throws(() => loadKubeConfig({ kubeconfig: '/nonexistent/kubeconfig' }), /--kubeconfig \/nonexistent\/kubeconfig/);
    assert.throws(() => loadKubeConfig({ kubeconfig: 'x', inCluster: true }), /exclude each other/);
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      assert.throws(() => loadKubeConfig({ inCluster: true }), /--in-cluster: KUBERNETES_SERVICE_HOST is not set/);
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
  });
});
