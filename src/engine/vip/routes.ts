// Static routes of the engine's VRF contexts (the snapshot's `vrfcontexts`: AKO puts one route
// per node Pod CIDR → node IP there), installed on the host in L2 mode so pool members on pod
// networks are reachable. Every route is added with its own routing protocol number (`proto
// 197`), so the engine only ever lists and removes routes it added: at start (what a killed run
// left), when a route leaves the snapshot, and when the engine stops. Loopback mode ignores them.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import type { VipMode } from './manager.js';
import { ipBatch } from './lease.js';

const run = promisify(execFile);

/** The `proto` of Portico's routes (unassigned in /etc/iproute2/rt_protos). */
export const ROUTE_PROTO = '197';

export interface RouteLog { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }
export interface VrfContextRoutes { uuid?: string; name?: string; static_routes?: unknown }

/** `prefix` (`10.244.1.0/24`) → `via` (next hop). */
export type RouteTable = Map<string, string>;

/** The routes a snapshot's VRF contexts ask for; malformed ones are named in `problems`. First VRF wins a prefix. */
export function routesOf(vrfs: readonly VrfContextRoutes[] | undefined): { routes: RouteTable; problems: string[] } {
  const routes: RouteTable = new Map();
  const problems: string[] = [];
  for (const vrf of vrfs ?? []) {
    const list = Array.isArray(vrf.static_routes) ? vrf.static_routes : [];
    list.forEach((r: any, i) => {
      const where = `vrfcontext ${vrf.name ?? vrf.uuid} static_routes[${i}]${typeof r?.route_id === 'string' ? ` (${r.route_id})` : ''}`;
      const addr = r?.prefix?.ip_addr?.addr;
      const mask = r?.prefix?.mask;
      const via = r?.next_hop?.addr;
      const family = net.isIP(addr);
      if (!family || !Number.isInteger(mask) || mask < 0 || mask > (family === 4 ? 32 : 128)) return void problems.push(`${where}: prefix is not an address/mask`);
      if (net.isIP(via) !== family) return void problems.push(`${where}: next_hop is not an IPv${family} address`);
      const prefix = `${family === 4 ? v4Network(addr, mask) : addr}/${mask}`;
      const other = routes.get(prefix);
      if (other !== undefined) { if (other !== via) problems.push(`${where}: ${prefix} is already routed via ${other}`); return; }
      routes.set(prefix, via);
    });
  }
  return { routes, problems };
}

/** `10.244.1.7`, 24 → `10.244.1.0` (the kernel refuses a prefix with host bits set). */
function v4Network(addr: string, mask: number): string {
  const n = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const net = mask === 0 ? 0 : (n - (n % 2 ** (32 - mask)));
  return [24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.');
}

export class StaticRouteManager {
  /** What this run installed (prefix → via). */
  private readonly installed: RouteTable = new Map();
  private cleanedLeftovers = false;
  private warnedLoopback = false;
  private reported = '';
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly mode: VipMode, private readonly log: RouteLog) {}

  /** Makes the host's routes those of `vrfs` (serialized with other calls). */
  apply(vrfs: readonly VrfContextRoutes[] | undefined): Promise<void> {
    const done = this.chain.then(() => this.applyNow(vrfs));
    this.chain = done.catch(() => {});
    return done;
  }

  /** Removes every route this engine added (stop). */
  removeAll(): Promise<void> {
    return this.apply([]);
  }

  routes(): RouteTable {
    return new Map(this.installed);
  }

  private async applyNow(vrfs: readonly VrfContextRoutes[] | undefined): Promise<void> {
    const { routes, problems } = routesOf(vrfs);
    const text = problems.join('; ');
    if (text && text !== this.reported) this.log.warn({ problems }, 'static routes skipped');
    this.reported = text;
    if (this.mode !== 'l2') {
      if (routes.size && !this.warnedLoopback) this.log.info({ routes: routes.size }, 'static routes of the VRF ignored in loopback mode (--vip-mode l2 installs them)');
      this.warnedLoopback ||= routes.size > 0;
      return;
    }
    if (!this.cleanedLeftovers) {
      this.cleanedLeftovers = true;
      for (const [prefix, via] of await listOurs()) if (!this.installed.has(prefix)) this.installed.set(prefix, via);
    }
    // One `ip -force -batch` for every change (1,000 routes: one process, not 1,000).
    const ops: Array<{ line: string; prefix: string; via: string; add: boolean }> = [];
    for (const [prefix, via] of this.installed) if (routes.get(prefix) !== via) ops.push({ line: `route del ${prefix} proto ${ROUTE_PROTO}`, prefix, via, add: false });
    for (const [prefix, via] of routes) if (this.installed.get(prefix) !== via) ops.push({ line: `route replace ${prefix} via ${via} proto ${ROUTE_PROTO}`, prefix, via, add: true });
    if (!ops.length) return;
    const failed = await batch(ops.map((o) => o.line));
    ops.forEach((o, i) => {
      const err = failed.get(i);
      // A route already gone counts as removed.
      if (err !== undefined && !(!o.add && ALREADY_GONE.test(err))) {
        this.log.warn({ prefix: o.prefix, via: o.via, err }, `ip route ${o.add ? 'replace' : 'del'} failed (tried again at the next snapshot)`);
        return;
      }
      if (o.add) this.installed.set(o.prefix, o.via);
      else if (this.installed.get(o.prefix) === o.via) this.installed.delete(o.prefix);
      this.log.info({ prefix: o.prefix, via: o.via }, o.add ? 'static route installed' : 'static route removed');
    });
  }
}

const ALREADY_GONE = /No such process|not found/i;

/** Runs `lines` through `ip -force -batch -`; the failed ones by index (0-based) with ip's message. */
async function batch(lines: string[]): Promise<Map<number, string>> {
  const failed = new Map<number, string>();
  try {
    await ipBatch(lines);
  } catch (err) {
    // ip prints each failure's message, then `Command failed -:<line>`.
    let message: string[] = [];
    for (const l of (err as Error).message.split('\n')) {
      const m = /^Command failed -:(\d+)/.exec(l.trim());
      if (m) { failed.set(Number(m[1]) - 1, message.join(' ').trim()); message = []; } else message.push(l);
    }
    // No line named (ip itself missing, killed): every line counts as failed.
    if (failed.size === 0) lines.forEach((_, i) => failed.set(i, (err as Error).message));
  }
  return failed;
}

/** Routes with Portico's proto on the host (both families), as `ip -j` lists them. */
async function listOurs(): Promise<RouteTable> {
  const out: RouteTable = new Map();
  for (const family of ['-4', '-6']) {
    try {
      const { stdout } = await run('ip', ['-j', family, 'route', 'show', 'proto', ROUTE_PROTO]);
      for (const r of JSON.parse(stdout || '[]') as Array<{ dst?: string; gateway?: string }>) {
        if (!r.dst || !r.gateway) continue;
        out.set(r.dst.includes('/') ? r.dst : `${r.dst}/${family === '-4' ? 32 : 128}`, r.gateway);
      }
    } catch {
      // No `ip -j` (old iproute2) or no IPv6: nothing to clean up there.
    }
  }
  return out;
}
