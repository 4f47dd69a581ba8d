// Operator failover without churn (issue 8): two `portico operator --leader-election` processes
// against the Kubernetes API double and a real controller serve several Services and a TLS
// Ingress. The leader is killed with SIGKILL; the follower takes over the Lease. Then the lone
// leader crashes and comes back (a StatefulSet pod restarts under the same name). Each time:
// every controller object keeps its UUID and content (full lists compared, `_last_modified`
// included), the statuses in Kubernetes keep their VIPs, the new leader writes nothing to the
// controller or to the Services/Ingresses it did not need to change, and it serves new ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTypes } from '../../src/model/registry.js';
import { selfSignedCert } from '../../src/tls/self-signed.js';
import { KubeApiDouble } from '../support/kube-api-double/index.js';
import { killAllWithArg, runPortico, type CliProcess } from '../support/cli.js';
import { ADMIN_PASSWORD, eventually, startTestController, type TestController } from '../operator/support/controller.js';

// This suite's loopback range (127.82.0.0/16): double .1, controller .2, operators .3; VIPs in .9.
const NET = '127.82.8';
const VIP_CIDR = '127.82.9.0/26';
const SERVICES = ['web', 'api', 'db'];
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: 'ako-lease-lock', namespace: 'avi-system' };
// AKO's default lease (15 s) decides the takeover time after a SIGKILL.
const TAKEOVER_MS = 40_000;

const lbService = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
const clusterService = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
const slice = (svc: string, ip: string) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: [{ addresses: [ip], conditions: { ready: true } }],
});
const ingress = (name: string, host: string, secret: string, svc: string) => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' },
  spec: {
    tls: [{ hosts: [host], secretName: secret }],
    rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }],
  },
});

interface Replica { id: string; cli: CliProcess; url: string }
interface OperatorStatus { leader: boolean; passes: number; items: Array<{ kind: string; name: string; loadBalancer: { ingress: Array<{ ip?: string }> } }> }
/** Every controller object, by UUID: its type and its full JSON (content and `_last_modified`). */
type Snapshot = Map<string, { type: string; name: string; json: string }>;

describe('operator failover: leader killed with a follower present, and a lone restart: zero churn', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-op-failover-'));
  const replicas: Replica[] = [];
  let double: KubeApiDouble | undefined;
  let ctl: TestController | undefined;
  let kubeconfig = '';
  let valuesFile = '';
  let leader: Replica;

  async function startReplica(id: string): Promise<Replica> {
    const cli = runPortico(
      ['operator', '--controller', ctl!.url, '--kubeconfig', kubeconfig, '--values', valuesFile, '--leader-election', '--listen', `${NET}.3:0`],
      { env: { PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: ADMIN_PASSWORD, POD_NAME: id, POD_NAMESPACE: LEASE.namespace } },
    );
    const r: Replica = { id, cli, url: '' };
    replicas.push(r);
    const line = await cli.waitForLine(/listening on https?:\/\//, 30_000);
    r.url = /(https?:\/\/\S+)/.exec(line)![1]!.replace(/\/$/, '');
    return r;
  }

  async function operatorStatus(r: Replica): Promise<OperatorStatus> {
    const res = await fetch(`${r.url}/api/status`);
    return await res.json() as OperatorStatus;
  }

  /** The operator's own count of controller writes, by operation (its Prometheus counter). */
  async function controllerWrites(r: Replica): Promise<Record<string, number>> {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^portico_operator_controller_writes_total\{op="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  async function snapshot(): Promise<Snapshot> {
    const out: Snapshot = new Map();
    for (const info of allTypes) {
      const r = await ctl!.api('GET', `/api/${info.type}?page_size=1000`);
      if (r.status !== 200) continue; // a type not listed this way (singletons)
      for (const o of (r.body?.results ?? []) as any[]) out.set(o.uuid, { type: info.type, name: o.name, json: JSON.stringify(o) });
    }
    return out;
  }

  const lease = () => (double!.get(LEASE.apiVersion, LEASE.kind, LEASE.name, LEASE.namespace) as any).spec as { holderIdentity?: string; leaseTransitions?: number };
  const vipOf = (apiVersion: string, kind: string, name: string) => (double!.tryGet(apiVersion, kind, name, 'default') as any)?.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
  /** The VIP in the status of every served Service and of the Ingress. */
  const statuses = () => Object.fromEntries([
    ...SERVICES.map((s) => [`Service/${s}`, vipOf('v1', 'Service', s)]),
    ['Ingress/shop', vipOf('networking.k8s.io/v1', 'Ingress', 'shop')],
  ]);

  /**
   * Waits for `next` to lead and finish its first pass, has it serve one new Service (so its
   * start-up sync is over), then checks: nothing the old leader made was deleted, re-created or
   * changed on the controller; statuses kept their VIPs; the only Kubernetes writes to Services
   * and Ingresses are for the new Service; the only controller writes are the new Service's creates.
   */
  async function assertNoChurn(next: Replica, before: Snapshot, statusBefore: Record<string, string | undefined>, added: string): Promise<string> {
    await eventually(async () => (await operatorStatus(next)).leader, `${next.id} to lead`, TAKEOVER_MS);
    assert.equal(lease().holderIdentity, next.id);
    await eventually(async () => (await operatorStatus(next)).passes >= 1, `${next.id}'s first sync pass`);
    double!.create(lbService(added));
    double!.create(slice(added, `${NET}.60`));
    const ip = await eventually(() => vipOf('v1', 'Service', added), `a VIP for Service ${added} from ${next.id}`);
    assert.ok(!Object.values(statusBefore).includes(ip), `the new Service got a VIP of its own (${ip})`);

    const now = await snapshot();
    const changed: string[] = [];
    for (const [uuid, o] of before) {
      const n = now.get(uuid);
      if (!n) changed.push(`${o.type}/${o.name} (${uuid}) gone`);
      else if (n.json !== o.json) changed.push(`${o.type}/${o.name} (${uuid}) changed:\n  before ${o.json}\n  after  ${n.json}`);
    }
    const created = [...now].filter(([uuid]) => !before.has(uuid)).map(([, o]) => o);
    for (const o of created) if (!o.name.includes(added)) changed.push(`${o.type}/${o.name} created (not for ${added})`);
    assert.deepEqual(changed, [], 'controller objects kept their UUIDs and content');
    assert.ok(created.length >= 2, `objects created for ${added}: ${created.map((o) => `${o.type}/${o.name}`).join(', ')}`);

    assert.deepEqual(statuses(), statusBefore, 'statuses kept their VIPs');
    const items = (await operatorStatus(next)).items;
    for (const [key, vip] of Object.entries(statusBefore)) {
      const [kind, name] = key.split('/');
      assert.equal(items.find((i) => i.kind === kind && i.name === name)?.loadBalancer.ingress[0]?.ip, vip, `${next.id} reports ${key} with its VIP`);
    }

    const writes = await controllerWrites(next);
    assert.deepEqual(writes, { create: created.length }, `${next.id}'s controller writes: only the creates for ${added}`);
    const kubeWrites = double!.writes.filter((w) => w.by === 'client' && w.kind !== 'Lease' && w.kind !== 'Event');
    const churn = kubeWrites.filter((w) => w.name !== added).map((w) => `${w.verb} ${w.kind}/${w.name}${w.subresource ? `/${w.subresource}` : ''}`);
    assert.deepEqual(churn, [], 'no Kubernetes write to the Services and Ingresses already served');
    // A new leader announces each object once (AKO's Synced on start-up), never the same Event twice.
    const events = double!.writes.filter((w) => w.by === 'client' && w.kind === 'Event').map((w) => w.object as any);
    const perObject = events.map((e) => `${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.reason}`);
    assert.deepEqual(perObject.filter((e, i) => perObject.indexOf(e) !== i), [], 'no Event written twice');
    return `${created.length} controller creates (all for ${added}), 0 updates, 0 deletes; ${before.size} objects unchanged; ${events.length} Event writes (one Synced per object)`;
  }

  before(async () => {
    double = await KubeApiDouble.start({ host: `${NET}.1` });
    kubeconfig = double.writeKubeconfig(join(dir, 'kubeconfig'));
    valuesFile = join(dir, 'values.yaml');
    writeFileSync(valuesFile, [
      'AKOSettings: { clusterName: kube, fullSyncFrequency: "0" }',
      'NetworkSettings: { vipNetworkList: [{ networkName: local-vip }] }',
      'L4Settings: { autoFQDN: disabled }',
      '',
    ].join('\n'));
    const c = await startTestController(`${NET}.2`, VIP_CIDR);
    if ('unavailable' in c) throw new Error(`controller not available: ${c.unavailable}`);
    ctl = c;

    SERVICES.forEach((s, i) => { double!.create(lbService(s)); double!.create(slice(s, `${NET}.${50 + i}`)); });
    const cert = await selfSignedCert(['shop.portico.local']);
    double.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-tls', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert.cert).toString('base64'), 'tls.key': Buffer.from(cert.key).toString('base64') } });
    // The chart's IngressClass (cluster mode has no implicit one).
    double.create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'avi-lb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'ako.vmware.com/avi-lb' } });
    double.create(clusterService('shop'));
    double.create(slice('shop', `${NET}.55`));
    double.create(ingress('shop', 'shop.portico.local', 'shop-tls', 'shop'));

    leader = await startReplica('ako-0');
    await eventually(async () => (await operatorStatus(leader)).leader, 'ako-0 to lead', TAKEOVER_MS);
    await startReplica('ako-1');
    await eventually(() => Object.values(statuses()).every(Boolean) && statuses(), 'every Service and the Ingress to get a VIP in its status', 30_000)
      .catch(async (e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(statuses())}; ako-0: ${JSON.stringify(await operatorStatus(leader))}`); });
  });

  after(async () => {
    for (const r of replicas) await r.cli.stop(3000).catch(() => undefined);
    await ctl?.stop();
    await double?.stop();
    killAllWithArg(dir); // the last guard: no operator of this suite outlives it
    rmSync(dir, { recursive: true, force: true });
  });

  test('leader killed (SIGKILL) with a follower present: the follower takes over, zero churn', async () => {
    const follower = replicas.find((r) => r !== leader)!;
    const idle = await operatorStatus(follower);
    assert.equal(idle.leader, false);
    assert.equal(idle.passes, 0, 'the follower ran no sync pass');
    assert.deepEqual(await controllerWrites(follower), {}, 'the follower wrote nothing to the controller');
    assert.equal(double!.writes.filter((w) => w.by === 'client' && w.kind === 'Lease' && (w.object as any)?.spec?.holderIdentity === follower.id).length, 0, 'the follower never wrote the Lease');

    const statusBefore = statuses();
    const before = await snapshot();
    assert.ok(before.size > SERVICES.length * 3, `controller objects before: ${before.size}`);
    assert.ok([...before.values()].every((o) => o.json.includes('"_last_modified"')), 'lists carry _last_modified (a rewrite would change it)');
    const transitions = lease().leaseTransitions ?? 0;
    double!.clearWrites();
    process.kill(leader.cli.pid, 'SIGKILL');
    const killedAt = Date.now();
    await leader.cli.exited;

    const figures = await assertNoChurn(follower, before, statusBefore, 'after-failover');
    assert.equal(lease().leaseTransitions, transitions + 1, 'one lease transition');
    console.log(`# operator leader SIGKILL with a follower: ${follower.id} serving a new Service ${Date.now() - killedAt} ms after the kill (lease 15 s); ${figures}`);
    leader = follower;
  });

  test('lone operator crashes and restarts under the same name (no follower): zero churn', async () => {
    const statusBefore = statuses();
    const before = await snapshot();
    double!.clearWrites();
    process.kill(leader.cli.pid, 'SIGKILL');
    await leader.cli.exited;
    const restartedAt = Date.now();
    // A StatefulSet pod comes back with its name: the Lease is still its own, so it leads at once.
    const again = await startReplica(leader.id);
    const figures = await assertNoChurn(again, before, statusBefore, 'after-restart');
    console.log(`# lone operator restart: ${again.id} serving a new Service ${Date.now() - restartedAt} ms after the restart; ${figures}`);
    leader = again;
  });
});
