// Conversions the manifest folder needs, because the snapshot holds only current API versions:
// v1 Endpoints → discovery.k8s.io/v1 EndpointSlices (as Kubernetes' mirroring controller does),
// networking.k8s.io/v1beta1 (and extensions/v1beta1) Ingress → networking.k8s.io/v1, and
// Secret.stringData → data (base64), as the API server stores it.
import type { V1EndpointSlice, V1Ingress, V1IngressBackend, V1Secret } from '@kubernetes/client-node';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface EndpointAddress { ip?: string; hostname?: string; nodeName?: string; targetRef?: unknown }

/** One slice per subset and address family, named `<endpoints>-<subset>[-ipv6]`. */
export function endpointsToSlices(endpoints: Obj): V1EndpointSlice[] {
  const meta = (isObj(endpoints.metadata) ? endpoints.metadata : {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
  const name = String(meta.name ?? '');
  const out: V1EndpointSlice[] = [];
  arr(endpoints.subsets).forEach((raw, i) => {
    if (!isObj(raw)) return;
    const ports = arr(raw.ports).filter(isObj).map((p) => ({
      name: typeof p.name === 'string' ? p.name : undefined,
      port: Number(p.port),
      protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
      appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
    }));
    const byFamily = new Map<'IPv4' | 'IPv6', V1EndpointSlice['endpoints']>();
    const add = (a: unknown, ready: boolean): void => {
      if (!isObj(a) || typeof a.ip !== 'string') return;
      const addr = a as EndpointAddress;
      const family = addr.ip!.includes(':') ? 'IPv6' : 'IPv4';
      const list = byFamily.get(family) ?? [];
      list.push({
        addresses: [addr.ip!],
        conditions: { ready, serving: ready, terminating: false },
        hostname: addr.hostname, nodeName: addr.nodeName, targetRef: addr.targetRef as never,
      });
      byFamily.set(family, list);
    };
    for (const a of arr(raw.addresses)) add(a, true);
    for (const a of arr(raw.notReadyAddresses)) add(a, false);
    for (const [family, eps] of byFamily) {
      out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${name}-${i}${family === 'IPv6' ? '-ipv6' : ''}`,
          namespace: meta.namespace,
          labels: { ...(meta.labels ?? {}), [SERVICE_NAME_LABEL]: name, 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' },
        },
        addressType: family,
        endpoints: eps,
        ports,
      });
    }
  });
  return out;
}

function backendV1(b: unknown): V1IngressBackend | undefined {
  if (!isObj(b)) return undefined;
  if (isObj(b.resource)) return { resource: b.resource as never };
  const port = b.servicePort;
  const numeric = typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port));
  return {
    service: {
      name: String(b.serviceName ?? ''),
      port: numeric ? { number: Number(port) } : typeof port === 'string' ? { name: port } : undefined,
    },
  };
}

/** networking.k8s.io/v1beta1 → v1: serviceName/servicePort → service.name/port, backend → defaultBackend, pathType defaults to ImplementationSpecific. */
export function ingressV1beta1ToV1(ing: Obj): V1Ingress {
  const spec = isObj(ing.spec) ? ing.spec : {};
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: ing.metadata as V1Ingress['metadata'],
    spec: {
      ingressClassName: typeof spec.ingressClassName === 'string' ? spec.ingressClassName : undefined,
      defaultBackend: backendV1(spec.backend),
      tls: Array.isArray(spec.tls) ? (spec.tls as never) : undefined,
      rules: Array.isArray(spec.rules) ? spec.rules.filter(isObj).map((r) => ({
        host: typeof r.host === 'string' ? r.host : undefined,
        http: isObj(r.http) ? {
          paths: arr(r.http.paths).filter(isObj).map((p) => ({
            path: typeof p.path === 'string' ? p.path : undefined,
            pathType: typeof p.pathType === 'string' ? p.pathType : 'ImplementationSpecific',
            backend: backendV1(p.backend) ?? { service: { name: '' } },
          })),
        } : undefined,
      })) : undefined,
    },
    status: ing.status as V1Ingress['status'],
  };
}

/** `stringData` folded into `data` (base64), as the API server stores a Secret. */
export function normalizeSecret(secret: Obj): V1Secret {
  const { stringData, ...rest } = secret as Obj & { stringData?: unknown };
  const data: Record<string, string> = isObj(rest.data) ? { ...(rest.data as Record<string, string>) } : {};
  if (isObj(stringData)) {
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  return { ...rest, data } as V1Secret;
}
