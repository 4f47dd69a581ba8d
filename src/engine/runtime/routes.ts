// What each virtual service of a snapshot asks for: its listening sockets (VIP, port, kind)
// and, for L4, the pool behind each port. Pure: reads the snapshot index only (and, once, the
// process's open-files limit).
import { readFileSync } from 'node:fs';
import type { PoolRegistry, PoolRuntime, SnapshotIndex } from '../contracts.js';
import { lookup, refClosure, vsAddresses } from '../snapshot.js';
import type { L4Route } from '../l4/tcp.js';
import { datascriptRoute } from '../l4/passthrough.js';

export type ListenerKind = 'tcp' | 'udp' | 'l7' | 'dns-udp' | 'dns-tcp';

export interface ListenerPlan {
  key: string;
  kind: ListenerKind;
  address: string;
  port: number;
  vsUuid: string;
  tls: boolean;
  /** L4 kinds only. */
  route?: L4Route;
  /** The pool or pool group serving this listener by default (for oper state). */
  target?: { type: 'pool' | 'poolgroup'; uuid: string };
}

export interface VsPlan {
  uuid: string;
  name: string;
  /** UUIDs of the VS, everything it refers to (transitively) and its VH children: a change to any re-plans it. */
  closure: string[];
  /** A configuration error found while planning (bad port, no VIP). */
  error?: string;
  listeners: ListenerPlan[];
  app: 'L4' | 'HTTP' | 'DNS';
  /** remove_listening_port_on_vs_down: a port whose pool has no server up is not listened on. */
  removePortsWhenDown: boolean;
  /** HTTP VS with httppolicysets: rules may route anywhere, so its default pool alone never takes it down. */
  hasPolicies: boolean;
}

/**
 * Listening sockets one VS may ask for: each port of a range is its own socket (one file
 * descriptor, ~6 KB for L4, ~11 KB for L7), so the bound is the process's open-files limit
 * less a reserve for connections, not a fixed width. With an open-files limit of 82,000 or more the
 * full range Avi allows (1–65535) fits.
 */
export const listenerBudget = (() => {
  let cached: number | undefined;
  return (): number => (cached ??= budgetFrom(openFilesLimit()));
})();

/** The soft RLIMIT_NOFILE from /proc (Linux); undefined elsewhere. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : undefined;
  } catch {
    return undefined;
  }
}

/** A quarter of the limit (at least 256, at most 16,384) stays free for connections and files. */
export function budgetFrom(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return Infinity;
  return Math.max(0, limit - Math.min(16_384, Math.max(256, Math.floor(limit / 4))));
}

const isUdp = (np: Record<string, any> | undefined) => /UDP/.test(String(np?.profile?.type ?? ''));

function idleTimeoutMs(np: Record<string, any> | undefined): number {
  const p = np?.profile ?? {};
  const t = String(p.type ?? 'PROTOCOL_TYPE_TCP_PROXY');
  if (t === 'PROTOCOL_TYPE_UDP_FAST_PATH') return Number(p.udp_fast_path_profile?.session_idle_timeout ?? 10) * 1000;
  if (t === 'PROTOCOL_TYPE_UDP_PROXY') return Number(p.udp_proxy_profile?.session_idle_timeout ?? 10) * 1000;
  if (t === 'PROTOCOL_TYPE_TCP_FAST_PATH') return Number(p.tcp_fast_path_profile?.session_idle_timeout ?? 300) * 1000;
  return Number(p.tcp_proxy_profile?.idle_connection_timeout ?? 600) * 1000;
}

function appKind(profile: Record<string, any> | undefined): VsPlan['app'] {
  const t = String(profile?.type ?? 'APPLICATION_PROFILE_TYPE_HTTP');
  if (t === 'APPLICATION_PROFILE_TYPE_DNS') return 'DNS';
  if (t === 'APPLICATION_PROFILE_TYPE_HTTP') return 'HTTP';
  return 'L4';
}

/** The pool (or pool group) for an L4 port: the first matching l4policyset rule, service_pool_select, else the VS default. */
export function l4Target(index: SnapshotIndex, vs: Record<string, any>, port: number, udp: boolean): ListenerPlan['target'] {
  const proto = udp ? 'PROTOCOL_UDP' : 'PROTOCOL_TCP';
  const policies = [...((vs.l4_policies ?? []) as any[])].sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
  for (const ref of policies) {
    const set = lookup(index, 'l4policyset', ref?.l4_policy_set_ref);
    const rules = [...((set?.l4_connection_policy?.rules ?? []) as any[])].sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
    for (const rule of rules) {
      if (rule?.enable === false) continue;
      const m = rule.match ?? {};
      if (m.port) {
        const inList = ((m.port.ports ?? []) as number[]).includes(port) || ((m.port.ranges ?? []) as any[]).some((r) => port >= r.start && port <= r.end);
        if (inList === (m.port.match_criteria === 'IS_NOT_IN')) continue;
      }
      if (m.protocol?.protocol) {
        const same = m.protocol.protocol === proto;
        if (same === (m.protocol.match_criteria === 'IS_NOT_IN')) continue;
      }
      const sel = rule.action?.select_pool;
      if (sel?.pool_ref) return { type: 'pool', uuid: sel.pool_ref };
      if (sel?.pool_group_ref) return { type: 'poolgroup', uuid: sel.pool_group_ref };
    }
  }
  for (const s of (vs.service_pool_select ?? []) as any[]) {
    const end = s.service_port_range_end || s.service_port;
    if (port < s.service_port || port > end) continue;
    if (s.service_protocol && s.service_protocol !== (udp ? 'PROTOCOL_TYPE_UDP_FAST_PATH' : 'PROTOCOL_TYPE_TCP_PROXY') && !String(s.service_protocol).includes(udp ? 'UDP' : 'TCP')) continue;
    if (s.service_pool_ref) return { type: 'pool', uuid: s.service_pool_ref };
    if (s.service_pool_group_ref) return { type: 'poolgroup', uuid: s.service_pool_group_ref };
  }
  if (typeof vs.pool_ref === 'string') return { type: 'pool', uuid: vs.pool_ref };
  if (typeof vs.pool_group_ref === 'string') return { type: 'poolgroup', uuid: vs.pool_group_ref };
  return undefined;
}

/** Resolves a target to a pool at connection time, so pool reconfiguration needs no route change. */
export function targetResolver(pools: PoolRegistry, target: ListenerPlan['target']): () => PoolRuntime | undefined {
  if (!target) return () => undefined;
  const { uuid } = target;
  if (target.type === 'pool') return () => pools.pool(uuid);
  const ctx = { clientIp: '', clientPort: 0 };
  return () => pools.poolGroup(uuid)?.pickPool(ctx);
}

/** Whether an object is the same in two snapshots: by `_last_modified` when both have it, else by content. */
export function sameObject(a: Record<string, any> | undefined, b: Record<string, any>): boolean {
  if (!a) return false;
  if (typeof a._last_modified === 'string' && typeof b._last_modified === 'string') return a._last_modified === b._last_modified;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** UUIDs of objects that are new, changed or gone between two snapshots. */
export function changedObjects(prev: SnapshotIndex, next: SnapshotIndex): Set<string> {
  const out = new Set<string>();
  for (const [type, objs] of next) {
    const old = prev.get(type);
    for (const [uuid, o] of objs) if (!sameObject(old?.get(uuid), o)) out.add(uuid);
  }
  for (const [type, objs] of prev) {
    const now = next.get(type);
    for (const uuid of objs.keys()) if (!now?.has(uuid)) out.add(uuid);
  }
  return out;
}

/**
 * Plans every enabled, non-child VS of the snapshot. A VS none of whose objects (itself, what it
 * refers to, transitively, and its VH children) changed keeps its previous plan as it is, so an
 * apply costs in proportion to what changed.
 */
export function planVirtualServices(
  index: SnapshotIndex,
  pools: PoolRegistry,
  previous: ReadonlyMap<string, VsPlan>,
  changed: ReadonlySet<string>,
  dnsChanged: boolean,
): { plans: VsPlan[]; errors: Map<string, string>; replanned: Set<string> } {
  const plans: VsPlan[] = [];
  const errors = new Map<string, string>();
  const replanned = new Set<string>();
  const vses = index.get('virtualservice') ?? new Map();
  const children = new Map<string, Record<string, any>[]>();
  for (const vs of vses.values()) {
    if (vs.type === 'VS_TYPE_VH_CHILD' && typeof vs.vh_parent_vs_ref === 'string') {
      const list = children.get(vs.vh_parent_vs_ref) ?? [];
      list.push(vs);
      children.set(vs.vh_parent_vs_ref, list);
      // A new or changed child is a change of its parent.
      if (changed.has(vs.uuid)) replanned.add(vs.vh_parent_vs_ref);
    }
  }
  for (const vs of vses.values()) {
    if (vs.enabled === false || vs.type === 'VS_TYPE_VH_CHILD') continue;
    const prev = previous.get(vs.uuid);
    if (prev && !replanned.has(vs.uuid) && !(dnsChanged && prev.app === 'DNS') && !prev.closure.some((u) => changed.has(u))) {
      plans.push(prev);
      if (prev.error) errors.set(vs.uuid, prev.error);
      continue;
    }
    replanned.add(vs.uuid);
    const seen = new Set<string>();
    const closure = refClosure(index, vs, seen);
    for (const child of children.get(vs.uuid) ?? []) closure.push(...refClosure(index, child, seen));
    const app = appKind(lookup(index, 'applicationprofile', vs.application_profile_ref));
    const plan: VsPlan = {
      uuid: vs.uuid, name: String(vs.name ?? vs.uuid), closure: closure.map((o) => o.uuid as string), listeners: [], app,
      removePortsWhenDown: vs.remove_listening_port_on_vs_down === true && app !== 'DNS',
      hasPolicies: app === 'HTTP' && Array.isArray(vs.http_policies) && vs.http_policies.length > 0,
    };
    plans.push(plan);
    const fail = (msg: string) => {
      plan.error = msg;
      errors.set(vs.uuid, msg);
    };
    if (vs.traffic_enabled === false) continue;
    const addresses = vsAddresses(index, vs);
    if (addresses.length === 0) fail('no VIP address');
    const vsNp = lookup(index, 'networkprofile', vs.network_profile_ref);
    const maxConnections = Number(vs.performance_limits?.max_concurrent_connections ?? 0) || 0;
    // Datascripts: AKO's SNI passthrough runs natively; any other makes the VS not served, with the reason.
    const ds = datascriptRoute(index, vs, pools, app === 'L4' && !isUdp(vsNp));
    if (ds && 'error' in ds) { fail(ds.error); continue; }
    for (const svc of (vs.services ?? []) as any[]) {
      const first = Number(svc?.port);
      const last = Number(svc?.port_range_end || first);
      if (!Number.isInteger(first) || first < 1 || first > 65535 || last < first || last > 65535) {
        fail(`services[].port ${svc?.port}: not a valid port`);
        continue;
      }
      const wanted = (last - first + 1) * addresses.length * (app === 'DNS' ? 2 : 1);
      if (plan.listeners.length + wanted > listenerBudget()) {
        fail(`services[].port_range_end ${last}: ${plan.listeners.length + wanted} listening sockets exceed this engine's budget of ${listenerBudget()} (one file descriptor per port; raise the open-files limit, ulimit -n / LimitNOFILE)`);
        continue;
      }
      const np = lookup(index, 'networkprofile', svc.override_network_profile_ref) ?? vsNp;
      const udp = isUdp(np);
      for (const address of addresses) {
        for (let port = first; port <= last; port++) {
          if (app === 'DNS') {
            // The DNS VS answers on UDP and TCP whatever the service's protocol (AKO-style VSes list port 53 twice).
            if (plan.listeners.some((l) => l.address === address && l.port === port)) continue;
            plan.listeners.push({ key: `udp|${address}|${port}`, kind: 'dns-udp', address, port, vsUuid: vs.uuid, tls: false });
            plan.listeners.push({ key: `tcp|${address}|${port}`, kind: 'dns-tcp', address, port, vsUuid: vs.uuid, tls: false });
          } else if (app === 'L4') {
            const target = l4Target(index, vs, port, udp);
            const route: L4Route = { vsUuid: vs.uuid, pool: targetResolver(pools, target), idleTimeoutMs: idleTimeoutMs(np), maxConnections };
            if (ds) route.sni = ds.sni;
            plan.listeners.push({ key: `${udp ? 'udp' : 'tcp'}|${address}|${port}`, kind: udp ? 'udp' : 'tcp', address, port, vsUuid: vs.uuid, tls: false, route, target });
          } else {
            const target = typeof vs.pool_ref === 'string' ? { type: 'pool' as const, uuid: vs.pool_ref } : typeof vs.pool_group_ref === 'string' ? { type: 'poolgroup' as const, uuid: vs.pool_group_ref } : undefined;
            plan.listeners.push({ key: `tcp|${address}|${port}`, kind: 'l7', address, port, vsUuid: vs.uuid, tls: !!svc.enable_ssl, target });
          }
        }
      }
    }
  }
  return { plans, errors, replanned };
}
