// Runs a pool's monitors against one server on their intervals and flips the server's `up`
// after `failed_checks` consecutive failures / `successful_checks` consecutive successes.
// A server is up when every monitor of its pool says up.
import { runCheck, type MonitorSpec } from './checks.js';

export interface ProbeTarget {
  ip: string;
  port: number;
  up: boolean;
  reason: string | undefined;
}

class MonitorLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private okRun = 0;
  private failRun = 0;
  up: boolean;
  reason: string | undefined;

  constructor(private readonly spec: MonitorSpec, private readonly target: ProbeTarget, private readonly changed: () => void) {
    // A server that is down stays down until this monitor has seen it healthy (successful_checks).
    this.up = target.up;
    this.reason = target.reason;
  }

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const r = await runCheck(this.spec, this.target.ip, this.target.port);
    if (this.stopped) return;
    if (r.ok) {
      this.failRun = 0;
      this.okRun++;
      if (!this.up && this.okRun >= this.spec.successfulChecks) {
        this.up = true;
        this.reason = undefined;
        this.changed();
      }
    } else {
      this.okRun = 0;
      this.failRun++;
      if (this.up && this.failRun >= this.spec.failedChecks) {
        this.up = false;
        this.reason = `${this.spec.name}: ${r.reason ?? 'failed'}`;
        this.changed();
      } else if (!this.up) this.reason = `${this.spec.name}: ${r.reason ?? 'failed'}`;
    }
    this.schedule(this.spec.sendIntervalMs);
  }
}

/** The monitors of one server. `onChange` is told when the server's up/down state flips. */
export class ServerProber {
  private loops: MonitorLoop[] = [];
  constructor(private readonly target: ProbeTarget, specs: MonitorSpec[], private readonly onChange: (t: ProbeTarget) => void) {
    this.loops = specs.map((s) => new MonitorLoop(s, target, () => this.recompute()));
    for (const l of this.loops) l.start();
  }

  private recompute(): void {
    const down = this.loops.find((l) => !l.up);
    const up = !down;
    this.target.reason = down?.reason;
    if (up !== this.target.up) {
      this.target.up = up;
      this.onChange(this.target);
    }
  }

  stop(): void {
    for (const l of this.loops) l.stop();
  }
}
