// Keeps each SE's current snapshot and the SE long-polling for it. Store changes mark the
// snapshots stale; a debounced rebuild gives an SE a new version only when its content
// changed, and only then is it answered. The content is what placement put on the SE
// (`placed_vs_uuids` of its record), or its group's every enabled VS before placement ran.
import type { IncomingMessage } from 'node:http';
import type { EngineHost } from './host.js';
import type { EngineRegistry } from './registry.js';
import { buildGroupContent, ObjectMirror, WATCHED_TYPES, type GroupSnapshot } from './snapshots.js';

interface Waiter { have: number; resolve: (s: GroupSnapshot | undefined) => void }
interface Group { snap?: GroupSnapshot; stale: boolean; building?: Promise<GroupSnapshot>; waiters: Set<Waiter> }

const DEBOUNCE_MS = 15;

export class SnapshotService {
  private readonly groups = new Map<string, Group>();
  private timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;
  private readonly mirror: ObjectMirror;
  private closed = false;

  constructor(private readonly host: EngineHost, private readonly registry: EngineRegistry) {
    this.mirror = new ObjectMirror(host);
    this.off = host.onChange((type, uuid) => {
      if (!WATCHED_TYPES.has(type)) return;
      this.mirror.changed(type, uuid);
      for (const g of this.groups.values()) g.stale = true;
      // A refresh rebuilds each waiting SE's snapshot from every VS of its group: after a slow
      // one wait longer (x4, up to 1 s), so a burst of writes wakes an SE a bounded number of
      // times with the latest content, not once per 15 ms at the cost of the whole event loop.
      if (!this.timer) this.timer = setTimeout(() => void this.refresh(), Math.max(DEBOUNCE_MS, Math.min(this.lastRefreshMs * 4, 1_000)));
    });
  }

  private group(uuid: string): Group {
    let g = this.groups.get(uuid);
    if (!g) this.groups.set(uuid, (g = { stale: true, waiters: new Set() }));
    return g;
  }

  /** The SE's snapshot, rebuilt when stale (one build at a time per SE). */
  async current(uuid: string): Promise<GroupSnapshot> {
    const g = this.group(uuid);
    while (g.stale || !g.snap) {
      if (!g.building) {
        g.stale = false;
        g.building = this.build(uuid, g.snap).finally(() => (g.building = undefined));
      }
      g.snap = await g.building;
    }
    return g.snap;
  }

  private async build(seUuid: string, prev: GroupSnapshot | undefined): Promise<GroupSnapshot> {
    const objects = await this.mirror.settled();
    const se = objects.get('serviceengine')?.get(seUuid) ?? await this.host.get('serviceengine', seUuid);
    const groupUuid = String(se?.se_group_ref ?? '');
    // Not placed yet: nothing while placement runs in the group (a new SE must not take every VS
    // for a moment); everything only where placement never ran.
    const placementRuns = [...(objects.get('serviceengine')?.values() ?? [])].some((x) => x.se_group_ref === groupUuid && Array.isArray(x.placed_vs_uuids));
    const placed = Array.isArray(se?.placed_vs_uuids) ? new Set(se.placed_vs_uuids as string[]) : placementRuns ? new Set<string>() : undefined;
    const standby = Array.isArray(se?.standby_vs_uuids) ? (se.standby_vs_uuids as string[]) : [];
    const content = buildGroupContent(objects, groupUuid, placed, standby);
    if (!placed) this.registry.groupVses.set(groupUuid, new Set(content.vsUuids));
    if (prev && prev.hash === content.hash) return prev;
    const revision = await this.host.revision();
    return { ...content, version: Math.max(revision, (prev?.version ?? 0) + 1) };
  }

  async currentVersion(uuid: string): Promise<number> {
    return (await this.current(uuid)).version;
  }

  /** A snapshot newer than `have`, waiting up to `waitMs` for one; undefined when none came. */
  async next(uuid: string, have: number, waitMs: number, req: IncomingMessage): Promise<GroupSnapshot | undefined> {
    const snap = await this.current(uuid);
    if (snap.version > have) return snap;
    if (waitMs <= 0 || this.closed) return undefined;
    const g = this.group(uuid);
    return new Promise((resolve) => {
      const w: Waiter = {
        have,
        resolve: (s) => {
          clearTimeout(t);
          req.socket.removeListener('close', gone);
          g.waiters.delete(w);
          resolve(s);
        },
      };
      const t = setTimeout(() => w.resolve(undefined), waitMs);
      // The SE hung up: forget it.
      const gone = () => w.resolve(undefined);
      req.socket.once('close', gone);
      g.waiters.add(w);
    });
  }

  private lastRefreshMs = 0;

  private async refresh(): Promise<void> {
    this.timer = undefined;
    const started = performance.now();
    try {
      await this.wakeWaiters();
    } finally {
      this.lastRefreshMs = performance.now() - started;
    }
  }

  private async wakeWaiters(): Promise<void> {
    for (const [uuid, g] of this.groups) {
      if (g.waiters.size === 0) continue;
      try {
        const snap = await this.current(uuid);
        for (const w of [...g.waiters]) if (snap.version > w.have) w.resolve(snap);
      } catch {
        // The next change or poll retries.
        g.stale = true;
      }
    }
  }

  close(): void {
    this.closed = true;
    this.off();
    if (this.timer) clearTimeout(this.timer);
    for (const g of this.groups.values()) for (const w of [...g.waiters]) w.resolve(undefined);
  }
}
