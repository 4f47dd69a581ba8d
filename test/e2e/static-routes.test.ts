// Static routes end to end: a Node in Kubernetes (the API double) with a Pod CIDR, the operator
// (AKO values, static route sync on by default) writes its route on the VRF context global, and an
// L2-mode SE in network namespaces installs it, so a LoadBalancer Service whose endpoint is a pod
// behind that node is served. The node deleted: the route leaves the VRF and the SE host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startController, type Controller } from '../../src/controller/server.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createKubernetesProvider } from '../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../src/operator/status/kubernetes.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { PASSWORD } from '../controller/support.js';
import { until } from '../engine/support.js';
import { POD, ROUTER, startPodNetwork } from '../engine/pod-network.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { prepareL2Controller } from '../reliability/l2-controller.js';
import { Lab, netnsUnavailable } from '../reliability/netns.js';

const CTL_HOST = `127.113.${210 + (process.pid % 40)}.1`;
const why = netnsUnavailable();

test('a Node\'s Pod CIDR → the operator\'s static route → the SE host route → the pod is served', { skip: why, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-routes-e2e-'));
  const lab = new Lab(dir);
  let closePods = () => {};
  let ctl: Controller | undefined;
  let double: KubeApiDouble | undefined;
  let op: RunningOperator | undefined;
  try {
    ctl = await startController({ listen: `${CTL_HOST}:0`, dataDir: join(dir, 'ctl'), adminPassword: PASSWORD, vipCidr: '10.250.0.96/28', logger: false });
    const { ok, token } = await prepareL2Controller(ctl);
    const net = await startPodNetwork(lab, dir, { host: CTL_HOST, port: Number(new URL(ctl.url).port) }, token);
    closePods = net.close;
    await until('the SE joined', async () => (await ok('GET', '/api/serviceengine')).results.some((s: any) => s.se_connected), 30_000);

    // The cluster: one node (the router plays it) whose pods are 10.99.0.0/24, one LoadBalancer Service.
    double = await KubeApiDouble.start({ host: CTL_HOST.replace(/\.1$/, '.2') });
    double.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' }, spec: { podCIDRs: ['10.99.0.0/24'] } });
    double.setStatus({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' }, status: { addresses: [{ type: 'InternalIP', address: ROUTER }] } });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    double.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [POD], conditions: { ready: true } }],
    });
    const { settings } = settingsFromValues({ AKOSettings: { clusterName: 'e2e', fullSyncFrequency: '0' }, NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] }, L4Settings: { autoFQDN: 'disabled' } }, {});
    const kubeConfig = double.kubeConfig();
    op = await startOperator({
      controller: ctl.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20 }), sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: `${CTL_HOST.replace(/\.1$/, '.3')}:0`, username: 'admin', password: PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });

    const vip = await until('a VIP in the Service status', () => (double!.get('v1', 'Service', 'web', 'default') as any).status?.loadBalancer?.ingress?.[0]?.ip as string | undefined, 30_000);
    await until('the route on the SE host', () => net.ours().startsWith(`10.99.0.0/24 via ${ROUTER} dev eth0`), 30_000);
    const vrf = (await ok('GET', '/api/vrfcontext?name=global')).results[0];
    assert.deepEqual(vrf.static_routes.map((r: any) => [r.route_id, `${r.prefix.ip_addr.addr}/${r.prefix.mask}`, r.next_hop.addr]), [['e2e-1', '10.99.0.0/24', ROUTER]]);
    const client = net.client(vip);
    await until('the pod served through the VIP', () => client.lines.filter((l) => l === 'ok').length >= 5, 30_000);

    double.delete('v1', 'Node', 'worker-1');
    await until('the route gone from the SE host', () => net.ours() === '', 30_000);
    assert.deepEqual((await ok('GET', '/api/vrfcontext?name=global')).results[0].static_routes ?? [], []);
  } finally {
    await op?.close();
    await double?.stop();
    await ctl?.close();
    await lab.close();
    closePods();
    rmSync(dir, { recursive: true, force: true });
  }
});
