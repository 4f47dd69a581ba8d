// Pools, pool groups and their health monitors for the applied snapshot. A pool whose config
// (pool object, monitors, persistence profile) did not change is left as it is; a changed pool
// is reconfigured in place, so servers that stay keep their health and connections, and their
// probers keep running when their monitors did not change.
import type { PoolRegistry, SnapshotIndex } from '../contracts.js';
import { Pool, poolConfigFrom, type ServerState } from '../lb/pool.js';
import { PoolGroup, memberPriority } from '../lb/poolgroup.js';
import { persistenceFromProfile } from '../lb/persistence.js';
import { monitorSpecFrom } from '../health/checks.js';
import { ServerProber } from '../health/prober.js';
import { lookup, objectStamp } from '../snapshot.js';

interface PoolEntry {
  pool: Pool;
  stamp: string;
  monitorStamp: string;
  probers: Map<string, ServerProber>;
}

export class PoolManager implements PoolRegistry {
  private pools = new Map<string, PoolEntry>();
  private groups = new Map<string, { group: PoolGroup; stamp: string }>();

  constructor(private readonly onServerChange: (pool: Pool, server: ServerState) => void = () => {}) {}

  pool(uuid: string): Pool | undefined {
    return this.pools.get(uuid)?.pool;
  }

  poolGroup(uuid: string): PoolGroup | undefined {
    return this.groups.get(uuid)?.group;
  }

  allPools(): Pool[] {
    return [...this.pools.values()].map((e) => e.pool);
  }

  /** Brings pools and groups in line with the snapshot; returns the UUIDs of pools that changed. */
  apply(index: SnapshotIndex): Set<string> {
    const changed = new Set<string>();
    const poolObjs = index.get('pool') ?? new Map();
    for (const [uuid, obj] of poolObjs) {
      const monitors = ((obj.health_monitor_refs ?? []) as string[]).map((r) => lookup(index, 'healthmonitor', r)).filter((m): m is Record<string, any> => !!m);
      const profile = lookup(index, 'applicationpersistenceprofile', obj.application_persistence_profile_ref);
      const monitorStamp = monitors.map(objectStamp).join('|');
      const stamp = `${objectStamp(obj)}|${monitorStamp}|${profile ? objectStamp(profile) : ''}`;
      const prev = this.pools.get(uuid);
      if (prev && prev.stamp === stamp) continue;
      changed.add(uuid);
      const config = poolConfigFrom(obj, persistenceFromProfile(profile, uuid));
      const entry: PoolEntry = prev ?? { pool: new Pool(uuid, obj.name, config), stamp, monitorStamp, probers: new Map() };
      if (prev) {
        prev.pool.name = obj.name;
        prev.pool.configure(config);
      }
      if (prev && prev.monitorStamp !== monitorStamp) {
        for (const p of prev.probers.values()) p.stop();
        prev.probers.clear();
        // New monitors start from each server's current state; without monitors every server is up.
        if (monitors.length === 0) {
          for (const s of prev.pool.servers) {
            s.up = true;
            s.reason = undefined;
          }
        }
      }
      entry.stamp = stamp;
      entry.monitorStamp = monitorStamp;
      this.syncProbers(entry, monitors);
      this.pools.set(uuid, entry);
    }
    for (const [uuid, entry] of this.pools) {
      if (poolObjs.has(uuid)) continue;
      for (const p of entry.probers.values()) p.stop();
      this.pools.delete(uuid);
      changed.add(uuid);
    }
    this.applyGroups(index);
    return changed;
  }

  private syncProbers(entry: PoolEntry, monitors: Record<string, any>[]): void {
    const specs = monitors.map(monitorSpecFrom);
    const keep = new Set(entry.pool.servers.map((s) => s.key));
    for (const [key, p] of entry.probers) {
      if (!keep.has(key)) {
        p.stop();
        entry.probers.delete(key);
      }
    }
    if (specs.length === 0) return;
    for (const s of entry.pool.servers) {
      if (entry.probers.has(s.key)) continue;
      entry.probers.set(s.key, new ServerProber(s, specs, () => this.onServerChange(entry.pool, s)));
    }
  }

  private applyGroups(index: SnapshotIndex): void {
    const objs = index.get('poolgroup') ?? new Map();
    for (const [uuid, obj] of objs) {
      const stamp = objectStamp(obj);
      const prev = this.groups.get(uuid);
      // Members point at Pool objects, which are stable across snapshots, so an unchanged group stays valid.
      if (prev && prev.stamp === stamp && prev.group.pools().every((p) => this.pools.get(p.uuid)?.pool === p)) continue;
      const group = prev?.group ?? new PoolGroup(uuid, obj.name);
      group.name = obj.name;
      const members: { pool: Pool; ratio: number; priority: number }[] = [];
      for (const m of (obj.members ?? []) as any[]) {
        const pool = this.pool(m?.pool_ref);
        if (pool) members.push({ pool, ratio: Math.max(1, Number(m.ratio ?? 1)), priority: memberPriority(m.priority_label) });
      }
      group.configure(members);
      this.groups.set(uuid, { group, stamp });
    }
    for (const uuid of this.groups.keys()) if (!objs.has(uuid)) this.groups.delete(uuid);
  }

  stop(): void {
    for (const e of this.pools.values()) for (const p of e.probers.values()) p.stop();
    this.pools.clear();
    this.groups.clear();
  }
}
