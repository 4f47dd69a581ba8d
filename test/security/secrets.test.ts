// Private keys and passwords never leave the controller, the SE or the operator: a full run at log
// level debug (a controller, an engine serving TLS virtual services, an operator translating a
// Kubernetes TLS Secret into a certificate) creates a certificate with its key, users with
// passwords, logs in (right and wrong), reads every type back, the API document and every
// program's metrics and status pages; then every byte of output (the three processes' logs),
// every response and every write the operator made to Kubernetes is searched for the test key
// material and passwords.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTypes } from '../../src/model/registry.js';
import { selfSignedCert } from '../../src/tls/self-signed.js';
import { until } from '../engine/support.js';
import { runPortico, killAllWithArg, type CliProcess } from '../support/cli.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { NET, startControllerProcess, type ControllerProcess } from '../reliability/support.js';

/** This test's own addresses (127.106.0.0/16): the Kubernetes API double and the operator. */
const OWN = '127.106.9';
const OPERATOR_PASSWORD = 'Operator-Pw-1618';

/** A line from the middle of a PEM's base64: distinctive, and present in any encoding that leaks it whole. */
const middleLine = (pem: string) => { const l = pem.split('\n').filter((x) => x && !x.startsWith('-----')); return l[Math.floor(l.length / 2)]!; };

const ingress = (name: string, host: string, secret: string) => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: { tls: [{ hosts: [host], secretName: secret }], rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } }] },
});
const tlsSecret = (name: string, cert: string, key: string) => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
});

test('keys and passwords appear in no response, log, metric or Kubernetes write', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-secrets-'));
  let ctl: ControllerProcess | undefined;
  let engine: CliProcess | undefined;
  let operator: CliProcess | undefined;
  let double: KubeApiDouble | undefined;
  const responses: string[] = [];
  try {
    ctl = await startControllerProcess(join(dir, 'ctl'), `${NET}.9:0`, ['--log-level', 'debug', '--vip-cidr', `${NET}.224/27`]);
    const api = ctl.api;
    const kp = await selfSignedCert(['secret.example']);
    const kubeKp = await selfSignedCert(['shop.portico.local']); // reaches the controller through the operator
    const otherKp = await selfSignedCert(['other.example']); // its key goes with kp's certificate: a mismatch
    const needles = [middleLine(kp.key), middleLine(kubeKp.key), middleLine(otherKp.key), 'Secret-Pw-4711', 'Wrong-Pw-0815', OPERATOR_PASSWORD];
    const keep = async (p: Promise<{ status: number; body: unknown }>) => { const r = await p; responses.push(JSON.stringify(r.body)); return r; };

    const cert = (await keep(api.post('/api/sslkeyandcertificate', { name: 'secret-cert', certificate: { certificate: kp.cert }, key: kp.key }))).body as any;
    await keep(api.req('PUT', `/api/sslkeyandcertificate/${cert.uuid}`, { ...cert, key: kp.key }));
    await keep(api.post('/api/user', { name: 'secret-user', username: 'secret-user', password: 'Secret-Pw-4711', access: [{ all_tenants: true, role_ref: '/api/role/?name=Read-Only' }] }));
    await keep(api.post('/api/user', { name: 'secret-operator', username: 'secret-operator', password: OPERATOR_PASSWORD, is_superuser: true }));
    await keep(api.post('/api/sslkeyandcertificate', { name: 'bad-cert', certificate: { certificate: 'nope' }, key: kp.key })); // rejected: the error must not echo the key
    await keep(api.post('/api/sslkeyandcertificate', { name: 'mismatch-cert', certificate: { certificate: kp.cert }, key: otherKp.key })); // rejected: key does not match
    for (const [u, p] of [['secret-user', 'Secret-Pw-4711'], ['secret-user', 'Wrong-Pw-0815']]) {
      const r = await fetch(`${ctl.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) });
      responses.push(await r.text(), JSON.stringify([...r.headers]));
    }
    const basic = await fetch(`${ctl.url}/api/user`, { headers: { authorization: `Basic ${Buffer.from('secret-user:Secret-Pw-4711').toString('base64')}` } });
    responses.push(await basic.text());

    // An engine that receives the certificates in its snapshot (it needs the keys; it must not log them).
    const group = (await api.get('/api/serviceenginegroup?name=Default-Group')).body.results[0];
    const { token } = (await api.post(`/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body;
    engine = runPortico(['engine', '--controller', ctl.url, '--join-token', token, '--name', 'secret-se', '--data', join(dir, 'se'), '--metrics-listen', `${NET}.9:0`, '--log-level', 'debug']);
    const vsvip = (await api.create('vsvip', { name: 'secret-vip', vip: [{ vip_id: '0', auto_allocate_ip: true }] }));
    await keep(api.post('/api/virtualservice', { name: 'secret-vs', vsvip_ref: `/api/vsvip/${vsvip.uuid}`, services: [{ port: 8443, enable_ssl: true }], ssl_key_and_certificate_refs: [`/api/sslkeyandcertificate/${cert.uuid}`] }));
    const vsUuid = async () => (await api.get('/api/virtualservice?name=secret-vs')).body.results[0]?.uuid as string | undefined;
    await until('the engine serves the VS', async () => { const u = await vsUuid(); return !!u && (await api.get(`/api/virtualservice/${u}/runtime`)).body.oper_status?.state === 'OPER_UP'; }, 30_000);

    // An operator at debug level: a TLS Secret becomes a controller certificate; a Secret whose key
    // does not match its certificate is reported on its Ingress (without the key).
    double = await KubeApiDouble.start({ host: `${OWN}.1` });
    const values = join(dir, 'values.yaml');
    writeFileSync(values, [
      'AKOSettings: { clusterName: sec, logLevel: DEBUG, fullSyncFrequency: "0" }',
      'NetworkSettings: { vipNetworkList: [{ networkName: local-vip }] }',
      'L4Settings: { autoFQDN: disabled }',
      '',
    ].join('\n'));
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'ako.vmware.com/avi-lb' } });
    double.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'shop', namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    double.create({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'shop-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'shop' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: [`${OWN}.50`], conditions: { ready: true } }] });
    double.create(tlsSecret('shop-tls', kubeKp.cert, kubeKp.key));
    double.create(tlsSecret('broken-tls', kp.cert, otherKp.key));
    double.create(ingress('shop', 'shop.portico.local', 'shop-tls'));
    double.create(ingress('broken', 'broken.portico.local', 'broken-tls'));
    operator = runPortico(['operator', '--controller', ctl.url, '--kubeconfig', double.writeKubeconfig(join(dir, 'kubeconfig')), '--values', values, '--listen', `${OWN}.2:0`],
      { env: { PORTICO_USERNAME: 'secret-operator', PORTICO_PASSWORD: OPERATOR_PASSWORD } });
    const opUrl = /(https?:\/\/\S+)/.exec(await operator.waitForLine(/listening on https?:\/\//, 30_000))![1]!.replace(/\/$/, '');
    const vipOf = (name: string) => (double!.tryGet('networking.k8s.io/v1', 'Ingress', name, 'default') as any)?.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
    await until('the operator serves Ingress shop', async () => !!vipOf('shop'), 60_000);
    const kubeCerts = (await api.get('/api/sslkeyandcertificate?page_size=1000')).body.results as Array<{ name: string; certificate: { certificate: string } }>;
    assert.ok(kubeCerts.some((c) => c.certificate.certificate.trim() === kubeKp.cert.trim()), 'the Secret reached the controller as a certificate');
    const opStatus = await until('Ingress broken reported', async () => {
      const s = await (await fetch(`${opUrl}/api/status`)).text();
      return /"reason":"InvalidSecret"[^}]*broken-tls/.test(s) ? s : undefined;
    }, 30_000);
    responses.push(opStatus, await (await fetch(`${opUrl}/metrics`)).text());

    // Every program's pages: the engine's admin server, the controller's API (every type), metrics and document.
    const adminUrl = /(http:\/\/\S+?)\/metrics/.exec(await engine.waitForLine(/metrics at http/))![1]!;
    responses.push(await (await fetch(`${adminUrl}/metrics`)).text(), await (await fetch(`${adminUrl}/healthz`)).text());
    for (const t of allTypes) responses.push(JSON.stringify((await api.get(`/api/${t.type}?page_size=1000&include_name=true`)).body));
    responses.push(JSON.stringify((await api.get(`/api/sslkeyandcertificate/${cert.uuid}?fields=key,certificate,name`)).body));
    responses.push(await (await fetch(`${ctl.url}/metrics`, { headers: api.headers })).text(), await (await fetch(`${ctl.url}/api/openapi.json`, { headers: api.headers })).text());
    responses.push(JSON.stringify((await api.get('/api/analytics/logs?page_size=1000')).body), JSON.stringify((await api.get('/api/analytics/events?page_size=1000')).body));
    await operator.stop();
    await engine.stop();
    await ctl.cli.stop();

    const output = {
      controller: ctl.cli.lines.join('\n'), engine: engine.lines.join('\n'), operator: operator.lines.join('\n'),
      responses: responses.join('\n'),
      // Statuses, Events and anything else the operator wrote to Kubernetes.
      kubernetes: double.writes.filter((w) => w.by === 'client').map((w) => JSON.stringify(w.object)).join('\n'),
    };
    for (const p of ['controller', 'engine', 'operator', 'kubernetes'] as const) assert.ok(output[p].length > 0, `${p}: output to search`);
    // The search can find them: both keys did travel to the engine, which keeps its snapshot (mode 0600).
    const snapshot = readFileSync(join(dir, 'se', 'snapshot.json'), 'utf8');
    for (const key of [kp.key, kubeKp.key]) assert.ok(snapshot.includes(middleLine(key)), 'the engine\'s snapshot holds the key');
    assert.ok(output.operator.includes('"level":20'), 'the operator logged at debug level');
    for (const [where, text] of Object.entries(output)) for (const n of needles) assert.ok(!text.includes(n), `${where} contains test secret ${n.slice(0, 12)}…`);
    console.log(`# secrets: ${Object.values(output).reduce((a, t) => a + t.length, 0)} bytes searched (logs of controller, engine and operator at debug; API, metrics and status responses of all three; Kubernetes writes), ${needles.length} secrets, none found`);
  } finally {
    await operator?.stop();
    await engine?.stop();
    await ctl?.cli.stop();
    await double?.stop();
    killAllWithArg(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});
