// `realtime_se_metrics` of an SE group: while enabled, the pool and server series of its SEs'
// traffic are kept at 5 s resolution (an hour) as well as in the 5 min rollups; otherwise in
// the rollups only (virtual-service series always have both). As in Avi, it turns itself off
// `duration` minutes after it was enabled (0: never): the leader writes `enabled: false`.
import type { EngineHost, StoredObject } from '../engines/host.js';

export interface RealtimeOptions {
  isLeader?: () => boolean;
  /** How long a `duration` minute is (tests shorten it). */
  minuteMs?: number;
  onEvent?: (group: StoredObject, reason: string) => void;
  log?: { warn(obj: object, msg: string): void };
}

interface Setting { enabled?: boolean; duration?: number }

export class RealtimeMetrics {
  /** Group → when realtime metrics were enabled (as seen here, or the record's last change). */
  private readonly since = new Map<string, number>();
  private readonly turningOff = new Set<string>();
  private readonly minuteMs: number;

  constructor(private readonly host: EngineHost, private readonly o: RealtimeOptions = {}) {
    this.minuteMs = o.minuteMs ?? 60_000;
  }

  /** The groups with realtime metrics on now; on the leader, turns off those past their duration. */
  groups(groups: Iterable<StoredObject>, now = Date.now()): Set<string> {
    const on = new Set<string>();
    const seen = new Set<string>();
    for (const g of groups) {
      seen.add(g.uuid);
      const rt = g.realtime_se_metrics as Setting | undefined;
      if (!rt?.enabled) {
        this.since.delete(g.uuid);
        continue;
      }
      let since = this.since.get(g.uuid);
      if (since === undefined) {
        // First seen enabled: since its last write (a restart keeps counting), else now.
        const lm = Number(g._last_modified) / 1000;
        this.since.set(g.uuid, (since = Number.isFinite(lm) && lm > 0 && lm <= now ? lm : now));
      }
      const minutes = rt.duration ?? 30;
      if (minutes > 0 && now - since >= minutes * this.minuteMs) {
        if (this.o.isLeader?.() ?? true) void this.turnOff(g, minutes);
        continue;
      }
      on.add(g.uuid);
    }
    for (const k of [...this.since.keys()]) if (!seen.has(k)) this.since.delete(k);
    return on;
  }

  private async turnOff(g: StoredObject, minutes: number): Promise<void> {
    if (this.turningOff.has(g.uuid)) return;
    this.turningOff.add(g.uuid);
    try {
      const cur = await this.host.get('serviceenginegroup', g.uuid);
      const rt = cur?.realtime_se_metrics as Setting | undefined;
      if (!cur || !rt?.enabled) return;
      await this.host.update('serviceenginegroup', g.uuid, { ...cur, realtime_se_metrics: { ...rt, enabled: false } });
      this.o.onEvent?.(g, `SE group ${g.name}: realtime metrics turned off after ${minutes} minute(s) (realtime_se_metrics.duration)`);
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message, group: g.uuid }, 'could not turn realtime metrics off');
    } finally {
      this.turningOff.delete(g.uuid);
    }
  }
}
