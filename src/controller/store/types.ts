// The controller's storage seam. The API code talks to this interface only, so the embedded
// SQLite store can be swapped for an etcd one (replicated controllers) without touching it.
// Everything is async for that reason, even though SQLite answers synchronously.
import type { StoredObject } from '../engines/host.js';

export interface ObjectRecord {
  type: string;
  uuid: string;
  /** Tenant UUID (`admin` for the admin tenant). */
  tenant: string;
  name: string;
  /** Cloud UUID for cloud-scoped types, '' otherwise. */
  cloud: string;
  body: StoredObject;
}

/** An object without its body: what ref resolution and name checks need (no JSON parse of the body). */
export type RecordHead = Omit<ObjectRecord, 'body'>;

export interface ListQuery {
  tenants: string[];
  name?: string;
  nameContains?: string;
  nameIn?: string[];
  cloud?: string;
  createdBy?: string;
  /** Only with no other filtering after the store: paging pushed down. */
  offset?: number;
  limit?: number;
  descending?: boolean;
  orderByName?: boolean;
}

export interface Referrer { uuid: string; type: string; name: string }

export interface StoreReader {
  get(uuid: string): Promise<ObjectRecord | undefined>;
  /** `get` without the body. */
  head(uuid: string): Promise<RecordHead | undefined>;
  /** Objects of `type` named `name` in `tenant` (one per cloud for cloud-scoped types, filtered by `cloud` when given). */
  byName(type: string, tenant: string, name: string, cloud?: string): Promise<ObjectRecord[]>;
  /** `byName` without the bodies. */
  headsByName(type: string, tenant: string, name: string, cloud?: string): Promise<RecordHead[]>;
  list(type: string, q: ListQuery): Promise<{ total: number; items: ObjectRecord[] }>;
  /** Every object of a type, all tenants. */
  all(type: string): Promise<ObjectRecord[]>;
  /** How many objects of a type, all tenants. */
  count(type: string): Promise<number>;
  /** Objects whose refs include `uuid`. */
  referrers(uuid: string): Promise<Referrer[]>;
  /** The owner of a claim key (an IP in a VRF, an FQDN), if any. */
  claimOwner(key: string): Promise<string | undefined>;
  /** Claim keys starting with `prefix`. */
  claimsWithPrefix(prefix: string): Promise<Set<string>>;
  /** Names of objects by UUID (for `#name` on refs). */
  names(uuids: Iterable<string>): Promise<Map<string, string>>;
  revision(): Promise<number>;
}

export interface PutRecord extends ObjectRecord {
  /** UUIDs this object refers to; undefined keeps the stored set. */
  refs?: string[];
  /** Claim keys this object owns (unique across the store); undefined keeps the stored set. */
  claims?: string[];
}

export interface StoreTx extends StoreReader {
  put(rec: PutRecord): Promise<void>;
  delete(uuid: string): Promise<void>;
}

export interface Store extends StoreReader {
  /** Runs `fn` in one serializable transaction: all its writes commit together or not at all. */
  transact<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Called after each committed transaction, once per written object. */
  onChange(listener: (type: string, uuid: string) => void): () => void;
  close(): Promise<void>;
}

/** A unique-claim or unique-name violation detected by the store itself (a last line of defence). */
export class StoreConflict extends Error {}
