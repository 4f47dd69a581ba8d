// Tenant per namespace through Kubernetes: the API double (reached with @kubernetes/client-node,
// as a cluster) and the real controller. The Service status carries its tenant's name; a namespace
// naming a missing tenant gets Events (its Service and the Namespace itself); editing the
// Namespace's annotation is followed; a blocked namespace is not warned about.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createKubernetesProvider } from '../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../src/operator/status/kubernetes.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { ADMIN_PASSWORD, controllerSuite, eventually } from './support/controller.js';

const CLUSTER = `
apiVersion: v1
kind: Namespace
metadata: {name: team-k, annotations: {ako.vmware.com/tenant-name: team-k}}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-m, annotations: {ako.vmware.com/tenant-name: team-missing}}
---
apiVersion: v1
kind: Namespace
metadata: {name: blocked, annotations: {ako.vmware.com/tenant-name: team-missing}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: blocked}
spec: {type: LoadBalancer, ports: [{port: 80, targetPort: 8080, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-k}
spec: {type: LoadBalancer, ports: [{port: 80, targetPort: 8080, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-m}
spec: {type: LoadBalancer, ports: [{port: 80, targetPort: 8080, protocol: TCP}]}
`;

describe('tenant per namespace through the Kubernetes API double and the real controller', () => {
  const suite = controllerSuite('127.114.3.2', '127.114.4.0/28');
  let double: KubeApiDouble;
  let op: RunningOperator | undefined;

  before(async () => { double = await KubeApiDouble.start({ host: '127.114.3.1' }); });
  after(async () => {
    await op?.close().catch(() => undefined);
    await double?.stop();
  });

  const service = (ns: string) => double.get('v1', 'Service', 'web', ns) as any;
  const events = (ns: string) => double.list('v1', 'Event', ns) as any[];

  test('status tenant-name, TenantNotFound Events on the Service and the Namespace, annotation edit followed', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    assert.equal((await suite.ctl!.api('POST', '/api/tenant', { name: 'team-k' })).status, 201);
    double.applyManifests(CLUSTER);
    const { settings, problems } = settingsFromValues({
      AKOSettings: { clusterName: 'tk', fullSyncFrequency: '0', blockedNamespaceList: ['blocked'] }, NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
    }, {});
    assert.deepEqual(problems, []);
    const kubeConfig = double.kubeConfig();
    op = await startOperator({
      controller: suite.ctl!.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20 }), sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: '127.114.3.3:0', username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });

    // The status and the annotations are two writes: waited for together.
    const tenantName = (ns: string) => service(ns).metadata.annotations?.['ako.vmware.com/tenant-name'];
    await eventually(() => service('team-k').status?.loadBalancer?.ingress?.[0]?.ip && tenantName('team-k') === 'team-k', 'a VIP on team-k/web, annotated tenant-name team-k');

    const warned = (kind: string, name: string) => events('team-m').some((e) => e.type === 'Warning' && e.reason === 'TenantNotFound'
      && e.involvedObject?.kind === kind && e.involvedObject?.name === name && String(e.message).includes('team-missing'));
    await eventually(() => warned('Service', 'web') && warned('Namespace', 'team-m'), 'TenantNotFound Events on Service team-m/web and Namespace team-m');
    assert.equal(service('team-m').status?.loadBalancer?.ingress?.length ?? 0, 0);
    // A namespace the operator does not handle (blockedNamespaceList) gets no Warning for its tenant.
    assert.deepEqual(events('blocked').filter((e) => e.reason === 'TenantNotFound'), []);

    // The namespace now names an existing tenant: its Service is served there.
    const ns = double.get('v1', 'Namespace', 'team-m') as any;
    double.update({ ...ns, metadata: { ...ns.metadata, annotations: { 'ako.vmware.com/tenant-name': 'team-k' } } });
    await eventually(() => service('team-m').status?.loadBalancer?.ingress?.[0]?.ip && tenantName('team-m') === 'team-k', 'a VIP on team-m/web, annotated tenant-name team-k');
  });
});
