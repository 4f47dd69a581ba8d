// Leader election on a coordination.k8s.io/v1 Lease, as client-go's LeaseLock does it (AKO runs it
// with `ako-lease-lock`; 2 replicas, active/passive). client-node has no elector, so this is a small
// one over CoordinationV1Api: the follower only reads the Lease; it takes it over when the holder has
// not renewed it for a lease duration (judged by the follower's own clock, from when it last saw the
// record change), with an optimistic-concurrency update so two followers cannot both win. The leader
// renews every retry period and gives up when it could not renew for the renew deadline.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';

export interface LeaderLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** The Lease name (AKO: `ako-lease-lock`). */
  name: string;
  /** This replica (AKO: the pod name). */
  identity: string;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  /** Called whenever the observed holder changes (including to this replica). */
  onNewLeader?: (identity: string) => void;
  /** Defaults as AKO's: lease 15 s, renew deadline 10 s, retry every 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger?: LeaderLogger;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** The holder last seen on the Lease ('' when free). */
  leader(): string;
  /** Stops competing; a leader hands the Lease back (unless `release: false`, as a crash would). */
  stop(opts?: { release?: boolean }): Promise<void>;
}

function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

class LeaseElector implements LeaderElection {
  private readonly api: CoordinationV1Api;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  private holder = '';
  private observedRecord = '';
  private observedAt = 0;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseMs = opts.leaseDurationMs ?? DEFAULT_TIMINGS.leaseDurationMs;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_TIMINGS.renewDeadlineMs;
    this.retryMs = opts.retryPeriodMs ?? DEFAULT_TIMINGS.retryPeriodMs;
    const problem = timingProblem(this.leaseMs, this.renewDeadlineMs, this.retryMs);
    if (problem) throw new Error(`leader election: ${problem}`);
  }

  isLeader(): boolean {
    return this.leading;
  }

  leader(): string {
    return this.holder;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (!this.leading) return;
    if (opts.release !== false) await this.release();
    await this.lose('stopped');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    // Jitter while following, so two followers do not hit the Lease in lockstep (client-go: factor 1.2).
    const jitter = this.leading ? 0 : Math.random() * 0.2 * this.retryMs;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => { this.running = undefined; this.schedule(this.retryMs); });
    }, delayMs + jitter);
  }

  private async round(): Promise<void> {
    let ok = false;
    try {
      ok = await withTimeout(this.tryAcquireOrRenew(), this.leading ? this.renewDeadlineMs : this.leaseMs);
    } catch (err) {
      this.opts.logger?.warn(`lease ${this.opts.namespace}/${this.opts.name}: ${(err as Error).message?.split('\n')[0]}`);
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = Date.now();
      if (!this.leading) {
        this.leading = true;
        this.opts.logger?.info(`${this.opts.identity} is now the leader (lease ${this.opts.namespace}/${this.opts.name})`);
        // Not awaited: a long start (a full sync) must not hold up the renewals (client-go runs it in a goroutine).
        void Promise.resolve().then(() => this.opts.onStartedLeading()).catch((err) => this.opts.logger?.warn(`onStartedLeading failed: ${(err as Error).message}`));
      }
    } else if (this.leading && Date.now() - this.lastRenew > this.renewDeadlineMs) {
      void this.lose(`could not renew the lease for ${this.renewDeadlineMs} ms`);
    }
  }

  private async lose(why: string): Promise<void> {
    this.leading = false;
    this.opts.logger?.warn(`${this.opts.identity} is no longer the leader: ${why}`);
    try { await this.opts.onStoppedLeading(); } catch (err) { this.opts.logger?.warn(`onStoppedLeading failed: ${(err as Error).message}`); }
  }

  private observe(holder: string): void {
    if (holder !== this.holder) {
      this.holder = holder;
      if (holder) this.opts.onNewLeader?.(holder);
    }
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseMs / 1000));
  }

  /** One attempt; true when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (errorCode(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
      } catch (createErr) {
        if (errorCode(createErr) === 409) return false; // another replica created it first
        throw createErr;
      }
      this.observe(identity);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([holder, spec.renewTime, spec.acquireTime, spec.leaseTransitions]);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAt = Date.now();
    }
    this.observe(holder);
    if (holder && holder !== identity && this.observedAt + this.leaseMs > Date.now()) return false; // held, and alive
    const mine = holder === identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: mine ? spec.leaseTransitions ?? 0 : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body });
    } catch (err) {
      if (errorCode(err) === 409) return false; // someone else wrote it since we read it
      throw err;
    }
    this.observe(identity);
    return true;
  }

  /** Hands the Lease back so a follower takes over at once instead of waiting for it to expire. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await this.api.replaceNamespacedLease({
        name, namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date() } },
      });
    } catch (err) {
      this.opts.logger?.warn(`could not release lease ${namespace}/${name}: ${(err as Error).message?.split('\n')[0]}`);
    }
  }
}

export const DEFAULT_TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export type LeaderTimings = Required<Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>>;

/** Why these timings cannot work (client-go's rules), or undefined. */
function timingProblem(leaseMs: number, renewMs: number, retryMs: number): string | undefined {
  const s = (ms: number) => `${ms / 1000} s`;
  if (!(retryMs > 0)) return `the retry period must be above 0 (got ${s(retryMs)})`;
  if (!(leaseMs > renewMs)) return `the lease duration (${s(leaseMs)}) must exceed the renew deadline (${s(renewMs)})`;
  if (!(renewMs > retryMs)) return `the renew deadline (${s(renewMs)}) must exceed the retry period (${s(retryMs)})`;
  return undefined;
}

/**
 * Timings from the CLI (`--lease-duration`, `--renew-deadline`, `--retry-period`, in seconds,
 * decimals allowed); the ones not given keep AKO's defaults. An error names the flag at fault.
 */
export function leaderTimings(flags: { leaseDuration?: string; renewDeadline?: string; retryPeriod?: string }): LeaderTimings | { error: string } {
  const out: LeaderTimings = { ...DEFAULT_TIMINGS };
  const fields = [['leaseDuration', '--lease-duration', 'leaseDurationMs'], ['renewDeadline', '--renew-deadline', 'renewDeadlineMs'], ['retryPeriod', '--retry-period', 'retryPeriodMs']] as const;
  for (const [key, flag, ms] of fields) {
    const v = flags[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600) return { error: `${flag} ${JSON.stringify(v)}: expected a number of seconds above 0 and at most 3600` };
    out[ms] = Math.round(n * 1000);
  }
  const problem = timingProblem(out.leaseDurationMs, out.renewDeadlineMs, out.retryPeriodMs);
  if (problem) return { error: `leader election timings: ${problem} (--lease-duration > --renew-deadline > --retry-period)` };
  return out;
}

/** Starts competing for the Lease; callbacks tell when this replica starts and stops leading. */
export function startLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const elector = new LeaseElector(opts);
  elector.start();
  return elector;
}
