// The cluster runtime of a controller replica on etcd: the replicated store, the leader
// election, and the member list behind /api/cluster/runtime. Each replica writes a lasting
// member record (name, URL, start time) and a live key on its own lease: a member whose live
// key is gone is down. Cluster state as Avi reports it: one member → CLUSTER_UP_NO_HA; every
// member up → CLUSTER_UP_HA_ACTIVE; some down → CLUSTER_UP_HA_COMPROMISED.
import type { Etcd3, Lease } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { connectEtcd, type EtcdConnection } from '../store/etcd-client.js';
import { EtcdStore } from '../store/etcd.js';
import { LeaderElection } from './leader.js';
import { SharedHeartbeats } from './heartbeats.js';
import type { EngineRegistry } from '../engines/registry.js';

export interface ClusterOptions extends EtcdConnection {
  /** The replica's data directory (its local copy of the store lives in DATA/etcd-cache). */
  dataDir: string;
  /** This replica's name, unique in the cluster. */
  nodeName: string;
  /** Leader lease and member liveness, seconds (default 10). */
  leaseTtlS?: number;
}

interface Member { name: string; url: string; up_since: string }

export interface NodeState { name: string; role: 'CLUSTER_LEADER' | 'CLUSTER_FOLLOWER'; state: 'CLUSTER_ACTIVE' | 'CLUSTER_INACTIVE'; up_since: string; mgmt_ip: string; url: string }
export interface ClusterView {
  cluster_state: { state: 'CLUSTER_UP_NO_HA' | 'CLUSTER_UP_HA_ACTIVE' | 'CLUSTER_UP_HA_COMPROMISED'; up_since: string; progress: number; reason?: string };
  node_states: NodeState[];
  node_info: { name: string; role: NodeState['role'] };
  store: { kind: 'etcd'; available: boolean };
}

const MEMBERS = '/portico/cluster/members/';
const LIVE = '/portico/cluster/live/';

export class ClusterRuntime {
  readonly election: LeaderElection;
  private lease?: Lease;
  private me?: Member;
  private last?: ClusterView;
  private closed = false;
  private heartbeats?: SharedHeartbeats;

  private constructor(readonly client: Etcd3, readonly store: EtcdStore, readonly o: ClusterOptions) {
    this.election = new LeaderElection(client, o.nodeName, o.leaseTtlS ?? 10);
  }

  /** Connects to etcd and loads the store (fails when etcd does not answer). */
  static async open(o: ClusterOptions): Promise<ClusterRuntime> {
    if (!/^[A-Za-z0-9._:-]+$/.test(o.nodeName)) throw new Error(`--node-name: ${o.nodeName}: use letters, digits, '.', '_', ':' and '-'`);
    const client = connectEtcd(o);
    try {
      const store = await EtcdStore.open({ client, cacheDir: join(o.dataDir, 'etcd-cache') });
      return new ClusterRuntime(client, store, o);
    } catch (e) {
      client.close();
      throw e;
    }
  }

  get isLeader(): boolean { return this.election.isLeader; }

  /** Runs `fn` while holding a cluster-wide lock (seeding an empty store: one replica at a time). */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.client.lock(`/portico/locks/${name}`).ttl(this.election.ttlS * 3).do(fn);
  }

  /** Announces this replica at `url` and enters the leader election. */
  async join(url: string): Promise<void> {
    this.me = { name: this.o.nodeName, url, up_since: new Date().toISOString() };
    await this.client.put(MEMBERS + this.me.name).value(JSON.stringify(this.me));
    await this.keepLive();
    this.election.start();
  }

  /** Shares the SE heartbeats this replica hears with the others (and theirs with it). */
  shareEngines(registry: EngineRegistry): void {
    this.heartbeats = new SharedHeartbeats(this.client, this.o.nodeName, registry, async () => (this.lease && !this.lease.revoked() ? this.lease.grant() : undefined));
    this.heartbeats.start();
  }

  /** The live key on a lease; granted again whenever the lease is lost (etcd away longer than the TTL). */
  private async keepLive(): Promise<void> {
    if (this.closed || !this.me) return;
    const lease = this.client.lease(this.election.ttlS, { autoKeepAlive: true });
    this.lease = lease;
    lease.on('lost', () => {
      if (this.lease !== lease || this.closed) return;
      const again = () => { this.keepLive().catch(() => setTimeout(again, 1000).unref()); };
      setTimeout(again, 500).unref();
    });
    await lease.put(LIVE + this.me.name).value(this.me.url);
  }

  /** Every member with its role and state, and the cluster state (the last known view when etcd does not answer). */
  async view(): Promise<ClusterView> {
    const me = this.me ?? { name: this.o.nodeName, url: '', up_since: new Date().toISOString() };
    try {
      const [members, live, leader] = await Promise.all([
        this.client.getAll().prefix(MEMBERS).strings(),
        this.client.getAll().prefix(LIVE).keys(),
        this.election.currentLeader(),
      ]);
      const up = new Set(live.map((k) => k.slice(LIVE.length)));
      const list: Member[] = Object.values(members).map((v) => JSON.parse(v) as Member).sort((a, b) => a.name.localeCompare(b.name));
      const node_states = list.map((m): NodeState => ({
        name: m.name, url: m.url, mgmt_ip: hostOf(m.url), up_since: m.up_since,
        role: m.name === leader ? 'CLUSTER_LEADER' : 'CLUSTER_FOLLOWER',
        state: up.has(m.name) ? 'CLUSTER_ACTIVE' : 'CLUSTER_INACTIVE',
      }));
      const upCount = node_states.filter((n) => n.state === 'CLUSTER_ACTIVE').length;
      const state = list.length <= 1 ? 'CLUSTER_UP_NO_HA' : upCount === list.length ? 'CLUSTER_UP_HA_ACTIVE' : 'CLUSTER_UP_HA_COMPROMISED';
      const leaderNode = node_states.find((n) => n.role === 'CLUSTER_LEADER');
      this.last = {
        cluster_state: { state, up_since: leaderNode?.up_since ?? me.up_since, progress: 100 },
        node_states,
        node_info: { name: me.name, role: this.isLeader ? 'CLUSTER_LEADER' : 'CLUSTER_FOLLOWER' },
        store: { kind: 'etcd', available: true },
      };
      return this.last;
    } catch (e) {
      const base = this.last ?? {
        cluster_state: { state: 'CLUSTER_UP_NO_HA' as const, up_since: me.up_since, progress: 100 },
        node_states: [{ name: me.name, url: me.url, mgmt_ip: hostOf(me.url), up_since: me.up_since, role: 'CLUSTER_FOLLOWER' as const, state: 'CLUSTER_ACTIVE' as const }],
        node_info: { name: me.name, role: 'CLUSTER_FOLLOWER' as const },
      };
      return {
        ...base,
        cluster_state: { ...base.cluster_state, state: 'CLUSTER_UP_HA_COMPROMISED', reason: `etcd does not answer (${(e as Error).message}): the last known members are shown` },
        node_info: { name: me.name, role: this.isLeader ? 'CLUSTER_LEADER' : 'CLUSTER_FOLLOWER' },
        store: { kind: 'etcd', available: false },
      };
    }
  }

  /**
   * Serves /api/cluster/runtime and /api/cluster/status from the cluster view: replaces the
   * handlers of those routes as the API registers them (call before the API routes).
   */
  install(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.includes('GET')) return;
      if (route.url === '/api/cluster/runtime') route.handler = async () => this.view();
      if (route.url === '/api/cluster/status') route.handler = async () => ({ cluster_state: (await this.view()).cluster_state });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.heartbeats?.close();
    await this.election.close();
    await this.lease?.revoke().catch(() => undefined);
    await this.store.close();
    this.client.close();
  }
}

function hostOf(url: string): string {
  try { return new URL(url).hostname; } catch { return ''; }
}
