// The operator's boot as AKO's, through the Kubernetes API double and the real controller: Events
// on the operator's own pod (ValidatedUserInput, AKOReady, StatusSync; a Warning SyncDisabled when
// a start-up check fails), and the boot status clean-up (objects an earlier run served and this one
// does not lose their stale status and AKO annotations; other controllers' objects are left alone).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../../src/operator/operator.js';
import { createKubernetesProvider } from '../../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../../src/operator/status/kubernetes.js';
import { createPodEvents } from '../../../src/operator/status/pod-events.js';
import { settingsFromValues } from '../../../src/operator/settings/values.js';
import { KubeApiDouble } from '../../support/kube-api-double/index.js';
import { runPortico } from '../../support/cli.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from '../support/controller.js';

const AKO_NS = 'avi-system';
const STALE_ANNOTATIONS = {
  'ako.vmware.com/host-fqdn-vs-uuid-map': '{"old.example.com":"virtualservice-gone"}',
  'ako.vmware.com/tenant-name': 'admin',
  owner: 'team-a',
};

function lbService(name: string, namespace: string, extra: { annotations?: Record<string, string>; cls?: string } = {}): object {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { type: 'LoadBalancer', ...(extra.cls ? { loadBalancerClass: extra.cls } : {}), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

function withStatus(double: KubeApiDouble, apiVersion: string, kind: string, name: string, namespace: string, ingress: object[]): void {
  double.setStatus({ apiVersion, kind, metadata: { name, namespace }, status: { loadBalancer: { ingress } } });
}

interface EventView { type: string; reason: string; message: string; involvedObject: { kind: string; name: string; uid?: string } }
const podEvents = (double: KubeApiDouble, pod: string) => (double.list('v1', 'Event', AKO_NS) as unknown as EventView[])
  .filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === pod);

describe('operator boot: pod Events and the stale status clean-up', () => {
  let double: KubeApiDouble;
  let ctl: TestController | undefined;
  let skip: string | undefined;
  const running: RunningOperator[] = [];

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.104.1.1' });
    const c = await startTestController('127.104.1.2', '127.104.7.0/28');
    if ('unavailable' in c) skip = `controller not available: ${c.unavailable}`;
    else ctl = c;
  });
  after(async () => {
    for (const op of running) await op.close().catch(() => undefined);
    await ctl?.stop();
    await double?.stop();
  });

  async function operator(pod: string, values: Record<string, unknown>): Promise<RunningOperator> {
    const { settings } = settingsFromValues({
      AKOSettings: { clusterName: 'boot', fullSyncFrequency: '0', blockedNamespaceList: ['blocked'] },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
      ...values,
    }, { POD_NAMESPACE: AKO_NS });
    const kubeConfig = double.kubeConfig();
    const sink = createKubernetesStatusSink(kubeConfig);
    const lifecycle = createPodEvents({ sink, pod: { name: pod, namespace: AKO_NS }, kubeConfig, logger: { debug: () => undefined, warn: () => undefined } });
    const op = await startOperator({
      controller: ctl!.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20 }), sink, settings, lifecycle,
      listen: '127.104.1.3:0', username: 'admin', password: ADMIN_PASSWORD, fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200,
      logger: pino({ level: 'silent' }),
    });
    running.push(op);
    return op;
  }

  it('records ValidatedUserInput, AKOReady and StatusSync on its pod, and clears stale statuses it no longer serves', async (t) => {
    if (skip) return t.skip(skip);
    const pod = double.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ako-0', namespace: AKO_NS }, spec: { containers: [{ name: 'ako', image: 'portico' }] } });
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'blocked' } });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb' }, spec: { controller: 'ako.vmware.com/avi-lb' } });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } });
    // Served now, with a status an earlier run left (an old VIP): refreshed.
    double.create(lbService('web', 'default'));
    withStatus(double, 'v1', 'Service', 'web', 'default', [{ ip: '127.104.9.9' }]);
    // Served by an earlier run, its namespace blocked since: cleared (with or without AKO annotations).
    double.create(lbService('annotated', 'blocked', { annotations: STALE_ANNOTATIONS }));
    withStatus(double, 'v1', 'Service', 'annotated', 'blocked', [{ ip: '127.104.9.10', hostname: 'old.example.com' }]);
    double.create(lbService('bare', 'blocked'));
    withStatus(double, 'v1', 'Service', 'bare', 'blocked', [{ ip: '127.104.9.11' }]);
    const ingress = (name: string, cls: string) => ({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'blocked', annotations: cls === 'avi-lb' ? STALE_ANNOTATIONS : {} },
      spec: { ingressClassName: cls, rules: [{ host: 'old.example.com' }] },
    });
    double.create(ingress('old-ing', 'avi-lb'));
    withStatus(double, 'networking.k8s.io/v1', 'Ingress', 'old-ing', 'blocked', [{ ip: '127.104.9.10', hostname: 'old.example.com' }]);
    // Not ours: another LoadBalancer class, another Ingress controller, another controller's AKO.
    double.create(lbService('metallb', 'blocked', { cls: 'metallb.io/lb' }));
    withStatus(double, 'v1', 'Service', 'metallb', 'blocked', [{ ip: '192.0.2.1' }]);
    double.create(ingress('nginx-ing', 'nginx'));
    withStatus(double, 'networking.k8s.io/v1', 'Ingress', 'nginx-ing', 'blocked', [{ ip: '192.0.2.2', hostname: 'old.example.com' }]);
    const foreign = { 'ako.vmware.com/controller-cluster-uuid': 'cluster-of-another-controller', 'ako.vmware.com/tenant-name': 'admin' };
    double.create(lbService('foreign', 'blocked', { annotations: foreign }));
    withStatus(double, 'v1', 'Service', 'foreign', 'blocked', [{ ip: '192.0.2.3' }]);

    await operator('ako-0', {});
    const svc = (name: string, ns = 'blocked') => double.get('v1', 'Service', name, ns) as any;
    await eventually(() => podEvents(double, 'ako-0').some((e) => e.reason === 'StatusSync'), 'a StatusSync Event on the pod');
    const webIp = await eventually(() => svc('web', 'default').status?.loadBalancer?.ingress?.[0]?.ip?.startsWith('127.104.7.') && svc('web', 'default').status.loadBalancer.ingress[0].ip, 'a VIP for Service web');
    assert.match(webIp, /^127\.104\.7\.\d+$/, 'the served Service got its real VIP in place of the stale one');

    assert.equal(svc('annotated').status?.loadBalancer?.ingress, undefined);
    assert.deepEqual(svc('annotated').metadata.annotations, { owner: 'team-a' }, 'AKO annotations removed, others kept');
    assert.equal(svc('bare').status?.loadBalancer?.ingress, undefined);
    const oldIng = double.get('networking.k8s.io/v1', 'Ingress', 'old-ing', 'blocked') as any;
    assert.equal(oldIng.status?.loadBalancer?.ingress, undefined);
    assert.deepEqual(oldIng.metadata.annotations, { owner: 'team-a' });

    assert.deepEqual(svc('metallb').status.loadBalancer.ingress, [{ ip: '192.0.2.1' }], 'another LoadBalancer class is left alone');
    assert.deepEqual((double.get('networking.k8s.io/v1', 'Ingress', 'nginx-ing', 'blocked') as any).status.loadBalancer.ingress, [{ ip: '192.0.2.2', hostname: 'old.example.com' }]);
    const f = svc('foreign');
    assert.deepEqual(f.status.loadBalancer.ingress, [{ ip: '192.0.2.3' }], "another controller's AKO status is left alone");
    assert.deepEqual(f.metadata.annotations, foreign);

    const events = podEvents(double, 'ako-0');
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'ValidatedUserInput'], ['Normal', 'AKOReady'], ['Normal', 'StatusSync']]);
    assert.equal(events.find((e) => e.reason === 'AKOReady')!.message, 'AKO is now listening for Object updates in the cluster');
    assert.ok(events.every((e) => e.involvedObject.uid === pod.metadata.uid), 'the Events name the pod by uid (kubectl describe pod lists them)');
  });

  it('records a Warning SyncDisabled on its pod when a start-up check fails, once per problem', async (t) => {
    if (skip) return t.skip(skip);
    double.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ako-1', namespace: AKO_NS }, spec: { containers: [{ name: 'ako', image: 'portico' }] } });
    const op = await operator('ako-1', { ControllerSettings: { cloudName: 'no-such-cloud' } });
    const warning = await eventually(() => podEvents(double, 'ako-1').find((e) => e.reason === 'SyncDisabled'), 'a SyncDisabled Event on the pod');
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message, /^Invalid user input .*no-such-cloud/);
    // The check is retried (every 200 ms here) without a new Event for the same problem.
    await eventually(async () => ((await (await fetch(`${op.url}/api/status`)).json()) as { problem?: string }).problem, 'the problem in /api/status');
    assert.equal(podEvents(double, 'ako-1').filter((e) => e.reason !== 'SyncDisabled').length, 0, 'not ready: no AKOReady');
    assert.equal((double.list('v1', 'Event', AKO_NS) as unknown as Array<{ count: number; involvedObject: { name: string } }>).filter((e) => e.involvedObject.name === 'ako-1').length, 1);
  });
  it('records a Warning AKOShutdown on its pod when the controller credentials are missing, and exits 2', async () => {
    double.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ako-2', namespace: AKO_NS }, spec: { containers: [{ name: 'ako', image: 'portico' }] } });
    const p = runPortico(['operator', '--controller', 'https://127.104.1.9', '--kubeconfig', double.writeKubeconfig()], {
      env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: '', PORTICO_AUTHTOKEN: '', POD_NAME: 'ako-2', POD_NAMESPACE: AKO_NS },
    });
    try {
      assert.equal(await p.exited, 2);
      const [e] = podEvents(double, 'ako-2');
      assert.deepEqual([e?.type, e?.reason], ['Warning', 'AKOShutdown']);
      assert.equal(e!.message, 'Avi Controller information missing (username: admin, password: , authToken: , controller: https://127.104.1.9)');
    } finally {
      await p.stop();
    }
  });
});

describe('pod Events outside a pod', () => {
  it('records nothing and says so at debug level when POD_NAME / POD_NAMESPACE are not set', async () => {
    const debug: string[] = [];
    let written = 0;
    const sink = { set: async () => undefined, clear: async () => undefined, event: async () => { written++; } };
    const events = createPodEvents({ sink, pod: { namespace: AKO_NS }, logger: { debug: (m) => debug.push(m), warn: () => undefined } });
    events.checksPassed(false);
    events.checkFailed('cloud missing');
    await events.shutdown('test');
    assert.equal(written, 0);
    assert.match(debug.join('\n'), /POD_NAME \/ POD_NAMESPACE unset/);
  });
});
