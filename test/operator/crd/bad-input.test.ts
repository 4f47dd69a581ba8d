// Bad CRD input never breaks translation: any spec shape gives every object a verdict, and a
// Rejected one always says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { translate } from '../../../src/operator/translate/index.js';
import { CRD_KINDS } from '../../../src/operator/translate/crd/index.js';
import { loadCrdFixture } from './harness.js';

const base = loadCrdFixture('hostrule.yaml');

// Values that look like the real fields, mixed with anything JSON.
const leaf = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('/', '*.x.y', 'secure.avi.internal', 'Shared-L7-0', 'LB_ALGORITHM_CONSISTENT_HASH', 'reencrypt', 'ref', 'secret', 80, -1, 70000, true));
const fieldNames = fc.constantFrom('virtualhost', 'fqdn', 'fqdnType', 'tls', 'sslKeyCertificate', 'name', 'type', 'aliases', 'tcpSettings', 'listeners', 'port',
  'paths', 'target', 'loadBalancerPolicy', 'algorithm', 'hash', 'healthMonitors', 'network', 'vipNetworks', 'networkName', 'cidr', 'seGroup', 'l7Settings',
  'shardSize', 'backendProperties', 'listenerProperties', 'protocol', 'loadBalancerIP', 'httpPolicy', 'policySets', 'bgpPeerLabels', 'enableRhi');
const spec: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fieldNames, tie('node'), { maxKeys: 5 })),
})).node;

test('any CRD spec: translation completes, every object has a verdict, Rejected says why', () => {
  fc.assert(fc.property(fc.array(fc.record({ kind: fc.constantFrom(...CRD_KINDS), spec }), { maxLength: 6 }), (objs) => {
    const custom = new Map(base.snapshot.custom);
    for (const k of CRD_KINDS) custom.set(k, new Map());
    objs.forEach((o, i) => {
      const cluster = o.kind === 'AviInfraSetting';
      custom.get(o.kind)!.set(cluster ? `x${i}` : `ns1/x${i}`, {
        apiVersion: 'ako.vmware.com/v1beta1', kind: o.kind, metadata: { name: `x${i}`, ...(cluster ? {} : { namespace: 'ns1' }) }, spec: o.spec as Record<string, unknown>,
      });
    });
    const t = translate({ ...base.snapshot, custom }, base.settings, base.infra, base.known);
    assert.equal(t.crdStatuses?.length, objs.length);
    for (const v of t.crdStatuses!) if (v.status === 'Rejected') assert.ok(v.error.length > 0);
  }), { numRuns: 300 });
});
