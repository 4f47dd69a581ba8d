// Static routes of the engine's VRF contexts (the snapshot's `vrfcontexts`: AKO puts one route
// per node Pod CIDR → node IP there), installed on the host in L2 mode so pool members on pod
// networks are reachable. Every route is added with its own routing protocol number (`proto
// 197`), so the engine only ever lists and removes routes it added: at start (what a killed run
// left), when a route leaves the snapshot, and when the engine stops. Loopback mode ignores them.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import type { VipMode } from './manager.js';

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
    for (const [prefix, via] of [...this.installed]) {
      if (routes.get(prefix) === via) continue;
      if (await this.ip(['route', 'del', prefix, 'proto', ROUTE_PROTO], prefix, via, 'static route removed')) this.installed.delete(prefix);
    }
    for (const [prefix, via] of routes) {
      if (this.installed.get(prefix) === via) continue;
      if (await this.ip(['route', 'replace', prefix, 'via', via, 'proto', ROUTE_PROTO], prefix, via, 'static route installed')) this.installed.set(prefix, via);
    }
  }

  /** One `ip` call; a route already gone counts as removed. Failures are logged and tried again at the next apply. */
  private async ip(args: string[], prefix: string, via: string, done: string): Promise<boolean> {
    const family = net.isIPv6(via) ? '-6' : '-4';
    try {
      await run('ip', [family, ...args]);
      this.log.info({ prefix, via }, done);
      return true;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
      if (args[1] === 'del' && /No such process|not found/i.test(stderr)) return true;
      this.log.warn({ prefix, via, err: stderr || (err as Error).message }, `ip route ${args[1]} failed`);
      return false;
    }
  }
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
