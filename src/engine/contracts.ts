// Seams inside the service engine: the runtime (snapshot → listeners, pools, monitors) and the
// L7 proxy (src/engine/l7) meet here, so each can change without the other.
import type { Registry } from 'prom-client';

/** Objects of an applied snapshot, by type then UUID (refs inside are bare UUIDs). */
export type SnapshotIndex = ReadonlyMap<string, ReadonlyMap<string, Record<string, any>>>;

/** One backend server as the load balancer sees it. */
export interface Upstream {
  readonly ip: string;
  readonly port: number;
  /** `ip:port`, stable across snapshots. */
  readonly key: string;
}

/** What a pick may depend on (consistent hash, persistence). */
export interface PickContext {
  clientIp: string;
  clientPort: number;
  /** L7 only. */
  uri?: string;
  /** L7 only: a request header by lower-case name. */
  header?: (name: string) => string | undefined;
  /** L7 only: the value of the pool's persistence cookie when the client sent one. */
  persistenceCookie?: string;
}

/** A pool's live state: servers, health, algorithm, persistence. Owned by the runtime. */
export interface PoolRuntime {
  readonly uuid: string;
  readonly name: string;
  /** A healthy, enabled server, or undefined when there is none. Counts a connection/request on it. */
  pick(ctx: PickContext): Upstream | undefined;
  /** The connection/request picked on `u` ended. */
  done(u: Upstream): void;
  /** HTTP cookie persistence: the cookie name, when the pool uses it. */
  readonly persistenceCookieName?: string;
  /** The cookie value that pins a client to `u`. */
  persistenceCookieValue?(u: Upstream): string;
}

export interface PoolGroupRuntime {
  readonly uuid: string;
  /** A member pool by weighted choice (ratio), highest priority first; undefined when no member has a healthy server. */
  pickPool(ctx: PickContext): PoolRuntime | undefined;
}

export interface PoolRegistry {
  pool(uuid: string): PoolRuntime | undefined;
  poolGroup(uuid: string): PoolGroupRuntime | undefined;
}

/** Per-VS counters the runtime exports to Prometheus and the heartbeat. */
export interface VsMetrics {
  connectionOpened(vsUuid: string): void;
  connectionClosed(vsUuid: string): void;
  /** One HTTP response (or L4 session) finished. */
  request(vsUuid: string, status: number, latencyMs: number, bytesIn: number, bytesOut: number, poolUuid?: string, serverKey?: string): void;
  /** One finished L7 request, right after its request(), for the request-log sample the heartbeat carries (optional: L4 has none). */
  sample?(vsUuid: string, status: number, latencyMs: number, client: string, method: string, uri: string, server: string): void;
  readonly registry: Registry;
}

/** A listening socket of an L7 virtual service: VIP:port, plain or TLS. */
export interface L7ListenerSpec {
  address: string;
  port: number;
  /** `services[].enable_ssl` */
  tls: boolean;
  /** The normal or VH-parent VS that owns the VIP:port. */
  vsUuid: string;
}

export interface L7Context {
  pools: PoolRegistry;
  metrics: VsMetrics;
  /** Resolved at snapshot apply: PEM certificate and key by sslkeyandcertificate UUID. */
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
}

export interface L7Listener {
  /** Starts listening. Rejects when the address cannot be bound. */
  listen(): Promise<void>;
  /** A new snapshot: routing, certificates, policies change in place; open connections stay. */
  update(index: SnapshotIndex): void;
  /** Stops accepting at once; open connections drain (finish their in-flight request) then close. */
  close(): Promise<void>;
}

export type CreateL7Listener = (spec: L7ListenerSpec, index: SnapshotIndex, ctx: L7Context) => L7Listener;
