// The API double itself: what client-node and raw HTTP clients see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ApisApi, CoreV1Api, KubernetesObjectApi, Watch, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { akoCrds, KubeApiDouble } from './index.js';
import { waitFor } from './wait.js';

type Json = Record<string, any>;

describe('Kubernetes API double', () => {
  let double: KubeApiDouble;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Json }> => {
    const res = await fetch(double.url + path, { method, headers: body === undefined ? {} : { 'content-type': contentType }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: await res.json() as Json };
  };

  before(async () => { double = await KubeApiDouble.start({ host: '127.31.4.1', maxHistory: 50 }); });
  after(async () => { await double?.stop(); });

  it('serves discovery that client-node understands, CRDs included', async () => {
    const kc = double.kubeConfig();
    for (const crd of akoCrds()) double.create(crd);
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    for (const g of ['networking.k8s.io', 'discovery.k8s.io', 'coordination.k8s.io', 'apiextensions.k8s.io', 'ako.vmware.com']) assert.ok(names.includes(g), g);
    const core = await kc.makeApiClient(CoreV1Api).getAPIResources();
    assert.ok(core.resources.some((r) => r.name === 'services/status'));
    // KubernetesObjectApi resolves kinds through discovery.
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create({ apiVersion: 'ako.vmware.com/v1alpha2', kind: 'L4Rule', metadata: { name: 'r', namespace: 'default' }, spec: { loadBalancerIP: '10.0.0.1' } } as never);
    const read = await objects.read({ apiVersion: 'ako.vmware.com/v1alpha2', kind: 'L4Rule', metadata: { name: 'r', namespace: 'default' } }) as Json;
    assert.equal(read.spec.loadBalancerIP, '10.0.0.1');
    const cluster = await call('GET', '/apis/ako.vmware.com/v1beta1/aviinfrasettings');
    assert.equal(cluster.body.kind, 'AviInfraSettingList');
  });

  it('lists with a resourceVersion, pages with limit/continue, filters by label and field', async () => {
    for (const n of ['a', 'b', 'c']) double.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'list', labels: { app: n === 'c' ? 'other' : 'x' } } });
    const page1 = await call('GET', '/api/v1/namespaces/list/configmaps?limit=2');
    assert.equal(page1.body.kind, 'ConfigMapList');
    assert.deepEqual(page1.body.items.map((i: Json) => i.metadata.name), ['a', 'b']);
    assert.ok(Number(page1.body.metadata.resourceVersion) > 0);
    const page2 = await call('GET', `/api/v1/namespaces/list/configmaps?limit=2&continue=${page1.body.metadata.continue}`);
    assert.deepEqual(page2.body.items.map((i: Json) => i.metadata.name), ['c']);
    assert.equal(page2.body.metadata.continue, undefined);
    const labelled = await call('GET', '/api/v1/configmaps?labelSelector=' + encodeURIComponent('app in (x),app!=y'));
    assert.deepEqual(labelled.body.items.map((i: Json) => i.metadata.name), ['a', 'b']);
    const named = await call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dc,metadata.namespace%3Dlist');
    assert.deepEqual(named.body.items.map((i: Json) => i.metadata.name), ['c']);
    const bad = await call('GET', '/api/v1/configmaps?labelSelector=' + encodeURIComponent('a in b'));
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /labelSelector/);
  });

  it('streams watch events from a resourceVersion, turning selector exits into DELETED', async () => {
    const start = double.resourceVersion;
    double.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', namespace: 'watch', labels: { team: 'a' } } });
    const seen: string[] = [];
    const watch = new Watch(double.kubeConfig());
    const req = await watch.watch('/api/v1/namespaces/watch/configmaps', { resourceVersion: start, labelSelector: 'team=a' }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`), () => undefined);
    try {
      await waitFor('the replayed ADDED', () => seen.length === 1);
      double.patch('v1', 'ConfigMap', 'w1', 'watch', { data: { k: 'v' } });
      double.patch('v1', 'ConfigMap', 'w1', 'watch', { metadata: { labels: { team: 'b' } } });
      double.patch('v1', 'ConfigMap', 'w1', 'watch', { metadata: { labels: { team: 'a' } } });
      double.delete('v1', 'ConfigMap', 'w1', 'watch');
      await waitFor('all events', () => seen.length === 5);
      assert.deepEqual(seen, ['ADDED w1', 'MODIFIED w1', 'DELETED w1', 'ADDED w1', 'DELETED w1']);
    } finally {
      req.abort();
    }
  });

  it('answers 410 Expired for a resourceVersion older than its history, and ends watches at timeoutSeconds with a bookmark', async () => {
    const old = double.resourceVersion;
    double.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'gone' } });
    double.compact();
    const res = await fetch(`${double.url}/api/v1/configmaps?watch=true&resourceVersion=${old}`);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Json);
    assert.equal(lines[0].type, 'ERROR');
    assert.equal(lines[0].object.code, 410);
    const timed = await fetch(`${double.url}/api/v1/configmaps?watch=1&resourceVersion=${double.resourceVersion}&timeoutSeconds=1&allowWatchBookmarks=true`);
    const events = (await timed.text()).trim().split('\n').map((l) => JSON.parse(l) as Json);
    assert.deepEqual(events.map((e) => e.type), ['BOOKMARK']);
    const history = KubeApiDouble.start({ host: '127.31.4.2', maxHistory: 2 });
    const small = await history;
    try {
      const rv = small.resourceVersion;
      for (const n of ['1', '2', '3']) small.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n } });
      const r = await fetch(`${small.url}/api/v1/configmaps?watch=true&resourceVersion=${rv}`);
      assert.match(await r.text(), /"code":410/, 'the bounded history dropped the oldest change');
    } finally {
      await small.stop();
    }
  });

  it('applies JSON patch, merge patch, strategic merge patch and apply', async () => {
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'p', namespace: 'patch' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }], selector: { app: 'p' } } });
    const core = double.kubeConfig().makeApiClient(CoreV1Api);
    await core.patchNamespacedService({ name: 'p', namespace: 'patch', body: [{ op: 'add', path: '/metadata/labels', value: { a: '1' } }] });
    await core.patchNamespacedService({ name: 'p', namespace: 'patch', body: { spec: { ports: [{ name: 'https', port: 8443 }] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    let svc = double.get('v1', 'Service', 'p', 'patch') as Json;
    assert.deepEqual(svc.metadata.labels, { a: '1' });
    assert.deepEqual(svc.spec.ports, [{ name: 'http', port: 80 }, { name: 'https', port: 8443 }], 'strategic merge merges ports by name');
    await core.patchNamespacedService({ name: 'p', namespace: 'patch', body: { spec: { ports: [{ name: 'only', port: 1 }], selector: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    svc = double.get('v1', 'Service', 'p', 'patch') as Json;
    assert.deepEqual(svc.spec, { ports: [{ name: 'only', port: 1 }] }, 'merge patch replaces lists and deletes nulls');
    const applied = await call('PATCH', '/api/v1/namespaces/patch/configmaps/new?fieldManager=t', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\ndata: {k: v}\n', 'application/apply-patch+yaml');
    assert.equal(applied.status, 201);
    const badOp = await call('PATCH', '/api/v1/namespaces/patch/services/p', [{ op: 'remove', path: '/nope' }], 'application/json-patch+json');
    assert.equal(badOp.status, 422);
    const unknownType = await call('PATCH', '/api/v1/namespaces/patch/services/p', {}, 'text/plain');
    assert.equal(unknownType.status, 415);
  });

  it('keeps status and spec apart (status subresource), bumps generation on spec changes only', async () => {
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 's' }, spec: { rules: [] } });
    const put = await call('PUT', '/apis/networking.k8s.io/v1/namespaces/s/ingresses/i', { metadata: { name: 'i' }, spec: { rules: [{ host: 'a' }] }, status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } } });
    assert.equal(put.status, 200);
    assert.equal(put.body.status, undefined, 'a PUT of the object ignores status');
    assert.equal(put.body.metadata.generation, 2);
    const st = await call('PATCH', '/apis/networking.k8s.io/v1/namespaces/s/ingresses/i/status', { spec: { rules: [] }, status: { loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } } }, 'application/merge-patch+json');
    assert.deepEqual(st.body.status.loadBalancer.ingress, [{ ip: '2.2.2.2' }]);
    assert.deepEqual(st.body.spec.rules, [{ host: 'a' }], 'a status patch ignores spec');
    assert.equal(st.body.metadata.generation, 2);
    const rv = st.body.metadata.resourceVersion;
    const same = await call('PATCH', '/apis/networking.k8s.io/v1/namespaces/s/ingresses/i/status', { status: { loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } } }, 'application/merge-patch+json');
    assert.equal(same.body.metadata.resourceVersion, rv, 'a no-op write keeps the resourceVersion');
    assert.equal(double.countWrites({ kind: 'Ingress', changed: false }), 1);
  });

  it('answers errors as Status objects: 404, 409 AlreadyExists and Conflict, 400 for a bad body', async () => {
    const missing = await call('GET', '/api/v1/namespaces/e/secrets/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.kind, 'Status');
    assert.equal(missing.body.reason, 'NotFound');
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'e' } });
    assert.equal((await call('POST', '/api/v1/namespaces/e/secrets', { metadata: { name: 's' } })).body.reason, 'AlreadyExists');
    const stale = await call('PUT', '/api/v1/namespaces/e/secrets/s', { metadata: { name: 's', resourceVersion: '1' }, data: {} });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    const bad = await call('POST', '/api/v1/namespaces/e/secrets', '{not json');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /not valid JSON/);
    const wrongKind = await call('POST', '/api/v1/namespaces/e/secrets', { kind: 'Service', metadata: { name: 'x' } });
    assert.match(wrongKind.body.message, /kind "Service" does not match/);
    const unknown = await call('GET', '/apis/example.com/v1/things');
    assert.equal(unknown.status, 404);
  });

  it('cascades a namespace delete and keeps Leases and Events as ordinary resources', async () => {
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'doomed' } });
    double.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'doomed' }, spec: { holderIdentity: 'x' } });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keep', namespace: 'doomed', labels: { keep: 'yes' } } });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'drop', namespace: 'doomed', labels: { keep: 'no' } } });
    const dropped = await call('DELETE', '/api/v1/namespaces/doomed/secrets?labelSelector=keep%3Dno');
    assert.deepEqual(dropped.body.items.map((i: Json) => i.metadata.name), ['drop'], 'deletecollection with a selector');
    double.delete('v1', 'Namespace', 'doomed');
    assert.equal(double.list('v1', 'Secret', 'doomed').length, 0);
    assert.equal(double.list('coordination.k8s.io/v1', 'Lease', 'doomed').length, 0);
  });

  it('serves HTTPS with a certificate the kubeconfig trusts, watches included', async () => {
    const secure = await KubeApiDouble.start({ host: '127.31.4.4', tls: true, token: 'sekret' });
    try {
      assert.match(secure.url, /^https:\/\/127\.31\.4\.4:\d+$/);
      secure.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'tls' } });
      const kc = secure.kubeConfig();
      const list = await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces();
      assert.deepEqual(list.items.map((i) => i.metadata?.name), ['tls']);
      const seen: string[] = [];
      const req = await new Watch(kc).watch('/api/v1/services', { resourceVersion: list.metadata?.resourceVersion }, (type, obj) => seen.push(`${type} ${obj.metadata.name}`), () => undefined);
      try {
        secure.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'later' } });
        await waitFor('the event over TLS', () => seen.includes('ADDED later'));
      } finally {
        req.abort();
      }
      const anonymous = await fetch(`${secure.url}/api`).catch((err: Error) => err);
      assert.ok(anonymous instanceof Error, 'an untrusted certificate is refused by a verifying client');
    } finally {
      await secure.stop();
    }
  });

  it('applies a multi-document YAML text, CRDs first, with statuses', () => {
    const objects = double.applyManifests(`apiVersion: ako.vmware.com/v1beta1
kind: HTTPRule
metadata: {name: r, namespace: m}
spec: {fqdn: a.example.com}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: httprules.ako.vmware.com}
spec:
  group: ako.vmware.com
  scope: Namespaced
  names: {kind: HTTPRule, plural: httprules}
  versions: [{name: v1beta1, served: true, storage: true}]
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s, namespace: m}
  spec: {type: LoadBalancer}
  status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
`);
    assert.deepEqual(objects.map((o) => o.kind), ['CustomResourceDefinition', 'HTTPRule', 'Service']);
    assert.deepEqual((double.get('v1', 'Service', 's', 'm') as Json).status, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } });
    assert.equal((double.get('ako.vmware.com/v1beta1', 'HTTPRule', 'r', 'm') as Json).spec.fqdn, 'a.example.com');
  });

  it('runs as a child process, printing its URL, with the control endpoints', async () => {
    const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
    const child = spawn(process.execPath, [main, '--port', '0', '--host', '127.31.4.3', '--ako-crds'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      assert.match(url, /^http:\/\/127\.31\.4\.3:\d+$/);
      const res = await fetch(`${url}/apis/ako.vmware.com/v1beta1`);
      assert.equal(((await res.json()) as Json).resources.some((r: Json) => r.name === 'hostrules'), true);
      const writes = await fetch(`${url}/_double/writes`);
      assert.ok(Array.isArray(((await writes.json()) as Json).items));
      assert.equal((await fetch(`${url}/_double/compact`, { method: 'POST' })).status, 200);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      }
    }
    assert.equal(child.exitCode, 0);
  });
});
