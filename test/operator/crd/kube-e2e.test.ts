// AKO's CRDs end to end: the Kubernetes API double (CRDs installed, reached through client-node),
// the operator, and the real controller. Each CRD changes the controller objects as it says, its
// status becomes Accepted or Rejected with the reason, and deleting it restores the defaults.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../../src/operator/operator.js';
import { createKubernetesProvider } from '../../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../../src/operator/status/kubernetes.js';
import { settingsFromValues } from '../../../src/operator/settings/values.js';
import { KubeApiDouble, akoCrds } from '../../support/kube-api-double/index.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from '../support/controller.js';

const V1B1 = 'ako.vmware.com/v1beta1';
const V1A2 = 'ako.vmware.com/v1alpha2';
const backend = { service: { name: 'app', port: { number: 80 } } };

describe('operator honours HostRule, HTTPRule, AviInfraSetting and L4Rule (API double + real controller)', () => {
  let double: KubeApiDouble;
  let ctl: TestController | undefined;
  let op: RunningOperator | undefined;
  let skip: string | undefined;

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.61.0.1' });
    for (const crd of akoCrds()) double.create(crd);
    const c = await startTestController('127.61.0.2', '127.61.1.0/28');
    if ('unavailable' in c) { skip = `controller not available: ${c.unavailable}`; return; }
    ctl = c;
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'ako.vmware.com/avi-lb' } });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    double.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'app-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'app' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['127.61.2.1'], conditions: { ready: true } }],
    });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'default' }, spec: { rules: [{ host: 'web.portico.local', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } });
    const { settings } = settingsFromValues({
      AKOSettings: { clusterName: 'crd', fullSyncFrequency: '0' },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
      L7Settings: { shardVSSize: 'SMALL' },
    }, {});
    const kubeConfig = double.kubeConfig();
    op = await startOperator({
      controller: ctl.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20 }), sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: '127.61.0.3:0', username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });
  });
  after(async () => {
    await op?.close().catch(() => undefined);
    await ctl?.stop();
    await double?.stop();
  });

  const one = async (type: string, name: string) => (await ctl!.api('GET', `/api/${type}?name=${encodeURIComponent(name)}&include_name=true`)).body.results?.[0];
  const crdStatus = (apiVersion: string, kind: string, name: string, ns?: string) => (double.tryGet(apiVersion, kind, name, ns) as any)?.status as { status?: string; error?: string } | undefined;
  const nameOf = (r: unknown) => (typeof r === 'string' ? r.slice(r.indexOf('#') + 1) : undefined);

  test('HTTPRule: pool algorithm and monitors, Accepted; deleted → defaults', async (t) => {
    if (skip) return t.skip(skip);
    const pool = 'crd--web.portico.local_-default-web';
    await eventually(() => one('pool', pool), `pool ${pool}`);
    double.create({
      apiVersion: V1B1, kind: 'HTTPRule', metadata: { name: 'web-rule', namespace: 'default' },
      spec: { fqdn: 'web.portico.local', paths: [{ target: '/', loadBalancerPolicy: { algorithm: 'LB_ALGORITHM_ROUND_ROBIN' }, healthMonitors: ['System-HTTP'], applicationPersistence: 'System-Persistence-Client-IP' }] },
    });
    const p = await eventually(async () => { const o = await one('pool', pool); return o?.lb_algorithm === 'LB_ALGORITHM_ROUND_ROBIN' && o; }, 'the pool to take the HTTPRule');
    assert.deepEqual((p.health_monitor_refs as string[]).map(nameOf), ['System-HTTP']);
    assert.equal(nameOf(p.application_persistence_profile_ref), 'System-Persistence-Client-IP');
    await eventually(() => crdStatus(V1B1, 'HTTPRule', 'web-rule', 'default')?.status === 'Accepted', 'HTTPRule Accepted');

    double.delete(V1B1, 'HTTPRule', 'web-rule', 'default');
    const back = await eventually(async () => { const o = await one('pool', pool); return o && o.lb_algorithm !== 'LB_ALGORITHM_ROUND_ROBIN' && o; }, 'the pool defaults back');
    assert.equal(back.lb_algorithm ?? 'LB_ALGORITHM_LEAST_CONNECTIONS', 'LB_ALGORITHM_LEAST_CONNECTIONS');
    assert.ok(!back.health_monitor_refs?.length && !back.application_persistence_profile_ref);
  });

  test('HostRule naming a missing analytics profile is Rejected with its name; fixed → Accepted and applied; deleted → defaults', async (t) => {
    if (skip) return t.skip(skip);
    const parent = 'crd--Shared-L7-0';
    await eventually(() => one('virtualservice', parent), `VS ${parent}`);
    double.create({
      apiVersion: V1B1, kind: 'HostRule', metadata: { name: 'parent-rule', namespace: 'default' },
      spec: { virtualhost: { fqdn: 'Shared-L7-0', fqdnType: 'Contains', analyticsProfile: 'no-such-analytics', tcpSettings: { listeners: [{ port: 8080 }] } } },
    });
    const rejected = await eventually(() => { const s = crdStatus(V1B1, 'HostRule', 'parent-rule', 'default'); return s?.status === 'Rejected' && s; }, 'HostRule Rejected');
    assert.match(rejected.error ?? '', /analyticsprofile no-such-analytics not found/);
    assert.deepEqual((await one('virtualservice', parent)).services.map((s: any) => s.port), [80, 443]);

    double.patch(V1B1, 'HostRule', 'parent-rule', 'default', { spec: { virtualhost: { analyticsProfile: 'System-Analytics-Profile', wafPolicy: 'my-waf' } } });
    const vs = await eventually(async () => { const o = await one('virtualservice', parent); return o?.services?.[0]?.port === 8080 && o; }, 'the parent VS on port 8080');
    assert.equal(nameOf(vs.analytics_profile_ref), 'System-Analytics-Profile');
    const accepted = await eventually(() => { const s = crdStatus(V1B1, 'HostRule', 'parent-rule', 'default'); return s?.status === 'Accepted' && s; }, 'HostRule Accepted');
    assert.match(accepted.error ?? '', /not applied by the data plane: spec\.virtualhost\.wafPolicy/);

    double.delete(V1B1, 'HostRule', 'parent-rule', 'default');
    await eventually(async () => { const o = await one('virtualservice', parent); return o?.services?.[0]?.port === 80 && !o.analytics_profile_ref; }, 'the parent VS back on 80/443');
  });

  test('L4Rule and AviInfraSetting on a LoadBalancer Service; Rejected ones leave the defaults; deleted → defaults', async (t) => {
    if (skip) return t.skip(skip);
    const vsName = 'crd--default-lb';
    const poolName = 'crd--default-lb-TCP-9000';
    // The rule comes first: the controller never moves an allocated VIP (as Avi), so an address is asked for at creation.
    double.create({
      apiVersion: V1A2, kind: 'L4Rule', metadata: { name: 'l4', namespace: 'default' },
      spec: { loadBalancerIP: '127.61.1.9', backendProperties: [{ port: 9000, protocol: 'TCP', lbAlgorithm: 'LB_ALGORITHM_ROUND_ROBIN', healthMonitorRefs: ['System-TCP', 'System-Ping'] }] },
    });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: 'default', annotations: { 'ako.vmware.com/l4rule': 'l4' } }, spec: { type: 'LoadBalancer', ports: [{ name: 'tcp', port: 9000, targetPort: 8080 }] } });
    const pool = await eventually(async () => { const o = await one('pool', poolName); return o?.lb_algorithm === 'LB_ALGORITHM_ROUND_ROBIN' && o; }, 'the L4 pool to take the L4Rule');
    assert.deepEqual((pool.health_monitor_refs as string[]).map(nameOf), ['System-TCP', 'System-Ping']);
    await eventually(async () => (await one('vsvip', vsName))?.vip?.[0]?.ip_address?.addr === '127.61.1.9', 'the VIP at the L4Rule loadBalancerIP');
    await eventually(() => crdStatus(V1A2, 'L4Rule', 'l4', 'default')?.status === 'Accepted', 'L4Rule Accepted');
    await eventually(() => ((double.get('v1', 'Service', 'lb', 'default') as any).status?.loadBalancer?.ingress?.[0]?.ip === '127.61.1.9'), 'the Service status shows the L4Rule IP');

    // An AviInfraSetting naming an SE group the controller lacks: Rejected, the Service keeps its defaults.
    double.create({ apiVersion: V1B1, kind: 'AviInfraSetting', metadata: { name: 'infra' }, spec: { seGroup: { name: 'SEG-nope' }, network: { vipNetworks: [{ networkName: 'local-vip' }], enableRhi: true, bgpPeerLabels: ['peer-a'] } } });
    double.patch('v1', 'Service', 'lb', 'default', { metadata: { annotations: { 'aviinfrasetting.ako.vmware.com/name': 'infra' } } });
    const rej = await eventually(() => { const s = crdStatus(V1B1, 'AviInfraSetting', 'infra'); return s?.status === 'Rejected' && s; }, 'AviInfraSetting Rejected');
    assert.match(rej.error ?? '', /serviceenginegroup SEG-nope not found/);
    double.patch(V1B1, 'AviInfraSetting', 'infra', undefined, { spec: { seGroup: { name: 'Default-Group' } } });
    await eventually(() => crdStatus(V1B1, 'AviInfraSetting', 'infra')?.status === 'Accepted', 'AviInfraSetting Accepted');
    const vs = await eventually(async () => { const o = await one('virtualservice', vsName); return o?.enable_rhi === true && o; }, 'the VS to take RHI from the AviInfraSetting');
    assert.equal(nameOf(vs.se_group_ref), 'Default-Group');
    await eventually(async () => (await one('vsvip', vsName))?.bgp_peer_labels?.[0] === 'peer-a', 'BGP peer labels on the VsVip');

    double.delete(V1A2, 'L4Rule', 'l4', 'default');
    double.delete(V1B1, 'AviInfraSetting', 'infra');
    await eventually(async () => { const o = await one('pool', poolName); return o && o.lb_algorithm !== 'LB_ALGORITHM_ROUND_ROBIN'; }, 'the L4 pool defaults back');
    await eventually(async () => !(await one('virtualservice', vsName))?.enable_rhi, 'RHI off again');
    const warnings = await eventually(() => {
      const evs = (double.list('v1', 'Event', 'default') as any[]).filter((e) => e.involvedObject?.name === 'lb' && e.reason === 'L4RuleNotApplied');
      return evs.length > 0 && evs;
    }, 'a Warning Event: the L4Rule is gone');
    assert.match(warnings[0].message, /L4Rule default\/l4 not found/);
  });
});
