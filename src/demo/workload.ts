// The lab's Kubernetes side as manifests: three nginx "pods" (local HTTP servers), the Service
// `kubectl expose deployment nginx --target-port=80 --port=8000 --type=LoadBalancer` makes, and
// the documentation's insecure and secure Ingresses (networking.k8s.io/v1beta1, as it writes them).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeTlsSecret } from '../up/quickstart.js';

export const WORKLOAD = {
  pods: ['127.22.14.1', '127.22.14.2', '127.22.14.3'],
  podNames: ['nginx-7c5ddbdf54-2xkq9', 'nginx-7c5ddbdf54-8mzjv', 'nginx-7c5ddbdf54-qh4tn'],
  targetPort: 80,
  servicePort: 8000,
  insecureHost: 'myinsecurehost.avi.internal',
  secureHost: 'myhost.avi.internal',
  path: '/foo',
};

const docs = (...objects: object[]) => objects.map((o) => toYaml(o)).join('---\n');

export async function writeWorkload(dir: string): Promise<void> {
  const w = WORKLOAD;
  writeFileSync(join(dir, 'nginx-service.yaml'), docs(
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' } },
      spec: { type: 'LoadBalancer', selector: { app: 'nginx' }, ports: [{ port: w.servicePort, targetPort: w.targetPort, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'nginx-5xq8v', namespace: 'default', labels: { 'kubernetes.io/service-name': 'nginx' } },
      addressType: 'IPv4',
      ports: [{ port: w.targetPort, protocol: 'TCP' }],
      endpoints: w.pods.map((ip, i) => ({ addresses: [ip], conditions: { ready: true }, targetRef: { kind: 'Pod', name: w.podNames[i], namespace: 'default' } })),
    },
  ));
  const backend = { serviceName: 'nginx', servicePort: w.servicePort };
  writeFileSync(join(dir, 'insecure-ingress.yaml'), docs({
    apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress',
    metadata: { name: 'my-insecure-ingress', namespace: 'default' },
    spec: { rules: [{ host: w.insecureHost, http: { paths: [{ path: w.path, backend }] } }] },
  }));
  writeFileSync(join(dir, 'secure-ingress.yaml'), docs({
    apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress',
    metadata: { name: 'my-secure-ingress', namespace: 'default' },
    spec: {
      tls: [{ hosts: [w.secureHost], secretName: 'myhost-tls' }],
      rules: [{ host: w.secureHost, http: { paths: [{ path: w.path, backend }] } }],
    },
  }));
  await writeTlsSecret(join(dir, 'myhost-tls.yaml'), 'default', 'myhost-tls', [w.secureHost]);
}
