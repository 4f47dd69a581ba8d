// AKO's static route sync and SE group cluster label (sync/static-routes.ts): tables (nodes in →
// routes out, other clusters' routes kept, when the sync is on), then the real controller through
// the Kubernetes API double: the SE group gets clustername, nodes added/changed/removed move the
// routes of the VRF context global, a user's and another cluster's routes stay, AviInfraSetting SE
// groups are labelled (not one of another cluster; a follower only checks), a 412 is retried,
// another cluster on the same SE group is refused at start (no crash), deleteConfig removes ours.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { V1Node } from '@kubernetes/client-node';
import { checkSeGroupLabels, desiredStaticRoutes, mergeStaticRoutes, readModifyWrite, staticRouteSyncOn, type StaticRoute } from '../../src/operator/sync/static-routes.js';
import { cniKind, cniPodCidrs } from '../../src/operator/sync/cni-cidrs.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createKubernetesProvider } from '../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../src/operator/status/kubernetes.js';
import { ControllerClient } from '../../src/operator/controller-client/client.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { akoCrds } from '../support/kube-api-double/ako-crds.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from './support/controller.js';

function node(name: string, ip: string | undefined, spec: { podCIDRs?: string[]; podCIDR?: string } = {}, annotation?: string): V1Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, ...(annotation !== undefined ? { annotations: { 'ako.vmware.com/pod-cidrs': annotation } } : {}) },
    spec,
    status: { addresses: [{ type: 'Hostname', address: name }, ...(ip ? [{ type: 'InternalIP', address: ip }] : [])] },
  };
}
const route = (id: string, prefix: string, via: string, labels?: Array<{ key: string; value: string }>): StaticRoute => {
  const [addr, mask] = prefix.split('/');
  return { route_id: id, prefix: { ip_addr: { addr: addr!, type: 'V4' }, mask: Number(mask) }, next_hop: { addr: via, type: 'V4' }, ...(labels ? { labels } : {}) };
};
const ours = (id: string, prefix: string, via: string) => route(id, prefix, via, [{ key: 'clustername', value: 'k1' }]);
const brief = (rs: StaticRoute[]) => rs.map((r) => `${r.route_id} ${r.prefix.ip_addr.addr}/${r.prefix.mask} via ${r.next_hop.addr}${r.labels ? ` [${r.labels.map((l) => `${l.key}=${l.value}`).join(',')}]` : ''}`);

describe('static routes: nodes in → routes out', () => {
  const cases: Array<{ name: string; nodes: V1Node[]; routes: string[]; problems?: RegExp[] }> = [
    {
      name: 'nodes by name, each Pod CIDR in order, route_id <cluster>-<n>, IPv6 Pod CIDRs skipped',
      nodes: [node('n2', '10.0.0.2', { podCIDRs: ['10.244.2.0/24'] }), node('n1', '10.0.0.1', { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] })],
      routes: ['k1-1 10.244.1.0/24 via 10.0.0.1 [clustername=k1]', 'k1-2 10.244.2.0/24 via 10.0.0.2 [clustername=k1]'],
    },
    {
      name: 'the ako.vmware.com/pod-cidrs annotation wins over spec (comma-separated, spaces allowed)',
      nodes: [node('a', '10.0.0.1', { podCIDRs: ['10.244.1.0/24'] }, ' 10.10.1.0/24, 10.10.2.0/25 ')],
      routes: ['k1-1 10.10.1.0/24 via 10.0.0.1 [clustername=k1]', 'k1-2 10.10.2.0/25 via 10.0.0.1 [clustername=k1]'],
    },
    {
      name: 'spec.podCIDR alone (older clusters)',
      nodes: [node('a', '10.0.0.1', { podCIDR: '10.244.9.0/24' })],
      routes: ['k1-1 10.244.9.0/24 via 10.0.0.1 [clustername=k1]'],
    },
    {
      name: 'bad nodes are named and skipped; the others keep their routes',
      nodes: [
        node('a-no-cidr', '10.0.0.1'),
        node('b-no-ip', undefined, { podCIDRs: ['10.244.2.0/24'] }),
        node('c-bad-annotation', '10.0.0.3', {}, '10.10.1.0/24,not-a-cidr'),
        node('d-ok', '10.0.0.4', { podCIDRs: ['10.244.4.0/24'] }),
        node('e-dup', '10.0.0.5', { podCIDRs: ['10.244.4.0/24'] }),
      ],
      routes: ['k1-1 10.244.4.0/24 via 10.0.0.4 [clustername=k1]'],
      problems: [/a-no-cidr.*no Pod CIDR/, /b-no-ip.*InternalIP/, /c-bad-annotation.*"not-a-cidr" is not an IPv4 CIDR/, /e-dup.*10\.244\.4\.0\/24 is already routed/],
    },
    { name: 'no nodes, no routes', nodes: [], routes: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { routes, problems } = desiredStaticRoutes(c.nodes, 'k1');
      assert.deepEqual(brief(routes), c.routes);
      const text = problems.map((p) => `${p.node}: ${p.message}`);
      assert.equal(text.length, c.problems?.length ?? 0, text.join('\n'));
      c.problems?.forEach((re, i) => assert.match(text[i]!, re));
    });
  }
});

describe('static routes: Pod CIDRs from the CNI\'s objects (cniPlugin)', () => {
  const custom = (kind: string, objects: object[]) => new Map([[kind, new Map(objects.map((o, i) => [`o${i}`, o]))]]);
  const block = (nodeName: string, cidr: string, state = 'confirmed', deleted = 'false') =>
    ({ apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity', metadata: { name: `${nodeName}-${cidr.replace(/[./]/g, '-')}` }, spec: { node: nodeName, cidr, state, deleted } });
  const run = (plugin: string, nodes: V1Node[], objects: Map<string, Map<string, unknown>>) =>
    desiredStaticRoutes(nodes, 'k1', undefined, { plugin, byNode: cniPodCidrs(plugin, objects) });

  test('calico: confirmed blockaffinities per node (sorted); pending and deleted blocks left out; spec.podCIDRs ignored', () => {
    const { routes, problems } = run('calico', [node('n1', '10.0.0.1', { podCIDRs: ['10.244.1.0/24'] }), node('n2', '10.0.0.2'), node('n3', '10.0.0.3')], custom('BlockAffinity', [
      block('n1', '192.168.10.64/26'), block('n1', '192.168.10.0/26'), block('n2', '192.168.20.0/26'),
      block('n2', '192.168.20.64/26', 'pending'), block('n2', '192.168.20.128/26', 'confirmed', 'true'),
    ]));
    assert.deepEqual(brief(routes), [
      'k1-1 192.168.10.0/26 via 10.0.0.1 [clustername=k1]', 'k1-2 192.168.10.64/26 via 10.0.0.1 [clustername=k1]', 'k1-3 192.168.20.0/26 via 10.0.0.2 [clustername=k1]',
    ]);
    // n3 has no block yet (no pods there): no route, and nothing to report.
    assert.deepEqual(problems, []);
  });

  test('cilium: CiliumNode spec.ipam.podCIDRs; openshift: HostSubnet host → subnet', () => {
    const cilium = run('cilium', [node('c1', '10.0.1.1'), node('c2', '10.0.1.2')], custom('CiliumNode', [
      { apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'c1' }, spec: { ipam: { podCIDRs: ['10.0.128.0/24', 'fd00::/96'] } } },
      { apiVersion: 'cilium.io/v2', kind: 'CiliumNode', metadata: { name: 'c2' }, spec: { ipam: { podCIDRs: ['10.0.129.0/24'] } } },
    ]));
    assert.deepEqual(brief(cilium.routes), ['k1-1 10.0.128.0/24 via 10.0.1.1 [clustername=k1]', 'k1-2 10.0.129.0/24 via 10.0.1.2 [clustername=k1]']);
    const openshift = run('openshift', [node('o1', '10.0.2.1')], custom('HostSubnet', [
      { apiVersion: 'network.openshift.io/v1', kind: 'HostSubnet', metadata: { name: 'o1' }, host: 'o1', hostIP: '10.0.2.1', subnet: '10.128.0.0/23' },
    ]));
    assert.deepEqual(brief(openshift.routes), ['k1-1 10.128.0.0/23 via 10.0.2.1 [clustername=k1]']);
  });

  test('ovn-kubernetes: the k8s.ovn.org/node-subnets annotation (string or list); unreadable → named; ako.vmware.com/pod-cidrs still wins', () => {
    const ovn = (name: string, ip: string, value: string, podCidrs?: string): V1Node => {
      const n = node(name, ip, { podCIDRs: ['10.244.0.0/24'] }, podCidrs);
      n.metadata!.annotations = { ...n.metadata!.annotations, 'k8s.ovn.org/node-subnets': value };
      return n;
    };
    const { routes, problems } = run('ovn-kubernetes', [
      ovn('a', '10.0.3.1', '{"default":"10.128.0.0/23"}'),
      ovn('b', '10.0.3.2', '{"default":["10.128.2.0/23","10.128.4.0/23"]}'),
      ovn('c', '10.0.3.3', 'not json'),
      ovn('d', '10.0.3.4', '{"default":"10.128.6.0/23"}', '10.77.0.0/24'),
    ], new Map());
    assert.deepEqual(brief(routes), [
      'k1-1 10.128.0.0/23 via 10.0.3.1 [clustername=k1]', 'k1-2 10.128.2.0/23 via 10.0.3.2 [clustername=k1]', 'k1-3 10.128.4.0/23 via 10.0.3.2 [clustername=k1]', 'k1-4 10.77.0.0/24 via 10.0.3.4 [clustername=k1]',
    ]);
    assert.equal(problems.length, 1);
    assert.match(`${problems[0]!.node}: ${problems[0]!.message}`, /^c: no readable k8s\.ovn\.org\/node-subnets annotation/);
  });

  test('which kind each CNI is read from', () => {
    assert.deepEqual(['calico', 'Canal', 'cilium', 'openshift', 'ovn-kubernetes', 'antrea', ''].map((p) => cniKind(p)?.kind), ['BlockAffinity', 'BlockAffinity', 'CiliumNode', 'HostSubnet', undefined, undefined, undefined]);
    assert.equal(cniPodCidrs('antrea', new Map()), undefined);
  });
});

describe('static routes: merged into the VRF context', () => {
  const user = route('user-1', '192.168.0.0/16', '10.0.0.254');
  const other = route('k2-1', '10.99.1.0/24', '10.1.0.1', [{ key: 'clustername', value: 'k2' }]);
  test('other clusters\' and unlabelled routes are kept in place; ours replaced', () => {
    const merged = mergeStaticRoutes([user, ours('k1-1', '10.244.1.0/24', '10.0.0.1'), other], [ours('k1-1', '10.244.1.0/24', '10.0.0.9'), ours('k1-2', '10.244.2.0/24', '10.0.0.2')], 'k1');
    assert.deepEqual(brief(merged!), [
      'user-1 192.168.0.0/16 via 10.0.0.254', 'k2-1 10.99.1.0/24 via 10.1.0.1 [clustername=k2]',
      'k1-1 10.244.1.0/24 via 10.0.0.9 [clustername=k1]', 'k1-2 10.244.2.0/24 via 10.0.0.2 [clustername=k1]',
    ]);
  });
  test('nothing to change → undefined (no write); no routes of ours wanted → only ours removed', () => {
    assert.equal(mergeStaticRoutes([user, ours('k1-1', '10.244.1.0/24', '10.0.0.1')], [ours('k1-1', '10.244.1.0/24', '10.0.0.1')], 'k1'), undefined);
    assert.equal(mergeStaticRoutes(undefined, [], 'k1'), undefined);
    assert.deepEqual(brief(mergeStaticRoutes([user, ours('k1-1', '10.244.1.0/24', '10.0.0.1'), other], [], 'k1')!), brief([user, other]));
  });
  test('a route labelled for another cluster with our route_id is not ours', () => {
    const lookalike = route('k1-1', '10.50.0.0/24', '10.0.0.7', [{ key: 'clustername', value: 'k1-other' }]);
    assert.deepEqual(brief(mergeStaticRoutes([lookalike], [], 'k1') ?? [lookalike]), brief([lookalike]));
  });
});

describe('static routes: when the sync is on (settings)', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, boolean]> = [
    ['defaults (AKO: on)', {}, {}, true],
    ['disableStaticRouteSync: true', { AKOSettings: { disableStaticRouteSync: 'true' } }, {}, false],
    ['env DISABLE_STATIC_ROUTE_SYNC=true', {}, { DISABLE_STATIC_ROUTE_SYNC: 'true' }, false],
    ['serviceType NodePort', { L7Settings: { serviceType: 'NodePort' } }, {}, false],
    ['serviceType NodePortLocal', { L7Settings: { serviceType: 'NodePortLocal' } }, {}, false],
    ['cniPlugin ncp', { AKOSettings: { cniPlugin: 'ncp' } }, {}, false],
    ['cniPlugin antrea', { AKOSettings: { cniPlugin: 'antrea' } }, {}, true],
  ];
  for (const [name, values, env, on] of cases) {
    test(name, () => {
      const { settings, problems } = settingsFromValues({ AKOSettings: { clusterName: 'k1', ...(values.AKOSettings as object ?? {}) }, ...(values.L7Settings ? { L7Settings: values.L7Settings } : {}) }, env);
      assert.deepEqual(problems, []);
      assert.equal(staticRouteSyncOn(settings), on);
    });
  }
  test('cniPlugin calico is taken as it is (lower-cased), nothing reported', () => {
    const { settings, problems } = settingsFromValues({ AKOSettings: { clusterName: 'k1', cniPlugin: 'Calico' } }, {});
    assert.equal(settings.cniPlugin, 'calico');
    assert.deepEqual(problems, []);
  });
});

const BLOCK_AFFINITY_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
  metadata: { name: 'blockaffinities.crd.projectcalico.org' },
  spec: {
    group: 'crd.projectcalico.org', scope: 'Cluster',
    names: { kind: 'BlockAffinity', plural: 'blockaffinities', singular: 'blockaffinity', listKind: 'BlockAffinityList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

const calicoNode = (name: string, ip: string) => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDRs: ['10.244.99.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: ip }] },
});
const block = (nodeName: string, cidr: string, state = 'confirmed') => ({
  apiVersion: 'crd.projectcalico.org/v1', kind: 'BlockAffinity',
  metadata: { name: `${nodeName}-${cidr.replace(/[./]/g, '-')}` }, spec: { node: nodeName, cidr, state, deleted: 'false' },
});

describe('static routes against the real controller, through the Kubernetes API double', () => {
  let double: KubeApiDouble;
  let ctl: TestController | undefined;
  let skip: string | undefined;
  const operators: RunningOperator[] = [];

  before(async () => {
    double = await KubeApiDouble.start({ host: '127.113.0.1' });
    for (const crd of akoCrds()) double.create(crd);
    const c = await startTestController('127.113.0.2', '127.113.1.0/28');
    if ('unavailable' in c) skip = `controller not available: ${c.unavailable}`;
    else ctl = c;
  });
  after(async () => {
    for (const op of operators) await op.close().catch(() => undefined);
    await ctl?.stop();
    await double?.stop();
  });

  /** An operator on the double; `cniPlugin` also names the SE group it uses (Default-Group carries cluster "routes"' label). */
  async function operator(clusterName: string, problems: string[] = [], cniPlugin?: string) {
    const { settings } = settingsFromValues({
      AKOSettings: { clusterName, fullSyncFrequency: '0', ...(cniPlugin ? { cniPlugin } : {}) },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      ...(cniPlugin ? { ControllerSettings: { serviceEngineGroupName: `${clusterName}-seg` } } : {}),
    }, {});
    const kubeConfig = double.kubeConfig();
    const provider = createKubernetesProvider({ kubeConfig, debounceMs: 20, retryMinMs: 100, retryMaxMs: 300, cniKind: cniKind(settings.cniPlugin) });
    const op = await startOperator({
      controller: ctl!.url, provider, sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: '127.113.0.3:0', username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
      lifecycle: { checkFailed: (p) => problems.push(p) },
    });
    operators.push(op);
    return { op, settings };
  }

  const vrf = async () => (await ctl!.api('GET', '/api/vrfcontext?name=global')).body.results[0];
  const vrfRoutes = async () => brief((await vrf()).static_routes ?? []);
  const kubeNode = (n: V1Node) => ({ ...n, metadata: { ...n.metadata } });

  /** The cluster's routes to the Calico test nodes (10.1.0.x), without route ids: nodes of the test above are in the double too. */
  const ourRoutes = async (clusterName: string): Promise<string[]> =>
    (await vrfRoutes()).filter((r) => r.endsWith(`[clustername=${clusterName}]`) && r.includes(' via 10.1.0.')).map((r) => r.replace(/ \[.*\]$/, '').replace(/^\S+ /, ''));


  test('SE group labelled; routes follow nodes; others kept; 412 retried; another cluster refused; deleteConfig', async (t) => {
    if (skip) return t.skip(skip);
    // A user's route and another cluster's are on the VRF already.
    const g = await vrf();
    const put = await ctl!.api('PUT', `/api/vrfcontext/${g.uuid}`, { ...g, static_routes: [route('user-1', '192.168.0.0/16', '10.0.0.254'), route('k2-1', '10.99.1.0/24', '10.1.0.1', [{ key: 'clustername', value: 'k2' }])] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    double.create(kubeNode(node('w1', '10.0.0.1', { podCIDRs: ['10.244.1.0/24'] })) as any);
    double.create(kubeNode(node('w2', '10.0.0.2', { podCIDRs: ['10.244.2.0/24'] })) as any);

    const { op, settings } = await operator('routes');
    const seg = async () => (await ctl!.api('GET', '/api/serviceenginegroup?name=Default-Group')).body.results[0];
    await eventually(async () => JSON.stringify((await seg()).labels) === JSON.stringify([{ key: 'clustername', value: 'routes' }]), 'the SE group labelled clustername=routes');
    const mine = (id: string, prefix: string, via: string) => `${id} ${prefix} via ${via} [clustername=routes]`;
    const kept = ['user-1 192.168.0.0/16 via 10.0.0.254', 'k2-1 10.99.1.0/24 via 10.1.0.1 [clustername=k2]'];
    await eventually(async () => JSON.stringify(await vrfRoutes()) === JSON.stringify([...kept, mine('routes-1', '10.244.1.0/24', '10.0.0.1'), mine('routes-2', '10.244.2.0/24', '10.0.0.2')]), 'routes of w1 and w2 on the VRF', 10_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await vrfRoutes())}`); });

    // A node added (annotation), one changed (new IP), one removed.
    double.create(kubeNode(node('w3', '10.0.0.3', {}, '10.250.3.0/24')) as any);
    double.setStatus(kubeNode(node('w1', '10.0.0.11', { podCIDRs: ['10.244.1.0/24'] })) as any);
    double.delete('v1', 'Node', 'w2');
    const after = [...kept, mine('routes-1', '10.244.1.0/24', '10.0.0.11'), mine('routes-2', '10.250.3.0/24', '10.0.0.3')];
    await eventually(async () => JSON.stringify(await vrfRoutes()) === JSON.stringify(after), 'routes follow the nodes', 10_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await vrfRoutes())}`); });

    // SE groups named by AviInfraSettings get the label too; one labelled for another cluster keeps its labels.
    const segCreated = await ctl!.api('POST', '/api/serviceenginegroup', { name: 'infra-seg' });
    assert.ok(segCreated.status < 300, JSON.stringify(segCreated.body));
    await ctl!.api('POST', '/api/serviceenginegroup', { name: 'taken-seg', labels: [{ key: 'clustername', value: 'someone' }] });
    for (const [name, seg] of [['infra-a', 'infra-seg'], ['infra-b', 'taken-seg']]) {
      double.create({ apiVersion: 'ako.vmware.com/v1beta1', kind: 'AviInfraSetting', metadata: { name }, spec: { seGroup: { name: seg } } });
    }
    const labelsOf = async (name: string) => JSON.stringify((await ctl!.api('GET', `/api/serviceenginegroup?name=${name}`)).body.results[0]?.labels);
    await eventually(async () => (await labelsOf('infra-seg')) === JSON.stringify([{ key: 'clustername', value: 'routes' }]), 'the AviInfraSetting SE group labelled');
    assert.equal(await labelsOf('taken-seg'), JSON.stringify([{ key: 'clustername', value: 'someone' }]));

    // GET → modify → PUT: a stale read is refused with 412 by the controller and read again.
    const client = new ControllerClient({ url: ctl!.url, username: 'admin', password: ADMIN_PASSWORD, auth: 'basic' });
    try {
      const stale = await vrf();
      await ctl!.api('PUT', `/api/vrfcontext/${stale.uuid}`, { ...stale, static_routes: [...stale.static_routes, route('user-2', '172.16.0.0/12', '10.0.0.253')] });
      let reads = 0;
      const r = await readModifyWrite(client, 'vrfcontext', async () => (reads++ === 0 ? stale : vrf()), (o) => ({ ...o, attrs: [{ key: 'touched', value: String(reads) }] }));
      assert.equal(r, 'written');
      assert.equal(reads, 2, 'read again after the 412');
      assert.ok((await vrfRoutes()).includes('user-2 172.16.0.0/12 via 10.0.0.253'), 'the concurrent write survived');

      // A follower's start-up check only reads: the label of an unlabelled SE group is left to the leader.
      await ctl!.api('POST', '/api/serviceenginegroup', { name: 'quiet-seg' });
      const quiet = { ...settings, controller: { ...settings.controller, serviceEngineGroupName: 'quiet-seg' } };
      assert.equal(await checkSeGroupLabels(client, quiet, false), undefined);
      assert.equal(await labelsOf('quiet-seg'), undefined, 'a follower writes nothing');
      assert.equal(await checkSeGroupLabels(client, quiet, true), undefined);
      assert.equal(await labelsOf('quiet-seg'), JSON.stringify([{ key: 'clustername', value: 'routes' }]));
    } finally {
      await client.close();
    }

    // Another cluster on the same SE group: refused at start with AKO's message, retried, no crash.
    const problems: string[] = [];
    const other = await operator('other', problems);
    await eventually(() => problems.length > 0, 'the start-up check of cluster other fails');
    assert.match(problems[0]!, /Labels does not match with cluster name for SE group Default-Group/);
    const status = await (await fetch(`${other.op.url}/api/status`)).json() as { ready: boolean; problem?: string };
    assert.equal(status.ready, false);
    assert.match(status.problem ?? '', /Labels does not match/);
    assert.equal((await vrfRoutes()).filter((r) => r.includes('clustername=other')).length, 0);

    // deleteConfig: only this cluster's routes go.
    settings.deleteConfig = true;
    op.resync();
    await eventually(async () => JSON.stringify(await vrfRoutes()) === JSON.stringify([...kept, 'user-2 172.16.0.0/12 via 10.0.0.253']), 'only our routes removed by deleteConfig', 10_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await vrfRoutes())}`); });
  });

  test('cniPlugin calico: routes from confirmed BlockAffinities (not spec.podCIDRs), following Calico as blocks come and go; the CRD may be installed late', { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    double.create(calicoNode('cal-1', '10.1.0.1') as any);
    double.create(calicoNode('cal-2', '10.1.0.2') as any);
    // Started before Calico's CRD exists: the operator comes up and serves; the kind is retried.
    await ctl!.api('POST', '/api/serviceenginegroup', { name: 'cal-seg' });
    const problems: string[] = [];
    const { op } = await operator('cal', problems, 'calico');
    await eventually(async () => (await fetch(`${op.url}/api/status`)).ok, 'the operator ready without the CRD');
    assert.deepEqual(problems, []);
    assert.deepEqual(await ourRoutes('cal'), [], 'no route from spec.podCIDRs with cniPlugin calico');

    double.create(BLOCK_AFFINITY_CRD as any);
    double.create(block('cal-1', '192.168.1.0/26') as any);
    double.create(block('cal-2', '192.168.2.0/26') as any);
    double.create(block('cal-2', '192.168.2.64/26', 'pending') as any);
    const want1 = ['192.168.1.0/26 via 10.1.0.1', '192.168.2.0/26 via 10.1.0.2'];
    await eventually(async () => JSON.stringify(await ourRoutes('cal')) === JSON.stringify(want1), 'routes of the confirmed blocks', 20_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await ourRoutes('cal'))}`); });

    // Calico confirms the pending block and releases cal-1's: the routes follow.
    double.update(block('cal-2', '192.168.2.64/26') as any);
    double.delete('crd.projectcalico.org/v1', 'BlockAffinity', 'cal-1-192-168-1-0-26');
    const want2 = ['192.168.2.0/26 via 10.1.0.2', '192.168.2.64/26 via 10.1.0.2'];
    await eventually(async () => JSON.stringify(await ourRoutes('cal')) === JSON.stringify(want2), 'routes follow the blocks', 20_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await ourRoutes('cal'))}`); });
  });
});
