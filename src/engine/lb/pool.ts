// A pool's live state: servers with health and open connection counts, the load-balancing
// algorithm and persistence. Reconfigured in place by a new snapshot, so server state (health,
// open connections, persistence) survives unrelated changes.
import type { PickContext, PoolRuntime, Upstream } from '../contracts.js';
import { fnv1a, rendezvousScore } from './hash.js';
import { ClientIpTable, cookieValueFor, type PersistenceConfig } from './persistence.js';

export type Algorithm = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'CONSISTENT_HASH' | 'RANDOM';
export type HashKey = 'SOURCE_IP' | 'SOURCE_IP_AND_PORT' | 'URI' | 'CUSTOM_HEADER';

export class ServerState implements Upstream {
  enabled = true;
  ratio = 1;
  /** Health: true until a monitor says otherwise (a pool without monitors is always up). */
  up = true;
  reason: string | undefined;
  conns = 0;
  /** Smooth weighted round robin state. */
  current = 0;
  readonly hash: number;
  readonly key: string;
  constructor(readonly ip: string, readonly port: number) {
    this.key = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    this.hash = fnv1a(this.key);
  }
  get eligible(): boolean {
    return this.enabled && this.up;
  }
}

export interface PoolConfig {
  algorithm: Algorithm;
  hashKey: HashKey;
  hashHeader: string;
  servers: { ip: string; port: number; enabled: boolean; ratio: number }[];
  persistence?: PersistenceConfig;
}

const ALGORITHMS: Record<string, Algorithm> = {
  LB_ALGORITHM_ROUND_ROBIN: 'ROUND_ROBIN',
  LB_ALGORITHM_LEAST_CONNECTIONS: 'LEAST_CONNECTIONS',
  LB_ALGORITHM_CONSISTENT_HASH: 'CONSISTENT_HASH',
  LB_ALGORITHM_RANDOM: 'RANDOM',
};
const HASH_KEYS: Record<string, HashKey> = {
  LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS: 'SOURCE_IP',
  LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT: 'SOURCE_IP_AND_PORT',
  LB_ALGORITHM_CONSISTENT_HASH_URI: 'URI',
  LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER: 'CUSTOM_HEADER',
};

/** Reads a stored pool object. Unknown algorithms fall back to least connections (the default). */
export function poolConfigFrom(pool: Record<string, any>, persistence?: PersistenceConfig): PoolConfig {
  const defaultPort = Number(pool.default_server_port ?? 80);
  const servers: PoolConfig['servers'] = [];
  for (const s of (pool.servers ?? []) as any[]) {
    const ip = typeof s?.ip === 'string' ? s.ip : s?.ip?.addr;
    if (typeof ip !== 'string' || !ip) continue;
    servers.push({ ip, port: Number(s.port ?? defaultPort), enabled: s.enabled !== false, ratio: Math.max(1, Number(s.ratio ?? 1)) });
  }
  return {
    algorithm: ALGORITHMS[pool.lb_algorithm] ?? 'LEAST_CONNECTIONS',
    hashKey: HASH_KEYS[pool.lb_algorithm_hash] ?? 'SOURCE_IP',
    hashHeader: String(pool.lb_algorithm_consistent_hash_hdr ?? '').toLowerCase(),
    servers,
    persistence,
  };
}

export class Pool implements PoolRuntime {
  servers: ServerState[] = [];
  private byKey = new Map<string, ServerState>();
  private byCookie = new Map<string, ServerState>();
  private config!: PoolConfig;
  private rr = 0;
  private ipTable: ClientIpTable | undefined;
  persistenceCookieName: string | undefined;
  /** Connections refused because no server was eligible. */
  noServer = 0;

  constructor(readonly uuid: string, public name: string, config: PoolConfig) {
    this.configure(config);
  }

  /** Applies a new config; servers that stay keep their health, counters and persistence entries. */
  configure(config: PoolConfig): void {
    this.config = config;
    const next: ServerState[] = [];
    const nextByKey = new Map<string, ServerState>();
    for (const s of config.servers) {
      const probe = new ServerState(s.ip, s.port);
      if (nextByKey.has(probe.key)) continue;
      const st = this.byKey.get(probe.key) ?? probe;
      st.enabled = s.enabled;
      st.ratio = s.ratio;
      next.push(st);
      nextByKey.set(st.key, st);
    }
    this.servers = next;
    this.byKey = nextByKey;
    const p = config.persistence;
    if (p?.type === 'CLIENT_IP') {
      if (this.ipTable) this.ipTable.timeoutMs = p.timeoutMs;
      else this.ipTable = new ClientIpTable(p.timeoutMs);
    } else this.ipTable = undefined;
    this.persistenceCookieName = p?.type === 'HTTP_COOKIE' ? p.cookieName : undefined;
    this.byCookie = new Map();
    if (this.persistenceCookieName) for (const s of next) this.byCookie.set(cookieValueFor(this.uuid, s.key), s);
  }

  server(key: string): ServerState | undefined {
    return this.byKey.get(key);
  }

  hasEligible(): boolean {
    for (const s of this.servers) if (s.eligible) return true;
    return false;
  }

  pick(ctx: PickContext): Upstream | undefined {
    let chosen: ServerState | undefined;
    if (this.persistenceCookieName && ctx.persistenceCookie) {
      const s = this.byCookie.get(ctx.persistenceCookie);
      if (s?.eligible) chosen = s;
    } else if (this.ipTable) {
      const key = this.ipTable.get(ctx.clientIp, Date.now());
      const s = key === undefined ? undefined : this.byKey.get(key);
      if (s?.eligible) chosen = s;
    }
    if (!chosen) {
      chosen = this.choose(ctx);
      if (!chosen) {
        this.noServer++;
        return undefined;
      }
      if (this.ipTable) this.ipTable.set(ctx.clientIp, chosen.key, Date.now());
    }
    chosen.conns++;
    return chosen;
  }

  done(u: Upstream): void {
    const s = u as ServerState;
    if (s.conns > 0) s.conns--;
  }

  persistenceCookieValue(u: Upstream): string {
    return cookieValueFor(this.uuid, u.key);
  }

  private choose(ctx: PickContext): ServerState | undefined {
    switch (this.config.algorithm) {
      case 'ROUND_ROBIN':
        return this.weightedRoundRobin();
      case 'CONSISTENT_HASH':
        return this.consistentHash(ctx);
      case 'RANDOM':
        return this.weightedRandom();
      default:
        return this.leastConnections();
    }
  }

  /** Smooth weighted round robin (as nginx): with equal ratios, plain round robin. */
  private weightedRoundRobin(): ServerState | undefined {
    let total = 0;
    let best: ServerState | undefined;
    for (const s of this.servers) {
      if (!s.eligible) continue;
      s.current += s.ratio;
      total += s.ratio;
      if (!best || s.current > best.current) best = s;
    }
    if (best) best.current -= total;
    return best;
  }

  /** Fewest open connections per unit of ratio; ties go round robin so sequential requests spread. */
  private leastConnections(): ServerState | undefined {
    const list = this.servers;
    const n = list.length;
    let best: ServerState | undefined;
    let bestLoad = Infinity;
    let bestAt = 0;
    const start = this.rr % (n || 1);
    for (let i = 0; i < n; i++) {
      const at = (start + i) % n;
      const s = list[at];
      if (!s.eligible) continue;
      const load = s.conns / s.ratio;
      if (load < bestLoad) {
        best = s;
        bestLoad = load;
        bestAt = at;
      }
    }
    if (best) this.rr = bestAt + 1;
    return best;
  }

  private weightedRandom(): ServerState | undefined {
    let total = 0;
    for (const s of this.servers) if (s.eligible) total += s.ratio;
    if (total === 0) return undefined;
    let r = Math.random() * total;
    for (const s of this.servers) {
      if (!s.eligible) continue;
      r -= s.ratio;
      if (r < 0) return s;
    }
    return undefined;
  }

  private consistentHash(ctx: PickContext): ServerState | undefined {
    let key: string;
    switch (this.config.hashKey) {
      case 'SOURCE_IP_AND_PORT':
        key = `${ctx.clientIp}:${ctx.clientPort}`;
        break;
      case 'URI':
        key = ctx.uri ?? ctx.clientIp;
        break;
      case 'CUSTOM_HEADER':
        key = (this.config.hashHeader && ctx.header?.(this.config.hashHeader)) || ctx.clientIp;
        break;
      default:
        key = ctx.clientIp;
    }
    const kh = fnv1a(key);
    let best: ServerState | undefined;
    let bestScore = -Infinity;
    for (const s of this.servers) {
      if (!s.eligible) continue;
      const score = rendezvousScore(kh, s.hash, s.ratio);
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }
}
