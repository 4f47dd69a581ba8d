// Renders charts/portico-operator as `helm template` would and checks every document against the
// Kubernetes schemas (types, required fields, unknown fields) and against the values given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { kubeVersionSatisfies, loadChart, renderChart, ValuesError, RenderError, type Rendered, type Values } from '../../src/packaging/chart.js';
import { validateObject } from './kube-validate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const chart = loadChart(join(root, 'charts/portico-operator'));
const akoUser = parseYaml(readFileSync(join(root, 'test/packaging/fixtures/ako-user-values.yaml'), 'utf8')) as Values;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function find(r: Rendered, kind: string, name?: string): Obj | undefined {
  return r.docs.map((d) => d.object as Obj).find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function must(r: Rendered, kind: string, name?: string): Obj {
  const o = find(r, kind, name);
  assert.ok(o, `${kind} ${name ?? ''} rendered`);
  return o;
}

async function assertAllValid(r: Rendered): Promise<void> {
  for (const d of r.docs) {
    const problems = await validateObject(d.object);
    assert.deepEqual(problems, [], `${d.source} ${String(d.object.kind)}/${String((d.object.metadata as Obj)?.name)}`);
  }
  // what the API server checks across fields: mounts name declared volumes, names are unique
  const sts = find(r, 'StatefulSet');
  if (sts) {
    const pod = sts.spec.template.spec;
    const volumes = (pod.volumes as Obj[]).map((v) => v.name as string);
    assert.equal(new Set(volumes).size, volumes.length, 'volume names are unique');
    const injected = pod.containers[0].volumeMounts.some((m: Obj) => m.name === 'istio-certs') ? ['istio-certs'] : [];
    for (const m of pod.containers[0].volumeMounts as Obj[]) assert.ok([...volumes, ...injected].includes(m.name), `volume ${m.name} declared`);
    const envs = (pod.containers[0].env as Obj[]).map((e) => e.name as string);
    assert.equal(new Set(envs).size, envs.length, 'env names are unique');
    assert.equal(pod.containers[0].ports[0].containerPort, pod.containers[0].livenessProbe.httpGet.port, 'the probe hits the declared port');
    assert.deepEqual(sts.spec.selector.matchLabels, Object.fromEntries(Object.entries(sts.spec.template.metadata.labels).filter(([k]) => k in sts.spec.selector.matchLabels)), 'the selector matches the pod labels');
  }
}

function container(r: Rendered): Obj {
  return must(r, 'StatefulSet', 'ako').spec.template.spec.containers[0];
}

function envNames(c: Obj): string[] {
  return (c.env as Obj[]).map((e) => e.name as string);
}

describe('portico-operator chart: default values', () => {
  const r = renderChart(chart, { includeCrds: true });

  it('renders valid Kubernetes documents only', async () => {
    assert.ok(r.docs.length >= 10);
    await assertAllValid(r);
  });

  it('runs one replica of the operator with the documented command line', () => {
    const sts = must(r, 'StatefulSet', 'ako');
    assert.equal(sts.spec.replicas, 1);
    assert.deepEqual(container(r).args, ['operator', '--in-cluster', '--values', '/etc/portico/values.yaml', '--controller', 'https://', '--listen', '0.0.0.0:8080']);
    assert.ok(!(container(r).args as string[]).includes('--leader-election'), 'no leader election for one replica');
  });

  it('probes /api/status on apiServerPort, runs as non-root on a read-only root filesystem', () => {
    const c = container(r);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/api/status', port: 8080 });
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.runAsNonRoot, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    const pod = must(r, 'StatefulSet', 'ako').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.deepEqual(c.resources, { limits: { cpu: '350m', memory: '400Mi' }, requests: { cpu: '200m', memory: '300Mi' } });
    const tmp = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp');
    assert.ok(tmp, 'a writable /tmp next to the read-only root');
  });

  it('reads credentials from avi-secret; creates none without credentials', () => {
    assert.equal(find(r, 'Secret'), undefined);
    const env = container(r).env as Obj[];
    const user = env.find((e) => e.name === 'PORTICO_USERNAME')!;
    assert.deepEqual(user.valueFrom.secretKeyRef, { name: 'avi-secret', key: 'username' });
    assert.equal(env.find((e) => e.name === 'PORTICO_PASSWORD')!.valueFrom.secretKeyRef.name, 'avi-secret');
  });

  it('creates IngressClass avi-lb as the default class', () => {
    const ic = must(r, 'IngressClass', 'avi-lb');
    assert.equal(ic.spec.controller, 'ako.vmware.com/avi-lb');
    assert.equal(ic.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  it('writes AKO configmap keys and the values file (without credentials) the operator reads', () => {
    const cm = must(r, 'ConfigMap', 'avi-k8s-config');
    assert.equal(cm.data.clusterName, 'my-cluster');
    assert.equal(cm.data.shardVSSize, 'LARGE');
    assert.equal(cm.data.vipNetworkList, '[]');
    assert.equal(cm.data.primaryInstance, 'true');
    for (const v of Object.values(cm.data as Record<string, unknown>)) assert.equal(typeof v, 'string');
    const values = parseYaml(cm.data['values.yaml'] as string) as Values;
    assert.equal((values.AKOSettings as Obj).clusterName, 'my-cluster');
    assert.equal(values.avicredentials, undefined);
    const sts = must(r, 'StatefulSet', 'ako');
    const vol = (sts.spec.template.spec.volumes as Obj[]).find((v) => v.configMap);
    assert.equal(vol!.configMap.name, 'avi-k8s-config');
  });

  it('grants read on watched kinds, writes only statuses and Events, no Lease for one replica', () => {
    const cr = must(r, 'ClusterRole');
    const rules = cr.rules as Obj[];
    const verbsFor = (group: string, resource: string) => rules.filter((x) => x.apiGroups.includes(group) && x.resources.includes(resource)).flatMap((x) => x.verbs as string[]);
    for (const [g, res] of [['', 'services'], ['', 'secrets'], ['', 'namespaces'], ['', 'nodes'], ['discovery.k8s.io', 'endpointslices'], ['networking.k8s.io', 'ingresses'], ['networking.k8s.io', 'ingressclasses'], ['ako.vmware.com', 'hostrules'], ['ako.vmware.com', 'httprules'], ['ako.vmware.com', 'aviinfrasettings'], ['ako.vmware.com', 'l4rules']] as const) {
      assert.deepEqual(new Set(verbsFor(g, res)).has('list'), true, `${g}/${res} listable`);
      assert.ok(!verbsFor(g, res).some((v) => ['create', 'delete', 'deletecollection', 'update'].includes(v)), `${g}/${res} not writable`);
    }
    for (const [g, res] of [['', 'services/status'], ['networking.k8s.io', 'ingresses/status'], ['ako.vmware.com', 'hostrules/status'], ['ako.vmware.com', 'l4rules/status']] as const) {
      assert.ok(verbsFor(g, res).includes('patch'), `${g}/${res} patchable`);
    }
    assert.ok(verbsFor('', 'events').includes('create'));
    assert.ok(!rules.some((x) => (x.verbs as string[]).includes('*') || (x.resources as string[]).includes('*')), 'no wildcards');
    assert.deepEqual(verbsFor('', 'pods'), [], 'pods only for NodePortLocal');
    const role = must(r, 'Role');
    assert.ok(!(role.rules as Obj[]).some((x) => x.apiGroups.includes('coordination.k8s.io')));
    const crb = must(r, 'ClusterRoleBinding');
    assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'ako-sa', namespace: 'avi-system' }]);
    assert.equal(must(r, 'StatefulSet').spec.template.spec.serviceAccountName, must(r, 'ServiceAccount').metadata.name);
  });

  it('ships the four CRDs of group ako.vmware.com with a status subresource', () => {
    const crds = r.docs.filter((d) => d.object.kind === 'CustomResourceDefinition').map((d) => d.object as Obj);
    assert.deepEqual(crds.map((c) => c.metadata.name).sort(), ['aviinfrasettings.ako.vmware.com', 'hostrules.ako.vmware.com', 'httprules.ako.vmware.com', 'l4rules.ako.vmware.com']);
    for (const c of crds) {
      assert.equal(c.spec.group, 'ako.vmware.com');
      assert.equal((c.spec.versions as Obj[]).filter((v) => v.storage).length, 1);
      for (const v of c.spec.versions as Obj[]) assert.deepEqual(v.subresources, { status: {} });
    }
  });
});

describe('portico-operator chart: an AKO user\'s full values file', () => {
  const r = renderChart(chart, { values: [akoUser], namespace: 'avi-system' });

  it('is accepted unchanged and renders valid documents', async () => {
    await assertAllValid(r);
  });

  it('carries the user\'s settings to the configmap, the pod and the secret', () => {
    const cm = must(r, 'ConfigMap', 'avi-k8s-config');
    assert.equal(cm.data.clusterName, 'lab-cluster-01');
    assert.equal(cm.data.controllerIP, '10.10.10.5');
    assert.equal(cm.data.cloudName, 'vcenter-cloud');
    assert.equal(cm.data.serviceType, 'NodePort');
    assert.equal(cm.data.shardVSSize, 'SMALL');
    assert.equal(cm.data.nodeKey, 'node-role.kubernetes.io/worker');
    assert.equal(cm.data.nsSyncLabelKey, 'ako-sync');
    assert.deepEqual(JSON.parse(cm.data.vipNetworkList as string), [{ cidr: '10.10.30.0/24', networkName: 'vip-pg' }]);
    assert.deepEqual(JSON.parse(cm.data.blockedNamespaceList as string), ['kube-system', 'kube-public']);
    assert.ok(!(cm.data['values.yaml'] as string).includes('Lab-Passw0rd!'), 'no password in the configmap');

    const c = container(r);
    assert.equal(c.args[c.args.indexOf('--controller') + 1], 'https://10.10.10.5');
    assert.match(c.image, /^ghcr\.io\/portico\/portico-operator:/, 'AKO\'s image is replaced by Portico\'s');
    assert.deepEqual(c.resources.limits, { cpu: '500m', memory: '512Mi' });
    assert.ok(envNames(c).includes('USE_PVC'));
    const pod = must(r, 'StatefulSet', 'ako').spec.template;
    assert.equal((pod.spec.volumes as Obj[]).find((v) => v.persistentVolumeClaim)!.persistentVolumeClaim.claimName, 'ako-logs');
    assert.deepEqual(pod.spec.imagePullSecrets, [{ name: 'registry-creds' }]);
    assert.deepEqual(pod.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.equal(pod.spec.tolerations[0].operator, 'Exists');
    assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');

    const secret = must(r, 'Secret', 'avi-secret');
    assert.equal(Buffer.from(secret.data.username as string, 'base64').toString(), 'admin');
    assert.equal(Buffer.from(secret.data.password as string, 'base64').toString(), 'Lab-Passw0rd!');
    assert.ok((secret.data.certificateAuthorityData as string).length > 0);
    assert.equal(secret.data.authtoken, undefined);
  });
});

describe('portico-operator chart: HA and secondary instances', () => {
  it('runs two replicas with the Lease for leader election', async () => {
    const r = renderChart(chart, { values: [{ replicaCount: 2, ControllerSettings: { controllerHost: 'ctl.example.com:8443' } }] });
    await assertAllValid(r);
    const sts = must(r, 'StatefulSet', 'ako');
    assert.equal(sts.spec.replicas, 2);
    assert.ok(sts.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.length > 0);
    assert.equal((container(r).args as string[]).at(-1), '--leader-election');
    assert.ok(envNames(container(r)).includes('POD_NAME') && envNames(container(r)).includes('POD_NAMESPACE'), 'the Lease identity and namespace');
    const leaseRules = (must(r, 'Role').rules as Obj[]).filter((x) => x.apiGroups.includes('coordination.k8s.io'));
    assert.deepEqual(leaseRules.flatMap((x) => x.verbs as string[]).sort(), ['create', 'get', 'patch', 'update', 'watch']);
    assert.ok(leaseRules.some((x) => (x.resourceNames ?? []).includes('ako-lease-lock')));
    assert.equal(container(r).args[container(r).args.indexOf('--controller') + 1], 'https://ctl.example.com:8443');
  });

  it('creates no IngressClass for a secondary instance', async () => {
    const r = renderChart(chart, { values: [{ AKOSettings: { primaryInstance: false, clusterName: 'second' } }] });
    await assertAllValid(r);
    assert.equal(find(r, 'IngressClass'), undefined);
    assert.equal(must(r, 'ConfigMap').data.primaryInstance, 'false');
    // AKO's quoted form of false behaves the same
    const quoted = renderChart(chart, { values: [{ AKOSettings: { primaryInstance: 'false' } }] });
    assert.equal(find(quoted, 'IngressClass'), undefined);
  });

  it('refuses two replicas of a secondary instance', () => {
    assert.throws(() => renderChart(chart, { values: [{ replicaCount: 2, AKOSettings: { primaryInstance: false } }] }),
      (e: unknown) => e instanceof RenderError && /replicaCount 2 is not supported for a secondary instance/.test((e as Error).message) && /statefulset\.yaml:\d+/.test((e as Error).message));
  });

  it('drops the default-class annotation when defaultIngController is false', () => {
    const r = renderChart(chart, { values: [{ L7Settings: { defaultIngController: 'false' } }] });
    assert.equal(must(r, 'IngressClass', 'avi-lb').metadata.annotations, undefined);
  });

  it('adds pod read access in NodePortLocal mode and honours apiServerPort', async () => {
    const r = renderChart(chart, { values: [{ L7Settings: { serviceType: 'NodePortLocal' }, AKOSettings: { apiServerPort: 9191 } }] });
    await assertAllValid(r);
    assert.ok((must(r, 'ClusterRole').rules as Obj[]).some((x) => x.resources.includes('pods')));
    assert.equal(container(r).livenessProbe.httpGet.port, 9191);
    assert.ok((container(r).args as string[]).includes('0.0.0.0:9191'));
  });

  it('reads the CNI\'s Pod CIDR objects only for the cniPlugin that has them (Calico/canal, Cilium, OpenShift)', async () => {
    const groupsFor = (cniPlugin?: string) => {
      const rr = renderChart(chart, { values: cniPlugin === undefined ? [] : [{ AKOSettings: { cniPlugin } }] });
      return (must(rr, 'ClusterRole').rules as Obj[]).filter((x) => ['crd.projectcalico.org', 'cilium.io', 'network.openshift.io'].includes(x.apiGroups[0]))
        .map((x) => `${x.apiGroups[0]}/${x.resources.join(',')}:${x.verbs.join(',')}`);
    };
    assert.deepEqual(groupsFor(), []);
    assert.deepEqual(groupsFor('antrea'), []);
    assert.deepEqual(groupsFor('calico'), ['crd.projectcalico.org/blockaffinities:get,list,watch']);
    assert.deepEqual(groupsFor('canal'), ['crd.projectcalico.org/blockaffinities:get,list,watch']);
    assert.deepEqual(groupsFor('cilium'), ['cilium.io/ciliumnodes:get,list,watch']);
    assert.deepEqual(groupsFor('openshift'), ['network.openshift.io/hostsubnets:get,list,watch']);
    await assertAllValid(renderChart(chart, { values: [{ AKOSettings: { cniPlugin: 'calico' } }] }));
  });

  it('lets users loosen the security context explicitly, keeping the rest', () => {
    const r = renderChart(chart, { values: [{ securityContext: { readOnlyRootFilesystem: false } }] });
    assert.equal(container(r).securityContext.readOnlyRootFilesystem, false);
    assert.equal(container(r).securityContext.runAsNonRoot, true);
  });
});

describe('portico-operator chart: values.schema.json', () => {
  const problems = (values: Values): string[] => {
    try { renderChart(chart, { values: [values] }); } catch (e) {
      if (e instanceof ValuesError) return e.problems;
      throw e;
    }
    return [];
  };

  it('rejects unknown top-level keys, naming them', () => {
    assert.deepEqual(problems({ AKOSetings: { clusterName: 'x' } }), ['additional property "AKOSetings" is not allowed']);
  });

  it('rejects wrong types and values, naming the field', () => {
    assert.deepEqual(problems({ replicaCount: 'two' }), ['replicaCount: must be integer']);
    assert.deepEqual(problems({ replicaCount: 3 }), ['replicaCount: must be <= 2']);
    assert.ok(problems({ AKOSettings: { logLevel: 'LOUD' } })[0]!.startsWith('AKOSettings.logLevel: must be equal to one of the allowed values'));
    assert.deepEqual(problems({ AKOSettings: 'yes' }), ['AKOSettings: must be object']);
    assert.ok(problems({ AKOSettings: { apiServerPort: '8080' } }).includes('AKOSettings.apiServerPort: must be integer'));
    assert.ok(problems({ AKOSettings: { clusterName: 'bad name!' } })[0]!.startsWith('AKOSettings.clusterName: must match pattern'));
    assert.ok(problems({ NetworkSettings: { vipNetworkList: 'net1' } })[0]!.startsWith('NetworkSettings.vipNetworkList: must be'));
    assert.ok(problems({ L7Settings: { shardVSSize: 'HUGE' } }).length > 0);
  });

  it('accepts AKO\'s booleans written as strings or as booleans', () => {
    assert.deepEqual(problems({ AKOSettings: { deleteConfig: false, enableEVH: 'true', primaryInstance: 'true' }, L7Settings: { defaultIngController: true } }), []);
    assert.ok(problems({ AKOSettings: { deleteConfig: 'yes' } }).length > 0);
  });

  it('keeps keys of other AKO versions inside a section (they are ignored)', () => {
    assert.deepEqual(problems({ NetworkSettings: { subnetIP: '10.0.0.0', subnetPrefix: '24', networkName: 'old' }, L7Settings: { l7ShardingScheme: 'hostname' } }), []);
  });

  it('refuses to drop a whole section (a null removes the key, as in Helm)', () => {
    assert.deepEqual(problems({ L4Settings: null }), ["(root): must have required property 'L4Settings'"]);
  });

  it('a null in the user file removes the default, as in Helm', () => {
    const r = renderChart(chart, { values: [{ nodeSelector: null, tolerations: null }] });
    assert.equal(must(r, 'StatefulSet').spec.template.spec.nodeSelector, undefined);
  });
});

describe('portico-operator chart: AKO compatibility and Helm conventions', () => {
  // ako-behaviour.md §6: every key of AKO's values.yaml, with AKO's default.
  const AKO_DEFAULTS: Record<string, unknown> = {
    'featureGates.GatewayAPI': false, 'featureGates.EnablePrometheus': false, replicaCount: 1,
    'image.pullPolicy': 'IfNotPresent', 'image.pullSecrets': [], 'GatewayAPI.image.pullPolicy': 'IfNotPresent',
    'AKOSettings.primaryInstance': true, 'AKOSettings.enableEvents': 'true', 'AKOSettings.logLevel': 'WARN',
    'AKOSettings.fullSyncFrequency': '1800', 'AKOSettings.apiServerPort': 8080, 'AKOSettings.deleteConfig': 'false',
    'AKOSettings.disableStaticRouteSync': 'false', 'AKOSettings.clusterName': 'my-cluster', 'AKOSettings.cniPlugin': '',
    'AKOSettings.enableEVH': false, 'AKOSettings.layer7Only': false, 'AKOSettings.namespaceSelector.labelKey': '',
    'AKOSettings.namespaceSelector.labelValue': '', 'AKOSettings.servicesAPI': false, 'AKOSettings.vipPerNamespace': 'false',
    'AKOSettings.istioEnabled': false, 'AKOSettings.blockedNamespaceList': [], 'AKOSettings.ipFamily': '',
    'AKOSettings.useDefaultSecretsOnly': 'false', 'AKOSettings.vpcMode': false,
    'NetworkSettings.nodeNetworkList': [], 'NetworkSettings.enableRHI': false, 'NetworkSettings.nsxtT1LR': '',
    'NetworkSettings.bgpPeerLabels': [], 'NetworkSettings.vipNetworkList': [], 'NetworkSettings.defaultDomain': '',
    'L7Settings.defaultIngController': 'true', 'L7Settings.noPGForSNI': false, 'L7Settings.serviceType': 'ClusterIP',
    'L7Settings.shardVSSize': 'LARGE', 'L7Settings.passthroughShardSize': 'SMALL', 'L7Settings.enableMCI': 'false',
    'L7Settings.fqdnReusePolicy': 'InterNamespaceAllowed',
    'L4Settings.defaultLBController': 'true', 'L4Settings.defaultDomain': '', 'L4Settings.autoFQDN': 'default',
    'ControllerSettings.serviceEngineGroupName': 'Default-Group', 'ControllerSettings.controllerVersion': '',
    'ControllerSettings.cloudName': 'Default-Cloud', 'ControllerSettings.controllerHost': '', 'ControllerSettings.tenantName': 'admin',
    'ControllerSettings.vrfName': '', 'ControllerSettings.dedicatedTenantMode': false,
    'nodePortSelector.key': '', 'nodePortSelector.value': '',
    'resources.limits.cpu': '350m', 'resources.limits.memory': '400Mi', 'resources.requests.cpu': '200m', 'resources.requests.memory': '300Mi',
    securityContext: {}, podSecurityContext: {}, 'rbac.pspEnable': false,
    'avicredentials.username': null, 'avicredentials.password': null, 'avicredentials.authtoken': null, 'avicredentials.certificateAuthorityData': null,
    persistentVolumeClaim: '', mountPath: '/log', logFile: 'avi.log', akoGatewayLogFile: 'avi-gw.log',
    'ako-crd-operator.enabled': true, 'ako-crd-operator.controllerManager.container.resources.limits.cpu': '256m',
    'ako-crd-operator.controllerManager.container.resources.limits.memory': '128Mi',
    'ako-crd-operator.controllerManager.container.resources.requests.cpu': '128m',
    'ako-crd-operator.controllerManager.container.resources.requests.memory': '64Mi',
  };

  it('has every AKO values key with AKO\'s default', () => {
    for (const [key, want] of Object.entries(AKO_DEFAULTS)) {
      let cur: unknown = chart.values;
      for (const part of key.split('.')) {
        assert.ok(cur !== null && typeof cur === 'object' && part in (cur as Obj), `values.yaml has ${key}`);
        cur = (cur as Obj)[part];
      }
      assert.deepEqual(cur, want, key);
    }
  });

  it('follows Helm conventions: chart metadata, namespaces, labels, unique objects', () => {
    assert.equal(chart.meta.apiVersion, 'v2');
    assert.equal(chart.meta.name, 'portico-operator');
    assert.match(String(chart.meta.version), /^\d+\.\d+\.\d+$/);
    const r = renderChart(chart, { values: [{ replicaCount: 2, avicredentials: { username: 'u', password: 'p' } }], namespace: 'lb' });
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'IngressClass', 'CustomResourceDefinition']);
    const seen = new Set<string>();
    for (const d of r.docs) {
      const o = d.object as Obj;
      const id = `${o.kind}/${o.metadata.name}`;
      assert.ok(!seen.has(id), `${id} rendered once`);
      seen.add(id);
      if (clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${id} has no namespace`);
      else assert.equal(o.metadata.namespace, 'lb', `${id} is in the release namespace`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', `${id} is labelled`);
    }
  });
});

describe('Chart.yaml kubeVersion', () => {
  it('is checked against the cluster version as Helm does', () => {
    assert.equal(kubeVersionSatisfies('>=1.22.0-0', 'v1.30.2'), true);
    assert.equal(kubeVersionSatisfies('>=1.22.0-0', 'v1.22.0-eks-1'), true);
    assert.equal(kubeVersionSatisfies('>=1.22.0-0', '1.21.9'), false);
    assert.equal(kubeVersionSatisfies('>=1.22.0 <1.31.0 || =1.10.0', 'v1.31.0'), false);
    assert.equal(kubeVersionSatisfies('>=1.22.0 <1.31.0 || =1.10.0', 'v1.10.0'), true);
    assert.throws(() => renderChart(chart, { kubeVersion: 'v1.20.4' }), (e: unknown) => e instanceof RenderError && /requires kubeVersion: >=1\.22\.0-0 which is incompatible with Kubernetes v1\.20\.4/.test((e as Error).message));
    assert.doesNotThrow(() => renderChart(chart, { kubeVersion: 'v1.22.0' }));
  });
});

describe('portico-operator chart: any values file', () => {
  it('either breaks the schema (ValuesError naming the field) or renders valid YAML (property)', async () => {
    // per key: values AKO users write (valid), mixed with junk of every JSON type
    const valid: Record<string, unknown[]> = {
      'AKOSettings.primaryInstance': [true, false, 'true', 'false'], 'AKOSettings.enableEvents': ['true', false],
      'AKOSettings.logLevel': ['INFO', 'DEBUG'], 'AKOSettings.fullSyncFrequency': ['0', '1800', 60], 'AKOSettings.apiServerPort': [8080, 9999],
      'AKOSettings.deleteConfig': ['false', true], 'AKOSettings.clusterName': ['c1', 'lab_2'], 'AKOSettings.namespaceSelector': [{ labelKey: 'a', labelValue: 'b' }, {}],
      'AKOSettings.blockedNamespaceList': [[], ['kube-system'], null], 'AKOSettings.istioEnabled': [true, false],
      'NetworkSettings.vipNetworkList': [[], [{ networkName: 'n', cidr: '10.0.0.0/24' }], null], 'NetworkSettings.nodeNetworkList': [[{ networkName: 'n', cidrs: ['10.1.0.0/24'] }]],
      'NetworkSettings.bgpPeerLabels': [['p1']], 'NetworkSettings.enableRHI': ['true', false], 'NetworkSettings.defaultDomain': ['', 'lab.example.com', null],
      'L7Settings.defaultIngController': ['true', 'false', false], 'L7Settings.serviceType': ['ClusterIP', 'NodePort', 'NodePortLocal'], 'L7Settings.shardVSSize': ['LARGE', 'DEDICATED'],
      'L4Settings.autoFQDN': ['flat', 'disabled'], 'L4Settings.defaultDomain': ['', null],
      'ControllerSettings.controllerHost': ['10.0.0.1', 'https://ctl:8443', '', null], 'ControllerSettings.cloudName': ['Default-Cloud'], 'ControllerSettings.tenantName': ['admin', 't1'],
      'avicredentials.username': ['admin', null], 'avicredentials.password': ['pw', null, ''], 'avicredentials.authtoken': ['tok', null], 'avicredentials.certificateAuthorityData': ['PEM', null],
      'image.repository': ['ghcr.io/x/y', 'projects.registry.vmware.com/ako/ako'], 'image.pullPolicy': ['Always'], 'image.pullSecrets': [[{ name: 'r' }], []], 'image.tag': ['1.2.3'],
    };
    const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 70000 }), fc.string({ maxLength: 6 }), fc.constant([1]), fc.constant({ x: 1 }));
    const leafFor = (key: string) => fc.oneof({ weight: 60, arbitrary: fc.constantFrom(...valid[key]!) }, { weight: 1, arbitrary: junk });
    const sectionNames = [...new Set(Object.keys(valid).map((k) => k.split('.')[0]!))];
    const section = (name: string) => fc.record(Object.fromEntries(Object.keys(valid).filter((k) => k.startsWith(`${name}.`)).map((k) => [k.slice(name.length + 1), leafFor(k)])), { requiredKeys: [] });
    const values = fc.record({
      ...Object.fromEntries(sectionNames.map((n) => [n, fc.oneof({ weight: 30, arbitrary: section(n) }, { weight: 1, arbitrary: junk })])),
      replicaCount: fc.constantFrom(1, 1, 2, 3, '2'),
      persistentVolumeClaim: fc.constantFrom('', 'logs', null), securityContext: fc.constantFrom({}, { runAsUser: 1000 }, 'x'), nodeSelector: fc.constantFrom({ a: 'b' }, null, {}),
    }, { requiredKeys: [] });
    let rendered = 0;
    await fc.assert(fc.asyncProperty(values, async (v) => {
      let r: Rendered;
      try {
        r = renderChart(chart, { values: [v as Values] });
      } catch (e) {
        if (e instanceof ValuesError) { assert.ok(e.problems.every((p) => p.length > 0)); return; }
        if (e instanceof RenderError && /replicaCount 2 is not supported for a secondary instance/.test(e.message)) return;
        throw e;
      }
      rendered++;
      const sts = r.docs.find((d) => d.object.kind === 'StatefulSet')!;
      assert.deepEqual(await validateObject(sts.object), []);
    }), { numRuns: 120 });
    assert.ok(rendered > 10, `some generated files were valid (${rendered})`);
  });
});
