// The ako.vmware.com CRDs: valid CustomResourceDefinitions with structural schemas, that accept
// the objects of AKO's documentation and reject wrong ones with the field named.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { validateObject } from './kube-validate.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../charts/portico-operator/crds');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const crds = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => ({ file: f, crd: parseYaml(readFileSync(join(dir, f), 'utf8')) as Obj }));
const byKind = new Map(crds.map(({ crd }) => [crd.spec.names.kind as string, crd]));

/** A CR validator for one served version (ajv stands in for the API server's OpenAPI check). */
function validatorFor(kind: string, version: string): ValidateFunction {
  const crd = byKind.get(kind)!;
  const v = (crd.spec.versions as Obj[]).find((x) => x.name === version);
  assert.ok(v, `${kind} serves ${version}`);
  return new Ajv({ allErrors: true, strict: false }).compile(v.schema.openAPIV3Schema);
}

function errors(kind: string, version: string, obj: Obj): string[] {
  const validate = validatorFor(kind, version);
  return validate(obj) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Kubernetes' structural-schema rule: every node states its type (or preserves unknown fields). */
function unstructured(schema: Obj, at: string): string[] {
  const out: string[] = [];
  if (!schema.type && !schema['x-kubernetes-int-or-string'] && !schema['x-kubernetes-preserve-unknown-fields']) out.push(`${at} has no type`);
  for (const [k, s] of Object.entries((schema.properties ?? {}) as Obj)) out.push(...unstructured(s, `${at}.${k}`));
  if (schema.items) out.push(...unstructured(schema.items, `${at}[]`));
  for (const branch of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])] as Obj[]) {
    if (branch.type || branch.properties) out.push(`${at}: oneOf/anyOf branches may only hold value checks`);
  }
  return out;
}

describe('ako.vmware.com CRDs', () => {
  it('are the four kinds with AKO\'s scopes, versions and short names', () => {
    const shape = [...byKind.values()].map((c) => [c.spec.names.kind, c.spec.scope, (c.spec.versions as Obj[]).map((v) => v.name).join(','), (c.spec.versions as Obj[]).find((v) => v.storage)?.name]);
    assert.deepEqual(shape.sort(), [
      ['AviInfraSetting', 'Cluster', 'v1alpha1,v1beta1', 'v1beta1'],
      ['HTTPRule', 'Namespaced', 'v1alpha1,v1beta1', 'v1beta1'],
      ['HostRule', 'Namespaced', 'v1alpha1,v1beta1', 'v1beta1'],
      ['L4Rule', 'Namespaced', 'v1alpha2', 'v1alpha2'],
    ]);
    assert.deepEqual(byKind.get('HostRule')!.spec.names.shortNames, ['hostrule', 'hr']);
  });

  it('are valid CustomResourceDefinitions with structural schemas', async () => {
    for (const { file, crd } of crds) {
      assert.deepEqual(await validateObject(crd), [], file);
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.${crd.spec.group}`);
      for (const v of crd.spec.versions as Obj[]) {
        assert.deepEqual(unstructured(v.schema.openAPIV3Schema, `${file}:${v.name}`), []);
        const status = v.schema.openAPIV3Schema.properties.status;
        assert.deepEqual(status.properties.status.enum, ['Accepted', 'Rejected']);
        assert.equal(status.properties.error.type, 'string');
        assert.ok((v.additionalPrinterColumns as Obj[]).some((c) => c.jsonPath === '.status.status'));
      }
    }
  });

  it('accept a HostRule with every field the issue lists', () => {
    const hr = {
      apiVersion: 'ako.vmware.com/v1beta1', kind: 'HostRule', metadata: { name: 'my-host-rule', namespace: 'red' },
      spec: {
        virtualhost: {
          fqdn: 'foo.region1.com', fqdnType: 'Exact', enableVirtualHost: true,
          tls: { sslKeyCertificate: { name: 'avi-ssl-key-cert', type: 'ref', alternateCertificate: { name: 'ecdsa-cert', type: 'secret' } }, sslProfile: 'avi-ssl-profile', termination: 'edge' },
          httpPolicy: { policySets: ['avi-secure-policy-ref'], overwrite: false },
          gslb: { fqdn: 'foo.com', includeAliases: false },
          datascripts: ['avi-datascript-redirect-app1'], wafPolicy: 'avi-waf-policy', applicationProfile: 'avi-app-ref',
          analyticsProfile: 'avi-analytics-ref', errorPageProfile: 'avi-errorpage-ref', icapProfile: ['avi-icap-ref'],
          networkSecurityPolicy: 'avi-nsp', analyticsPolicy: { fullClientLogs: { enabled: true, throttle: 'HIGH' }, logAllHeaders: true },
          tcpSettings: { listeners: [{ port: 8081 }, { port: 6443, enableSSL: true }], loadBalancerIP: '10.10.10.1' },
          aliases: ['bar.com', 'baz.com'], useRegex: false, applicationRootPath: '/foo',
        },
      },
      status: { status: 'Accepted', error: '' },
    };
    assert.deepEqual(errors('HostRule', 'v1beta1', hr), []);
    assert.deepEqual(errors('HostRule', 'v1alpha1', { ...hr, apiVersion: 'ako.vmware.com/v1alpha1' }), []);
    for (const fqdnType of ['Wildcard', 'Contains']) assert.deepEqual(errors('HostRule', 'v1beta1', { ...hr, spec: { virtualhost: { fqdn: '*.foo.com', fqdnType } } }), []);
  });

  it('reject HostRules with a wrong field, naming it', () => {
    assert.deepEqual(errors('HostRule', 'v1beta1', { spec: { virtualhost: { fqdn: 'a.com', fqdnType: 'Prefix' } } }), ['/spec/virtualhost/fqdnType must be equal to one of the allowed values']);
    assert.deepEqual(errors('HostRule', 'v1beta1', { spec: { virtualhost: {} } }), ["/spec/virtualhost must have required property 'fqdn'"]);
    assert.deepEqual(errors('HostRule', 'v1beta1', { spec: { virtualhost: { fqdn: 'a.com', tls: { sslKeyCertificate: { name: 'x', type: 'file' } } } } }), ['/spec/virtualhost/tls/sslKeyCertificate/type must be equal to one of the allowed values']);
    assert.deepEqual(errors('HostRule', 'v1beta1', { spec: { virtualhost: { fqdn: 'a.com', tcpSettings: { listeners: [{ port: 70000 }] } } } }), ['/spec/virtualhost/tcpSettings/listeners/0/port must be <= 65535']);
  });

  it('accept an HTTPRule with every path setting, and reject a relative target', () => {
    const rule = {
      spec: {
        fqdn: 'foo.avi.internal',
        paths: [{
          target: '/foo', applicationPersistence: 'cookie-userid-persistence', healthMonitors: ['hm-1', 'hm-2'], enableHTTP2: true,
          loadBalancerPolicy: { algorithm: 'LB_ALGORITHM_CONSISTENT_HASH', hash: 'LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER', hostHeader: 'X-User' },
          tls: { type: 'reencrypt', sslProfile: 'avi-ssl-profile', destinationCA: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----' },
        }, { target: '/', tls: { type: 'reencrypt', pkiProfile: 'avi-pki' } }],
      },
    };
    assert.deepEqual(errors('HTTPRule', 'v1beta1', rule), []);
    assert.deepEqual(errors('HTTPRule', 'v1beta1', { spec: { fqdn: 'a', paths: [{ target: 'foo' }] } }), ['/spec/paths/0/target must match pattern "^/.*$"']);
    assert.deepEqual(errors('HTTPRule', 'v1beta1', { spec: { fqdn: 'a', paths: [{ target: '/', loadBalancerPolicy: { algorithm: 'LB_ALGORITHM_MAGIC' } }] } }), ['/spec/paths/0/loadBalancerPolicy/algorithm must be equal to one of the allowed values']);
  });

  it('accept an AviInfraSetting and require a network name or UUID', () => {
    const infra = {
      spec: {
        seGroup: { name: 'compact-se-group' },
        network: { vipNetworks: [{ networkName: 'vip-pg', cidr: '10.10.30.0/24' }, { networkUUID: 'network-1' }], nodeNetworks: [{ networkName: 'nodes', cidrs: ['10.10.20.0/24'] }], enableRhi: true, bgpPeerLabels: ['peer1'], enablePublicIP: false, listeners: [{ port: 8443, enableSSL: true, enableHTTP2: true }] },
        l7Settings: { shardSize: 'MEDIUM' },
      },
    };
    assert.deepEqual(errors('AviInfraSetting', 'v1beta1', infra), []);
    assert.ok(errors('AviInfraSetting', 'v1beta1', { spec: { network: { vipNetworks: [{ cidr: '10.0.0.0/24' }] } } }).some((e) => e.startsWith('/spec/network/vipNetworks/0 must match exactly one schema')));
    assert.deepEqual(errors('AviInfraSetting', 'v1beta1', { spec: { l7Settings: { shardSize: 'HUGE' } } }), ['/spec/l7Settings/shardSize must be equal to one of the allowed values']);
    assert.deepEqual(errors('AviInfraSetting', 'v1beta1', { spec: { seGroup: {} } }), ["/spec/seGroup must have required property 'name'"]);
  });

  it('accept an L4Rule with load balancer IP, backend properties and application profile', () => {
    const l4 = {
      spec: {
        loadBalancerIP: '10.10.30.20', applicationProfileRef: 'System-L4-Application', networkProfileRef: 'System-TCP-Proxy',
        listenerProperties: [{ port: 80, protocol: 'TCP', enableSsl: false }],
        backendProperties: [{ port: 80, protocol: 'TCP', lbAlgorithm: 'LB_ALGORITHM_CONSISTENT_HASH', lbAlgorithmHash: 'LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS', healthMonitorRefs: ['my-tcp-hm'], minServersUp: 1, enabled: true }],
      },
    };
    assert.deepEqual(errors('L4Rule', 'v1alpha2', l4), []);
    assert.deepEqual(errors('L4Rule', 'v1alpha2', { spec: { backendProperties: [{ port: 80, protocol: 'HTTP' }] } }), ['/spec/backendProperties/0/protocol must be equal to one of the allowed values']);
    assert.deepEqual(errors('L4Rule', 'v1alpha2', { spec: { backendProperties: [{ protocol: 'TCP' }] } }), ["/spec/backendProperties/0 must have required property 'port'"]);
  });
});

describe('kube-validate (the checker the chart tests rely on)', () => {
  it('reports wrong types, missing required fields and unknown fields', async () => {
    const bad = {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ako' },
      spec: { replicas: 'two', selector: { matchLabels: { a: 'b' } }, serviceName: 'ako', templat: {}, template: { spec: { containers: [{ name: 'c', image: 'i', livenessProbe: { httpGet: {} }, securityContxt: {} }] } } },
    };
    const problems = await validateObject(bad);
    assert.ok(problems.some((p) => p.includes('spec/replicas must be integer')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('httpGet must have required property port')), problems.join('\n'));
    assert.ok(problems.includes('unknown field .spec.templat'), problems.join('\n'));
    assert.ok(problems.includes('unknown field .spec.template.spec.containers[0].securityContxt'), problems.join('\n'));
  });
});
