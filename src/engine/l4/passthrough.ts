// AKO's passthrough Ingress on the data plane. AKO gives the shared L4 VS
// `<cluster>--Shared-Passthrough-N` a vsdatascriptset whose Lua reads the TLS ClientHello's SNI and
// calls `avi.poolgroup.select("<cluster>--" .. sni)`. This engine runs no Lua: it recognises that
// one script shape and does the same natively (peek the ClientHello, pick the pool group named
// prefix+SNI among the set's pool_group_refs, proxy the raw bytes, TLS never terminated). Any other
// datascript makes the VS not served, with a reason in its state: never silently ignored.
import type net from 'node:net';
import type { PoolRegistry, PoolRuntime, SnapshotIndex } from '../contracts.js';
import { lookup } from '../snapshot.js';
import { MAX_HELLO_BYTES, readClientHello } from './sni-peek.js';

/** How an SNI passthrough listener routes: pool groups by name (`prefix + sni`). */
export interface SniRoute {
  prefix: string;
  /** Pool group UUID by name, among the datascript set's pool_group_refs. */
  groups: ReadonlyMap<string, string>;
  pools: PoolRegistry;
  /** A client that has not sent its whole ClientHello by then is closed. */
  peekTimeoutMs: number;
}

export const PEEK_TIMEOUT_MS = 10_000;

/**
 * AKO's script for a pool group name prefix (`<cluster>--`). The operator writes it and the engine
 * recognises it (whitespace aside), so both take it from here.
 */
export function akoPassthroughScript(prefix: string): string {
  return AKO_SCRIPT.replace('CLUSTER--', () => prefix);
}

const AKO_SCRIPT = `local avi_tls = require "Default-TLS"
buffered = avi.l4.collect(20)
payload = avi.l4.read()
len = avi_tls.get_req_buffer_size(payload)
if ( buffered < len ) then
  avi.l4.collect(len)
end
if ( avi_tls.sanity_check(payload) ) then
  local h = avi_tls.parse_record(payload)
  local sname = avi_tls.get_sni(h)
  if sname == nil then
    avi.vs.log('SNI not present')
    avi.vs.close_conn()
  else
    avi.vs.log("SNI=".. sname)
    pg_name = "CLUSTER--"..sname
    avi.poolgroup.select(pg_name)
  end
else
  avi.vs.close_conn()
end
avi.l4.ds_done()
avi_tls = nil`;

const SPACES = /\s+/g;
const AROUND_PUNCT = / ?(\.\.|[()=<,]) ?/g;
const PREFIX_LITERAL = /pg_name=(?:"([^"\\]*)"|'([^'\\]*)')\.\.sname/;
const PLACEHOLDER = 'pg_name=@PREFIX@..sname';

/** Whitespace-insensitive form of a script, the pool group prefix literal replaced by a placeholder. */
function shapeOf(script: string): { shape: string; prefix?: string } {
  const flat = script.replace(SPACES, ' ').replace(AROUND_PUNCT, '$1').trim();
  const m = PREFIX_LITERAL.exec(flat);
  if (!m) return { shape: flat };
  return { shape: flat.replace(m[0], PLACEHOLDER), prefix: m[1] ?? m[2] ?? '' };
}

const AKO_SHAPE = shapeOf(AKO_SCRIPT).shape;

/** The pool group prefix when `script` is AKO's SNI passthrough script, else undefined. */
export function passthroughPrefix(script: unknown): string | undefined {
  if (typeof script !== 'string') return undefined;
  const { shape, prefix } = shapeOf(script);
  return shape === AKO_SHAPE ? prefix : undefined;
}

const UNSUPPORTED = 'this engine runs no Lua; it recognises only AKO\'s TLS SNI passthrough script (avi.poolgroup.select(prefix .. sni), evt VS_DATASCRIPT_EVT_L4_REQUEST) on an L4 TCP virtual service';

/**
 * What a VS's datascripts mean here: undefined (none), an SNI route, or why the VS cannot be
 * served. `l4Tcp`: the VS has an L4 application profile and a TCP network profile.
 */
export function datascriptRoute(index: SnapshotIndex, vs: Record<string, any>, pools: PoolRegistry, l4Tcp: boolean): { sni: SniRoute } | { error: string } | undefined {
  const refs = Array.isArray(vs.vs_datascripts) ? (vs.vs_datascripts as any[]) : [];
  if (refs.length === 0) return undefined;
  const sets = refs.map((r) => lookup(index, 'vsdatascriptset', r?.vs_datascript_set_ref));
  const missing = sets.findIndex((s) => !s);
  if (missing >= 0) return { error: `vs_datascripts[${missing}]: vsdatascriptset ${refs[missing]?.vs_datascript_set_ref} is not in the snapshot` };
  const set = sets[0]!;
  const scripts = (Array.isArray(set.datascript) ? set.datascript : []) as any[];
  const name = String(set.name ?? set.uuid);
  const prefix = scripts.length === 1 && scripts[0]?.evt === 'VS_DATASCRIPT_EVT_L4_REQUEST' ? passthroughPrefix(scripts[0]?.script) : undefined;
  if (sets.length !== 1 || prefix === undefined) {
    const what = sets.length !== 1 ? `${sets.length} datascript sets` : `vsdatascriptset ${name} (${scripts.map((s) => s?.evt).join(', ') || 'no datascript'})`;
    return { error: `${what}: not supported: ${UNSUPPORTED}; the virtual service is not served` };
  }
  if (!l4Tcp) return { error: `vsdatascriptset ${name}: the SNI passthrough script needs an L4 application profile and a TCP network profile; the virtual service is not served` };
  const groups = new Map<string, string>();
  for (const ref of (set.pool_group_refs ?? []) as unknown[]) {
    const pg = lookup(index, 'poolgroup', ref);
    if (pg && typeof pg.name === 'string') groups.set(pg.name, pg.uuid);
  }
  return { sni: { prefix, groups, pools, peekTimeoutMs: PEEK_TIMEOUT_MS } };
}

const NO_POOLS: PoolRegistry = { pool: () => undefined, poolGroup: () => undefined };

/** Why a VH child with datascripts is not served (children are HTTP: no datascript can run there); undefined without any. */
export function childDatascriptError(index: SnapshotIndex, vs: Record<string, any>): string | undefined {
  const ds = datascriptRoute(index, vs, NO_POOLS, false);
  return ds && 'error' in ds ? ds.error : undefined;
}

const NO_CLIENT = { clientIp: '', clientPort: 0 };

/** The pool to send to in the pool group an SNI selected. */
export function sniPool(route: SniRoute, poolGroup: string): PoolRuntime | undefined {
  return route.pools.poolGroup(poolGroup)?.pickPool(NO_CLIENT);
}

/**
 * Reads the client's ClientHello (the client must be paused, as listeners accept), then either
 * tells `routed` the UUID of the selected pool group, the peeked bytes put back in front of the
 * stream, or closes the client: no SNI, not TLS, too large, too slow, no such group.
 */
export function peekSni(client: net.Socket, route: SniRoute, routed: (poolGroup: string) => void): void {
  new SniPeek(client, route, routed).start();
}

class SniPeek {
  private buf: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly client: net.Socket, private readonly route: SniRoute, private readonly routed: (poolGroup: string) => void) {}

  start(): void {
    this.client.on('data', this.onData);
    this.client.once('end', this.reject);
    this.client.once('close', this.stop);
    this.timer = setTimeout(this.reject, this.route.peekTimeoutMs);
    this.client.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const r = readClientHello(this.buf);
    if (r.kind === 'more' && this.buf.length < MAX_HELLO_BYTES) return;
    if (r.kind !== 'sni') return this.reject();
    const uuid = this.route.groups.get(this.route.prefix + r.name);
    if (!uuid) return this.reject();
    this.stop();
    this.client.pause();
    // The peeked bytes go first to the server, with the rest of the stream.
    this.client.unshift(this.buf);
    this.routed(uuid);
  };

  private readonly stop = (): void => {
    clearTimeout(this.timer);
    this.client.off('data', this.onData);
    this.client.off('end', this.reject);
    this.client.off('close', this.stop);
  };

  private readonly reject = (): void => {
    this.stop();
    this.client.destroy();
  };
}
