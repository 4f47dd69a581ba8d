// What a connection handler sees of its listener: the current routes (swapped by update()),
// the shared upstream pool, and the listener's bookkeeping.
import type { L7Context, L7ListenerSpec } from '../contracts.js';
import type { ListenerRoutes } from './routing.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface SlowHead {
  headStartedAt: number;
  headTimedOut(): void;
}

export interface ListenerState {
  readonly spec: L7ListenerSpec;
  readonly ctx: L7Context;
  /** Replaced as a whole on update(); read per request. */
  readonly routes: ListenerRoutes;
  readonly upstreams: UpstreamPool;
  /** close() was called: finish in-flight requests, keep no connection alive. */
  readonly draining: boolean;
  /** Connections with a request head still arriving (checked for the header timeout). */
  readonly slowHeads: Set<SlowHead>;
  connectionClosed(conn: object): void;
}
