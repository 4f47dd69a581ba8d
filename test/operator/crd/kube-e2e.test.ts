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
import { shardOf } from '../../../src/operator/translate/names.js';
import { CA_PEM, KEY_PEM } from './harness.js';

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

  test('TLS Ingress of an IngressClass with an AviInfraSetting, HostRule and HTTPRule re-encrypt: names, certificate, aliases, PKI profile; all deleted → defaults', async (t) => {
    if (skip) return t.skip(skip);
    const host = 'secure.portico.local';
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    assert.equal((await ctl!.api('POST', '/api/httppolicyset', { name: 'user-policy', http_request_policy: { rules: [] } })).status, 201);
    double.create({ apiVersion: V1B1, kind: 'AviInfraSetting', metadata: { name: 'infra-l7' }, spec: { seGroup: { name: 'Default-Group' }, network: { vipNetworks: [{ networkName: 'local-vip' }] }, l7Settings: { shardSize: 'MEDIUM' } } });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-infra' }, spec: { controller: 'ako.vmware.com/avi-lb', parameters: { apiGroup: 'ako.vmware.com', kind: 'AviInfraSetting', name: 'infra-l7' } } });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'secure-tls', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(CA_PEM), 'tls.key': b64(KEY_PEM) } });
    double.create({ apiVersion: V1B1, kind: 'HostRule', metadata: { name: 'secure-rule', namespace: 'default' }, spec: { virtualhost: {
      fqdn: host, tls: { sslKeyCertificate: { name: 'System-Default-Cert', type: 'ref' }, sslProfile: 'System-Standard-PFS' }, aliases: ['alias.portico.local'], httpPolicy: { policySets: ['user-policy'] },
    } } });
    double.create({ apiVersion: V1B1, kind: 'HTTPRule', metadata: { name: 'secure-http', namespace: 'default' }, spec: { fqdn: host, paths: [{ target: '/', tls: { type: 'reencrypt', destinationCA: CA_PEM }, enableHTTP2: true }] } });
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'secure', namespace: 'default' }, spec: { ingressClassName: 'avi-infra', tls: [{ hosts: [host], secretName: 'secure-tls' }], rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } });

    const child = `crd--infra-l7-${host}`;
    const parent = `crd--Shared-L7-infra-l7-${shardOf(host, 4)}`;
    const poolName = `crd--infra-l7-default-${host}_-secure`;
    const vs = await eventually(() => one('virtualservice', child), `the SNI child ${child}`);
    assert.equal(nameOf(vs.vh_parent_vs_ref), parent);
    assert.deepEqual(vs.ssl_key_and_certificate_refs.map(nameOf), ['System-Default-Cert']);
    assert.equal(nameOf(vs.ssl_profile_ref), 'System-Standard-PFS');
    assert.deepEqual(vs.vh_domain_name, [host, 'alias.portico.local']);
    assert.ok(vs.http_policies.some((p: any) => nameOf(p.http_policy_set_ref) === 'user-policy'), JSON.stringify(vs.http_policies));
    const pool = await eventually(async () => { const o = await one('pool', poolName); return o?.pki_profile_ref && o; }, `pool ${poolName} with a PKI profile`);
    assert.equal(pool.enable_http2, true);
    assert.equal(nameOf(pool.ssl_profile_ref), 'System-Standard');
    const pki = await one('pkiprofile', `${poolName}-pkiprofile`);
    assert.equal(pki?.created_by, 'ako-crd');
    for (const [kind, name] of [['HostRule', 'secure-rule'], ['HTTPRule', 'secure-http']]) {
      await eventually(() => crdStatus(V1B1, kind!, name!, 'default')?.status === 'Accepted', `${kind} ${name} Accepted`);
    }
    await eventually(() => crdStatus(V1B1, 'AviInfraSetting', 'infra-l7')?.status === 'Accepted', 'AviInfraSetting Accepted');
    await eventually(async () => ((await one('vsvip', parent))?.dns_info ?? []).some((d: any) => d.fqdn === 'alias.portico.local'), 'the alias in DNS on the parent VsVip');

    double.delete(V1B1, 'HTTPRule', 'secure-http', 'default');
    double.delete(V1B1, 'HostRule', 'secure-rule', 'default');
    double.delete(V1B1, 'AviInfraSetting', 'infra-l7');
    const plain = await eventually(() => one('virtualservice', `crd--${host}`), 'the child under its default name');
    assert.deepEqual(plain.ssl_key_and_certificate_refs.map(nameOf), [`crd--${host}`]);
    assert.ok(!plain.ssl_profile_ref && plain.vh_domain_name.length === 1);
    await eventually(async () => !(await one('virtualservice', child)) && !(await one('pkiprofile', `${poolName}-pkiprofile`)), 'the AviInfraSetting-named objects and the PKI profile deleted');
    await eventually(() => ((double.get('networking.k8s.io/v1', 'Ingress', 'secure', 'default') as any).status?.loadBalancer?.ingress ?? []).length > 0, 'the Ingress still served');
  });

  test('Namespace AviInfraSetting (public IP, node networks) and a Wildcard HostRule (disabled, overwrite policies, error page stored); deleted → defaults', async (t) => {
    if (skip) return t.skip(skip);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    assert.equal((await ctl!.api('POST', '/api/httppolicyset', { name: 'team-policy', http_request_policy: { rules: [] } })).status, 201);
    double.create({ apiVersion: V1B1, kind: 'AviInfraSetting', metadata: { name: 'ns-infra' }, spec: { network: { vipNetworks: [{ networkName: 'local-vip' }], nodeNetworks: [{ networkName: 'local-vip', cidrs: ['127.61.0.0/16'] }], enablePublicIP: true } } });
    double.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', annotations: { 'aviinfrasetting.ako.vmware.com/name': 'ns-infra' } } });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'team' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'team-tls', namespace: 'team' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(CA_PEM), 'tls.key': b64(KEY_PEM) } });
    double.create({ apiVersion: V1B1, kind: 'HostRule', metadata: { name: 'team-wild', namespace: 'team' }, spec: { virtualhost: {
      fqdn: '*.team.portico.local', fqdnType: 'Wildcard', enableVirtualHost: false, errorPageProfile: 'my-errors', httpPolicy: { policySets: ['team-policy'], overwrite: true },
    } } });
    const hosts = ['x.team.portico.local', 'y.team.portico.local'];
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'team', namespace: 'team' }, spec: {
      tls: [{ hosts, secretName: 'team-tls' }], rules: hosts.map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } })),
    } });

    const parent = 'crd--Shared-L7-ns-infra-0';
    const vip = await eventually(async () => { const o = await one('vsvip', parent); return o?.vip?.[0] && o; }, `the VsVip of ${parent}`);
    assert.equal(vip.vip[0].auto_allocate_floating_ip, true);
    for (const h of hosts) {
      const child = await eventually(() => one('virtualservice', `crd--${h}`), `the child of ${h} (namespace-scoped: no setting in its name)`);
      assert.equal(nameOf(child.vh_parent_vs_ref), parent);
      assert.equal(child.enabled, false);
      assert.deepEqual(child.http_policies.map((p: any) => nameOf(p.http_policy_set_ref)), ['team-policy']);
      assert.match(child.error_page_profile_ref, /my-errors/);
      const pool = await one('pool', `crd--team-${h}_-team`);
      assert.equal(pool?.placement_networks?.[0]?.subnet?.ip_addr?.addr, '127.61.0.0');
    }
    const hr = await eventually(() => { const s = crdStatus(V1B1, 'HostRule', 'team-wild', 'team'); return s?.status === 'Accepted' && s; }, 'HostRule Accepted');
    assert.match(hr.error ?? '', /errorPageProfile/);

    double.delete(V1B1, 'HostRule', 'team-wild', 'team');
    double.delete(V1B1, 'AviInfraSetting', 'ns-infra');
    await eventually(async () => (await one('virtualservice', `crd--${hosts[0]}`))?.enabled === true, 'the child enabled again');
    const child = await one('virtualservice', `crd--${hosts[0]}`);
    assert.ok(!child.error_page_profile_ref && child.http_policies.every((p: any) => nameOf(p.http_policy_set_ref) !== 'team-policy'));
    await eventually(async () => !(await one('vsvip', parent)), `${parent} gone with its AviInfraSetting`);
    await eventually(async () => !(await one('pool', `crd--team-${hosts[0]}_-team`))?.placement_networks?.length, 'node networks gone from the pool');
  });
});
