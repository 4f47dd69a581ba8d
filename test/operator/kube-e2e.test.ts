// End to end through Kubernetes: the API double (reached with @kubernetes/client-node, as a
// cluster), two operators electing a leader on the Lease ako-lease-lock, the real controller.
// A LoadBalancer Service gets its VIP in status and a Synced Event; scaling its endpoints changes
// the pool; the follower writes nothing; when the leader dies the follower takes over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createKubernetesProvider } from '../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../src/operator/status/kubernetes.js';
import { startLeaderElection, type LeaderElection } from '../../src/operator/leader.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from './support/controller.js';

const TIMING = { leaseDurationMs: 1200, renewDeadlineMs: 800, retryPeriodMs: 100 };

function service(name: string): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } };
}
function slice(svc: string, addresses: string[]): object {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

describe('operator through the Kubernetes API double, with leader election', () => {
  let double: KubeApiDouble;
  let ctl: TestController | undefined;
  let skip: string | undefined;
  const replicas: Array<{ op: RunningOperator; election: LeaderElection; id: string }> = [];

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.30.6.1' });
    const c = await startTestController('127.30.6.2', '127.30.7.0/28');
    if ('unavailable' in c) skip = `controller not available: ${c.unavailable}`;
    else ctl = c;
  });
  after(async () => {
    for (const r of replicas) {
      await r.op.close().catch(() => undefined);
      await r.election.stop({ release: false }).catch(() => undefined);
    }
    await ctl?.stop();
    await double?.stop();
  });

  async function replica(id: string): Promise<{ op: RunningOperator; election: LeaderElection; id: string }> {
    const { settings } = settingsFromValues({
      AKOSettings: { clusterName: 'kube', fullSyncFrequency: '0' },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
    }, {});
    const kubeConfig = double.kubeConfig();
    let op: RunningOperator | undefined;
    const election = startLeaderElection({
      kubeConfig, namespace: settings.akoNamespace, name: 'ako-lease-lock', identity: id, ...TIMING,
      onStartedLeading: () => op?.resync(), onStoppedLeading: () => undefined,
    });
    op = await startOperator({
      controller: ctl!.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20 }), sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: '127.30.6.3:0', username: 'admin', password: ADMIN_PASSWORD, leader: election,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });
    if (election.isLeader()) op.resync();
    const r = { op, election, id };
    replicas.push(r);
    return r;
  }

  const vipOf = (name: string) => (double.get('v1', 'Service', name, 'default') as any).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;

  test('VIP in Service status, Synced Event, endpoints scale the pool, follower idle, failover', async (t) => {
    if (skip) return t.skip(skip);
    double.create(service('web'));
    double.create(slice('web', ['127.30.8.1']));
    const a = await replica('ako-0');
    await eventually(() => a.election.isLeader(), 'ako-0 to lead');
    const b = await replica('ako-1');
    const ip = await eventually(() => vipOf('web'), 'a VIP in the status of Service web');
    assert.match(ip, /^127\.30\.7\.\d+$/);
    await eventually(() => (double.list('v1', 'Event', 'default') as any[]).some((e) => e.reason === 'Synced' && e.involvedObject?.name === 'web'), 'a Synced Event on Service web');

    // Scaling endpoints changes the pool.
    double.apply(slice('web', ['127.30.8.1', '127.30.8.2']));
    await eventually(async () => {
      const p = await ctl!.api('GET', '/api/pool?name=kube--default-web-TCP-80');
      return p.body.results?.[0]?.servers?.length === 2;
    }, 'the pool to get the second endpoint');

    // The follower translated nothing into writes: it never ran a sync pass.
    assert.equal(b.election.isLeader(), false);
    assert.equal(b.op.passes(), 0);

    // The leader dies (no lease release): the follower takes over and serves new Services.
    await a.op.close();
    await a.election.stop({ release: false });
    replicas.splice(replicas.indexOf(a), 1);
    await eventually(() => b.election.isLeader(), 'ako-1 to lead', 10_000);
    double.create(service('api'));
    double.create(slice('api', ['127.30.8.3']));
    const ip2 = await eventually(() => vipOf('api'), 'a VIP for Service api after failover');
    assert.notEqual(ip2, ip);
    // Nothing changed for web: the new leader kept its VIP and wrote no update for it.
    assert.equal(vipOf('web'), ip);
  });
});
