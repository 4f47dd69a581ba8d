// What the engines module (SE join, config snapshots, heartbeats) needs from the rest of the
// controller. The controller's bootstrap implements it over its store; engines/ codes against
// this interface only, so the store behind it (SQLite or etcd) can change.
import type { FastifyInstance } from 'fastify';

/** A stored object: the model fields, plus `uuid`, `name`, `tenant_ref`, `_last_modified`. Refs are bare UUIDs. */
export type StoredObject = Record<string, unknown> & { uuid: string; name: string };

export interface EngineHost {
  /** Every object of a type, across tenants, refs as bare UUIDs, secrets included (`key`). */
  list(type: string): Promise<StoredObject[]>;
  get(type: string, uuid: string): Promise<StoredObject | undefined>;
  /** Create/update/delete through the same validation and transaction as the REST API (tenant admin unless the body says). */
  create(type: string, body: Record<string, unknown>): Promise<StoredObject>;
  update(type: string, uuid: string, body: Record<string, unknown>): Promise<StoredObject>;
  remove(type: string, uuid: string): Promise<void>;
  /** The store's revision: grows with every committed write. */
  revision(): Promise<number>;
  /** Called after every committed write (also writes by other controller replicas). */
  onChange(listener: (type: string, uuid: string) => void): () => void;
}

/**
 * Registers the SE protocol routes (docs/engine-protocol.md) on the controller's server.
 * The controller's auth hook authenticates every `/api/...` request except `/api/se/...`
 * (left to these routes). For routes elsewhere that need a logged-in user, the server has the
 * decorator `app.requireUser` (a preHandler: 401/403 `{error}` unless the request carries a
 * session or basic credentials). `app.engineRegistry`, when these routes set it, feeds
 * `GET /api/virtualservice/<uuid>/runtime` and `GET /api/pool/<uuid>/runtime`.
 */
export type RegisterEngineRoutes = (app: FastifyInstance, host: EngineHost) => Promise<void>;
