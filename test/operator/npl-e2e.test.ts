// NodePortLocal end to end through Kubernetes: the API double (reached with @kubernetes/client-node,
// as a cluster), the real controller, the operator with L7Settings.serviceType NodePortLocal. The
// test plays Antrea: once the operator has annotated a Service `nodeportlocal.antrea.io/enabled`,
// it writes the pods' `nodeportlocal.antrea.io` annotation; the pool members on the controller
// follow it. Services of another class and a user's own annotation are never touched; the
// annotation goes when a Service no longer needs it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { createKubernetesProvider } from '../../src/operator/source/kubernetes.js';
import { createKubernetesStatusSink } from '../../src/operator/status/kubernetes.js';
import { settingsFromValues } from '../../src/operator/settings/values.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { ADMIN_PASSWORD, controllerSuite, eventually } from './support/controller.js';

const ENABLED = 'nodeportlocal.antrea.io/enabled';
const NPL = 'nodeportlocal.antrea.io';

const CLUSTER = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: avi-lb, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: ako.vmware.com/avi-lb}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: default}
spec: {type: ClusterIP, selector: {app: app}, ports: [{port: 80, targetPort: 8080, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: foreign, namespace: default}
spec: {type: LoadBalancer, loadBalancerClass: other.example/lb, selector: {app: web}, ports: [{port: 80, protocol: TCP}]}
---
apiVersion: v1
kind: Service
metadata: {name: mine, namespace: default, annotations: {nodeportlocal.antrea.io/enabled: "true"}}
spec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80, protocol: TCP}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default}
spec:
  rules:
    - host: shop.example.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: default, labels: {app: web}}
spec: {nodeName: n2, containers: [{name: web, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: app-1, namespace: default, labels: {app: app}}
spec: {nodeName: n1, containers: [{name: app, image: nginx}]}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
`;

const mapping = (podPort: number, nodeIP: string, nodePort: number) => JSON.stringify([{ podPort, nodeIP, nodePort, protocol: 'tcp', protocols: ['tcp'] }]);

describe('NodePortLocal through the Kubernetes API double and the real controller', () => {
  const suite = controllerSuite('127.110.0.2', '127.110.1.0/28');
  let double: KubeApiDouble;
  let op: RunningOperator | undefined;

  before(async () => { double = await KubeApiDouble.start({ host: '127.110.0.1' }); });
  after(async () => {
    await op?.close().catch(() => undefined);
    await double?.stop();
  });

  const annotationOf = (name: string) => (double.get('v1', 'Service', name, 'default') as any).metadata?.annotations?.[ENABLED] as string | undefined;
  const servers = async (pool: string) => {
    const r = await suite.ctl!.api('GET', `/api/pool?name=${encodeURIComponent(pool)}`);
    const list = (r.body.results?.[0]?.servers ?? []) as Array<{ ip: { addr: string }; port: number }>;
    return list.map((s) => `${s.ip.addr}:${s.port}`).sort().join(',');
  };
  const warned = (name: string, reason: string) => (double.list('v1', 'Event', 'default') as any[]).some((e) => e.reason === reason && e.involvedObject?.name === name);

  test('annotates the Services, reads the pods, serves the NPL pairs, follows changes, removes what it added', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    double.applyManifests(CLUSTER);
    const { settings, problems } = settingsFromValues({
      AKOSettings: { clusterName: 'npl', fullSyncFrequency: '0' },
      NetworkSettings: { vipNetworkList: [{ networkName: 'local-vip' }] },
      L4Settings: { autoFQDN: 'disabled' },
      L7Settings: { serviceType: 'NodePortLocal', shardVSSize: 'SMALL' },
    }, {});
    assert.deepEqual(problems, []);
    const kubeConfig = double.kubeConfig();
    op = await startOperator({
      controller: suite.ctl!.url, provider: createKubernetesProvider({ kubeConfig, debounceMs: 20, pods: true }), sink: createKubernetesStatusSink(kubeConfig),
      settings, listen: '127.110.0.3:0', username: 'admin', password: ADMIN_PASSWORD,
      fastRetryMs: 100, slowRetryMs: 300, checkRetryMs: 200, logger: pino({ level: 'silent' }),
    });

    // The operator asks Antrea for NPL on its LB Service and on the Ingress backend, nowhere else.
    await eventually(() => annotationOf('web') === 'true' && annotationOf('app') === 'true', 'the enabled annotation on web and app');
    // Until Antrea answers, the pool is empty and the Service says why.
    await eventually(() => warned('web', 'NPLNotEnabled'), 'a Warning NPLNotEnabled on Service web');
    assert.equal(await servers('npl--default-web-TCP-80'), '');

    // Antrea answers: the pods get their node ports; the named target port resolves to 8080.
    double.patch('v1', 'Pod', 'web-1', 'default', { metadata: { annotations: { [NPL]: mapping(8080, '10.10.10.1', 61001) } } });
    double.patch('v1', 'Pod', 'web-2', 'default', { metadata: { annotations: { [NPL]: mapping(8080, '10.10.10.2', 61002) } } });
    double.patch('v1', 'Pod', 'app-1', 'default', { metadata: { annotations: { [NPL]: mapping(8080, '10.10.10.1', 61003) } } });
    await eventually(async () => (await servers('npl--default-web-TCP-80')) === '10.10.10.1:61001,10.10.10.2:61002', 'the NPL pairs of web as its pool members');
    await eventually(async () => (await servers('npl--shop.example.test_-default-shop')) === '10.10.10.1:61003', 'the NPL pair of app in the Ingress pool');
    const vip = (double.get('v1', 'Service', 'web', 'default') as any).status?.loadBalancer?.ingress?.[0]?.ip;
    assert.match(vip ?? '', /^127\.110\.1\.\d+$/);

    // A pod moves (new node port), another goes unready: the pool follows.
    double.patch('v1', 'Pod', 'web-1', 'default', { metadata: { annotations: { [NPL]: mapping(8080, '10.10.10.1', 61011) } } });
    double.setStatus({ ...(double.get('v1', 'Pod', 'web-2', 'default') as object), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } });
    await eventually(async () => (await servers('npl--default-web-TCP-80')) === '10.10.10.1:61011', 'the moved pod in, the unready one out');

    // Another class's Service and a user's own annotation are left alone.
    assert.equal(annotationOf('foreign'), undefined);
    assert.equal(annotationOf('mine'), 'true');
    assert.equal(double.countWrites({ kind: 'Service', name: 'foreign' }), 0);

    // No longer needed → the annotation this operator added goes.
    double.delete('networking.k8s.io/v1', 'Ingress', 'shop', 'default');
    await eventually(() => annotationOf('app') === undefined, 'the annotation removed from app once no Ingress uses it');
    const web = double.get('v1', 'Service', 'web', 'default') as any;
    double.update({ ...web, spec: { ...web.spec, type: 'ClusterIP' } });
    await eventually(() => annotationOf('web') === undefined, 'the annotation removed from web once it is no LoadBalancer');
    assert.equal(annotationOf('mine'), 'true');

    // A LoadBalancer again → annotated again; deleteConfig → every annotation it added goes, the user's stays.
    double.update({ ...web, spec: { ...web.spec, type: 'LoadBalancer' } });
    await eventually(() => annotationOf('web') === 'true', 'the annotation back on web');
    settings.deleteConfig = true;
    op.resync();
    await eventually(() => annotationOf('web') === undefined, 'deleteConfig removes the annotation from web');
    assert.equal(annotationOf('mine'), 'true');
  });
});
