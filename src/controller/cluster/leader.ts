// Leader election among controller replicas on an etcd lease (etcd3's Election: the campaign
// key lives on a lease of `ttlS` seconds, the oldest live campaign leads). The leader does the
// singleton work; when it dies its lease expires and the next replica is elected within the
// lease time; a replica that stops cleanly resigns, so the next one takes over at once.
import type { Campaign, Election, ElectionObserver, Etcd3 } from 'etcd3';

export class LeaderElection {
  private readonly election: Election;
  private campaign?: Campaign;
  private observer?: ElectionObserver;
  private leading = false;
  private current: string | undefined;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private readonly listeners = new Set<(leader: boolean) => void>();

  constructor(client: Etcd3, private readonly node: string, readonly ttlS: number, name = 'portico-controller') {
    this.election = client.election(name, ttlS);
  }

  get isLeader(): boolean { return this.leading; }
  /** The name of the leading node as last seen (undefined while there is none or etcd is unreachable). */
  get leader(): string | undefined { return this.leading ? this.node : this.current; }

  /** Called with true when this node becomes leader and false when it stops being one. */
  onChange(fn: (leader: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  start(): void {
    this.run(0);
    void this.observe();
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.current = this.node;
    for (const l of this.listeners) { try { l(leading); } catch { /* a listener's failure is not the election's */ } }
  }

  /** Campaigns; on any failure (lease lost, etcd unreachable) steps down and campaigns again. */
  private run(delayMs: number): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      const c = this.election.campaign(this.node);
      this.campaign = c;
      c.on('elected', () => { if (this.campaign === c) this.set(true); });
      c.on('error', () => {
        if (this.campaign !== c) return;
        this.campaign = undefined;
        this.set(false);
        c.resign().catch(() => undefined);
        this.run(Math.min(Math.max(delayMs * 2, 250), 2000));
      });
    }, delayMs);
    this.retry.unref();
  }

  private async observe(): Promise<void> {
    while (!this.closed && !this.observer) {
      try {
        const o = await this.election.observe();
        if (this.closed) { await o.cancel(); return; }
        this.observer = o;
        this.current = o.leader();
        o.on('change', (v) => { this.current = v; });
        o.on('error', () => { this.observer = undefined; void o.cancel().catch(() => undefined); void this.observe(); });
      } catch {
        await new Promise((r) => setTimeout(r, 500).unref());
      }
    }
  }

  /** Asks etcd who leads now (falls back to the last seen leader). */
  async currentLeader(): Promise<string | undefined> {
    if (this.leading) return this.node;
    try { return await this.election.leader(); } catch { return this.current; }
  }

  /** Resigns (the next replica takes over without waiting for the lease) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.campaign;
    this.campaign = undefined;
    this.set(false);
    await c?.resign().catch(() => undefined);
    await this.observer?.cancel().catch(() => undefined);
  }
}
