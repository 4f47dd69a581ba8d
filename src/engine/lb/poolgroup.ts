// A pool group: members chosen by ratio among the highest-priority members that still have
// an eligible server (lower priorities are the fallback).
import type { PickContext, PoolGroupRuntime, PoolRuntime } from '../contracts.js';
import type { Pool } from './pool.js';

interface Member { pool: Pool; ratio: number; priority: number; current: number }

export class PoolGroup implements PoolGroupRuntime {
  private members: Member[] = [];
  constructor(readonly uuid: string, public name: string) {}

  configure(members: { pool: Pool; ratio: number; priority: number }[]): void {
    const old = new Map(this.members.map((m) => [m.pool.uuid, m.current]));
    this.members = members.map((m) => ({ ...m, current: old.get(m.pool.uuid) ?? 0 }));
  }

  pools(): Pool[] {
    return this.members.map((m) => m.pool);
  }

  hasEligible(): boolean {
    return this.members.some((m) => m.pool.hasEligible());
  }

  pickPool(_ctx: PickContext): PoolRuntime | undefined {
    let top = -Infinity;
    for (const m of this.members) if (m.priority > top && m.pool.hasEligible()) top = m.priority;
    let total = 0;
    let best: Member | undefined;
    for (const m of this.members) {
      if (m.priority !== top || !m.pool.hasEligible()) continue;
      m.current += m.ratio;
      total += m.ratio;
      if (!best || m.current > best.current) best = m;
    }
    if (best) best.current -= total;
    return best?.pool;
  }
}

/** `priority_label` as a number (higher wins, as Avi's priority labels); non-numeric labels rank 0. */
export function memberPriority(label: unknown): number {
  const n = Number(label);
  return typeof label === 'string' && label.trim() !== '' && Number.isFinite(n) ? n : 0;
}
