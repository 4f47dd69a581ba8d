// SE heartbeats shared between replicas. An SE reports to one replica, but placement (on the
// leader) and the runtime views (on every replica) need to know it is alive. Each replica
// publishes, once a second, the SEs it hears from itself (`/portico/cluster/heard/<node>`, a
// key on its live lease, so a dead replica's list goes away), and merges the others' lists into
// its own registry when they are newer than what it heard itself.
import type { Etcd3 } from 'etcd3';
import type { EngineRegistry, SeState } from '../engines/registry.js';

const HEARD = '/portico/cluster/heard/';
const PERIOD_MS = 1000;

export class SharedHeartbeats {
  /** Registry entries merged from other replicas (not republished as ours). */
  private readonly remote = new WeakSet<SeState>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly client: Etcd3, private readonly node: string, private readonly registry: EngineRegistry, private readonly leaseId: () => Promise<string | undefined>) {}

  start(): void {
    this.timer = setInterval(() => { void this.round(); }, PERIOD_MS);
    this.timer.unref();
  }

  /** One exchange: publish ours, merge theirs. etcd being away only skips the round. */
  async round(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = Date.now();
      const ours = [...this.registry.engines.values()].filter((se) => !this.remote.has(se) && this.registry.connected(se, now));
      const lease = await this.leaseId();
      if (lease) await this.client.put(HEARD + this.node).value(JSON.stringify(ours)).lease(lease);
      const all = await this.client.getAll().prefix(HEARD).strings();
      for (const [key, value] of Object.entries(all)) {
        if (key === HEARD + this.node) continue;
        for (const se of JSON.parse(value) as SeState[]) {
          const mine = this.registry.engines.get(se.uuid);
          if (mine && mine.lastHeartbeat >= se.lastHeartbeat) continue;
          const merged = { ...se };
          this.remote.add(merged);
          this.registry.engines.set(se.uuid, merged);
        }
      }
    } catch {
      // etcd unreachable: the registry keeps what it has; the next round tries again
    } finally {
      this.busy = false;
    }
  }

  close(): void { clearInterval(this.timer); }
}
