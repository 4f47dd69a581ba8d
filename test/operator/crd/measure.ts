// Not a test: how much the CRDs add to one translation (run by hand, never by `npm test`):
//   npm run build && node dist/test/operator/crd/measure.js [N]
// N Ingresses (half TLS, two paths each) without CRDs, then with N HostRules (alias, analytics
// profile) and N HTTPRules (algorithm, monitor); best of 7 runs each.
import { translate } from '../../../src/operator/translate/index.js';
import type { KnownRefs } from '../../../src/operator/translate/crd/index.js';
import type { ClusterSnapshot, CustomObject } from '../../../src/operator/source/types.js';
import type { V1Ingress } from '@kubernetes/client-node';
import { loadCrdFixture } from './harness.js';

const f = loadCrdFixture('hostrule.yaml');
const n = Number(process.argv[2] ?? 1000);
const ingresses = new Map<string, V1Ingress>();
const hostRules = new Map<string, CustomObject>();
const httpRules = new Map<string, CustomObject>();
const backend = { service: { name: 'app', port: { number: 80 } } };
for (let i = 0; i < n; i++) {
  const host = `h${i}.avi.internal`;
  ingresses.set(`ns1/i${i}`, { metadata: { name: `i${i}`, namespace: 'ns1' }, spec: { tls: i % 2 ? [{ hosts: [host], secretName: 'tls' }] : [], rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }, { path: '/api', pathType: 'Prefix', backend }] } }] } });
  hostRules.set(`ns1/hr${i}`, { apiVersion: 'ako.vmware.com/v1beta1', kind: 'HostRule', metadata: { name: `hr${i}`, namespace: 'ns1' }, spec: { virtualhost: { fqdn: host, aliases: [`a${i}.avi.internal`], analyticsProfile: 'System-Analytics-Profile' } } });
  httpRules.set(`ns1/r${i}`, { apiVersion: 'ako.vmware.com/v1beta1', kind: 'HTTPRule', metadata: { name: `r${i}`, namespace: 'ns1' }, spec: { fqdn: host, paths: [{ target: '/api', loadBalancerPolicy: { algorithm: 'LB_ALGORITHM_ROUND_ROBIN' }, healthMonitors: ['System-HTTP'] }] } });
}
const bare: ClusterSnapshot = { ...f.snapshot, ingresses, custom: new Map() };
const withCrds: ClusterSnapshot = { ...bare, custom: new Map([['HostRule', hostRules], ['HTTPRule', httpRules]]) };
const known: KnownRefs = new Map([['analyticsprofile/System-Analytics-Profile', {}], ['healthmonitor/System-HTTP', {}]]);

function best(s: ClusterSnapshot, k: KnownRefs): string {
  translate(s, f.settings, f.infra, k);
  let ms = Infinity;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    translate(s, f.settings, f.infra, k);
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms.toFixed(0);
}
console.log(`${n} Ingresses: without CRDs ${best(bare, new Map())} ms; with ${n} HostRules + ${n} HTTPRules ${best(withCrds, known)} ms (best of 7)`);
