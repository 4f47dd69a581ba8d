// Avi's `min_pools_up`: a VS (AKO sets it on EVH children, whose pools sit behind policies) is up
// only while at least that many of the pools it can send to have a server up.
import type { SnapshotIndex } from '../contracts.js';

type Obj = Record<string, any>;

function addGroup(index: SnapshotIndex, uuid: unknown, out: Set<string>): void {
  const members = typeof uuid === 'string' ? index.get('poolgroup')?.get(uuid)?.members : undefined;
  if (Array.isArray(members)) for (const m of members) if (typeof m?.pool_ref === 'string') out.add(m.pool_ref);
}

/** The pools a VS can send to: its default pool or group and its HTTP request policies' switching actions. */
export function poolsOfVs(vs: Obj, index: SnapshotIndex): Set<string> {
  const out = new Set<string>();
  if (typeof vs.pool_ref === 'string') out.add(vs.pool_ref);
  addGroup(index, vs.pool_group_ref, out);
  for (const p of (vs.http_policies ?? []) as Obj[]) {
    const set = index.get('httppolicyset')?.get(String(p?.http_policy_set_ref));
    for (const rule of (set?.http_request_policy?.rules ?? []) as Obj[]) {
      const sw = rule?.switching_action;
      if (!sw || rule.enable === false) continue;
      if (typeof sw.pool_ref === 'string') out.add(sw.pool_ref);
      addGroup(index, sw.pool_group_ref, out);
    }
  }
  return out;
}

/** Why the VS is down by `min_pools_up`, or undefined when the rule is unset or met. */
export function minPoolsUpShortfall(vs: Obj, index: SnapshotIndex, poolUp: (uuid: string) => boolean): string | undefined {
  const min = vs.min_pools_up;
  if (typeof min !== 'number' || min <= 0) return undefined;
  const pools = poolsOfVs(vs, index);
  let up = 0;
  for (const p of pools) if (poolUp(p)) up++;
  return up >= min ? undefined : `${up} of its ${pools.size} pools have a server up; min_pools_up is ${min}`;
}
