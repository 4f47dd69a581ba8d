// The Kubernetes status sink against the API double: what it writes, and that it writes nothing
// when nothing changed (also after a restart of the sink).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesStatusSink, type KubernetesStatusSink } from '../../../src/operator/status/kubernetes.js';
import type { ObjectStatus } from '../../../src/operator/status/types.js';
import { akoCrd, KubeApiDouble } from '../../support/kube-api-double/index.js';

const SVC = { kind: 'Service', namespace: 'default', name: 'web' };
const ING = { kind: 'Ingress', namespace: 'shop', name: 'shop' };
const FQDN_MAP = 'ako.vmware.com/host-fqdn-vs-uuid-map';

function serviceStatus(ip: string, extra: Partial<ObjectStatus> = {}): ObjectStatus {
  return {
    ref: SVC, ingress: [{ ip, hostname: 'web.portico.local' }], virtualServices: ['c1--default-web'],
    events: [{ type: 'Normal', reason: 'Synced', message: 'Added virtualservice c1--default-web for web' }],
    annotations: { [FQDN_MAP]: '{"web.portico.local":"virtualservice-1"}', 'ako.vmware.com/tenant-name': 'admin' },
    ...extra,
  };
}

describe('Kubernetes status sink', () => {
  let double: KubeApiDouble;
  let sink: KubernetesStatusSink;

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.31.2.1' });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', annotations: { owner: 'team-a' } }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
    double.create({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'shop', namespace: 'shop' },
      spec: { rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }] },
    });
    sink = createKubernetesStatusSink(double.kubeConfig());
  });
  after(async () => { await double?.stop(); });
  beforeEach(() => double.clearWrites());

  it('writes the Service status through the status subresource, the annotations, and a Synced event', async () => {
    await sink.set(serviceStatus('10.0.0.5'));
    const svc = double.get('v1', 'Service', 'web', 'default') as { status?: { loadBalancer?: { ingress?: unknown[] } }; metadata: { annotations?: Record<string, string> } };
    assert.deepEqual(svc.status?.loadBalancer?.ingress, [{ ip: '10.0.0.5', hostname: 'web.portico.local' }]);
    assert.equal(svc.metadata.annotations?.[FQDN_MAP], '{"web.portico.local":"virtualservice-1"}');
    assert.equal(svc.metadata.annotations?.owner, 'team-a', 'other annotations stay');
    assert.equal(double.countWrites({ kind: 'Service', subresource: 'status', verb: 'patch' }), 1);
    assert.equal(double.writes.find((w) => w.subresource === 'status')?.patchType, 'merge');
    assert.equal(double.countWrites({ kind: 'Service', verb: 'patch', subresource: undefined }), 2, 'one status patch + one annotation patch');
    const events = double.list('v1', 'Event', 'default') as unknown as Array<{ reason: string; type: string; count: number; involvedObject: { kind: string; name: string } }>;
    assert.deepEqual(events.map((e) => [e.type, e.reason, e.count, e.involvedObject.kind, e.involvedObject.name]), [['Normal', 'Synced', 1, 'Service', 'web']]);
  });

  it('writes nothing when nothing changed, also from a new sink (an operator restart)', async () => {
    await sink.set(serviceStatus('10.0.0.5'));
    assert.equal(double.countWrites(), 0);
    const fresh = createKubernetesStatusSink(double.kubeConfig());
    await fresh.set(serviceStatus('10.0.0.5', { events: [] }));
    assert.equal(double.countWrites(), 0);
    assert.ok(double.requests.includes('GET /api/v1/namespaces/default/services/web'), 'the new sink read the object to compare');
  });

  it('patches only the status when only the VIP changed', async () => {
    await sink.set(serviceStatus('10.0.0.6'));
    assert.equal(double.countWrites({ subresource: 'status' }), 1);
    assert.equal(double.countWrites(), 1);
  });

  it('folds a repeated event into one Event with a count', async () => {
    const warn = { type: 'Warning' as const, reason: 'IPNotAvailable', message: 'No available free IPs' };
    await sink.event(SVC, warn);
    await sink.event(SVC, warn);
    await sink.event(SVC, warn);
    const events = (double.list('v1', 'Event', 'default') as unknown as Array<{ reason: string; count: number }>).filter((e) => e.reason === 'IPNotAvailable');
    assert.equal(events.length, 1);
    assert.equal(events[0].count, 3);
    assert.equal(double.countWrites({ kind: 'Event', verb: 'create' }), 1);
    assert.equal(double.countWrites({ kind: 'Event', verb: 'patch' }), 2);
  });

  it('starts a new Event when the one it counted on has expired', async () => {
    const warn = { type: 'Warning' as const, reason: 'Expiring', message: 'will expire' };
    await sink.event(SVC, warn);
    const first = (double.list('v1', 'Event', 'default') as unknown as Array<{ reason: string; metadata: { name: string } }>).find((e) => e.reason === 'Expiring')!;
    double.delete('v1', 'Event', first.metadata.name, 'default');
    await sink.event(SVC, warn);
    const events = (double.list('v1', 'Event', 'default') as unknown as Array<{ reason: string; count: number }>).filter((e) => e.reason === 'Expiring');
    assert.deepEqual(events.map((e) => e.count), [1]);
  });

  it('does not repeat an event that still applies on every set', async () => {
    const warn = { type: 'Warning' as const, reason: 'Unserved', message: 'host b.example.com: secret missing' };
    await sink.set({ ref: ING, ingress: [{ ip: '10.0.0.7', hostname: 'a.example.com' }], virtualServices: [], events: [warn] });
    await sink.set({ ref: ING, ingress: [{ ip: '10.0.0.7', hostname: 'a.example.com' }], virtualServices: [], events: [warn] });
    assert.equal(double.countWrites({ kind: 'Event' }), 1);
    assert.equal(double.countWrites({ kind: 'Ingress', subresource: 'status' }), 1);
    await sink.set({ ref: ING, ingress: [{ ip: '10.0.0.7', hostname: 'a.example.com' }, { ip: '10.0.0.7', hostname: 'b.example.com' }], virtualServices: [], events: [] });
    const ing = double.get('networking.k8s.io/v1', 'Ingress', 'shop', 'shop') as { status?: { loadBalancer?: { ingress?: unknown[] } } };
    assert.deepEqual(ing.status?.loadBalancer?.ingress, [{ ip: '10.0.0.7', hostname: 'a.example.com' }, { ip: '10.0.0.7', hostname: 'b.example.com' }]);
    await sink.set({ ref: ING, ingress: [], virtualServices: [], events: [] });
    const emptied = double.get('networking.k8s.io/v1', 'Ingress', 'shop', 'shop') as { status?: { loadBalancer?: { ingress?: unknown[] } } };
    assert.deepEqual(emptied.status?.loadBalancer?.ingress, [], 'an object that can no longer be served gets an empty list');
  });

  it('clear removes the status it wrote and the AKO annotations, and keeps others', async () => {
    await sink.clear(SVC);
    const svc = double.get('v1', 'Service', 'web', 'default') as { status?: { loadBalancer?: { ingress?: unknown[] } }; metadata: { annotations?: Record<string, string> } };
    assert.equal(svc.status?.loadBalancer?.ingress, undefined);
    assert.deepEqual(svc.metadata.annotations, { owner: 'team-a' });
  });

  it('leaves alone a status it did not write, and objects that are gone', async () => {
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'other', namespace: 'default' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' } });
    double.setStatus({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'other', namespace: 'default' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } });
    double.clearWrites();
    await sink.clear({ kind: 'Service', namespace: 'default', name: 'other' });
    await sink.set({ ref: { kind: 'Service', namespace: 'default', name: 'missing' }, ingress: [{ ip: '10.0.0.9' }], virtualServices: [], events: [] });
    await sink.clear({ kind: 'Service', namespace: 'default', name: 'missing' });
    assert.equal(double.countWrites(), 0);
  });

  it('writes Accepted/Rejected on AKO CRD objects, only when it changes', async () => {
    double.create(akoCrd('HostRule'));
    double.create(akoCrd('AviInfraSetting'));
    double.create({ apiVersion: 'ako.vmware.com/v1beta1', kind: 'HostRule', metadata: { name: 'hr', namespace: 'shop' }, spec: { virtualhost: { fqdn: 'a.example.com' } } });
    double.create({ apiVersion: 'ako.vmware.com/v1beta1', kind: 'AviInfraSetting', metadata: { name: 'infra' }, spec: {} });
    double.clearWrites();
    const hr = { kind: 'HostRule', namespace: 'shop', name: 'hr', apiVersion: 'ako.vmware.com/v1beta1' };
    await sink.crdStatus(hr, { status: 'Rejected', error: 'sslKeyCertificate foo not found' });
    await sink.crdStatus(hr, { status: 'Rejected', error: 'sslKeyCertificate foo not found' });
    assert.deepEqual((double.get('ako.vmware.com/v1beta1', 'HostRule', 'hr', 'shop') as { status?: unknown }).status, { status: 'Rejected', error: 'sslKeyCertificate foo not found' });
    await sink.crdStatus(hr, { status: 'Accepted' });
    await sink.crdStatus({ kind: 'AviInfraSetting', namespace: '', name: 'infra', apiVersion: 'ako.vmware.com/v1beta1' }, { status: 'Accepted' });
    assert.deepEqual((double.get('ako.vmware.com/v1beta1', 'AviInfraSetting', 'infra') as { status?: unknown }).status, { status: 'Accepted', error: '' });
    assert.equal(double.countWrites({ subresource: 'status' }), 3);
    assert.equal(double.countWrites(), 3);
  });

  it('rejects with the object named when the API refuses the write', async () => {
    double.failNext({ method: 'PATCH', path: '/status', code: 403 });
    await assert.rejects(sink.set(serviceStatus('10.0.0.8', { events: [] })), /Service default\/web \(HTTP 403\)/);
    await sink.set(serviceStatus('10.0.0.8', { events: [] }));
    const svc = double.get('v1', 'Service', 'web', 'default') as { status?: { loadBalancer?: { ingress?: Array<{ ip: string }> } } };
    assert.equal(svc.status?.loadBalancer?.ingress?.[0].ip, '10.0.0.8', 'the retry after a failure writes');
  });
});
