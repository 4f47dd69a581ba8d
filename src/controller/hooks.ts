// Per-type logic that runs inside the write transaction (IPAM, DNS, VS parents, certificates…).
import type { StoreTx, ObjectRecord } from './store/types.js';
import type { TypeInfo } from '../model/registry.js';

export interface WriteContext {
  tx: StoreTx;
  info: TypeInfo;
  /** The request's tenant (UUID). */
  tenant: string;
  /** The object's cloud UUID ('' when not cloud-scoped). */
  cloud: string;
  uuid: string;
  /** The new body: valid, defaults filled, refs resolved to UUIDs. Hooks may change it. */
  body: Record<string, any>;
  old?: ObjectRecord;
  /** Claim keys the object will own (unique: IPs per VRF, FQDNs). */
  claims: string[];
  /** Extra UUIDs the object depends on. */
  refs: Set<string>;
  /** Work to do in the same transaction once the object is stored (writes to objects that refer to it). */
  afterPut: Array<() => Promise<void>>;
}

export interface TypeHooks {
  /** Outside the transaction, before anything else (slow, pure work: password hashing). */
  prepare?(body: Record<string, any>): Promise<void>;
  /** Ref-valued defaults that depend on the cloud (set as name refs; resolved with the others). */
  defaults?(body: Record<string, any>): void;
  /** Inside the write transaction, after refs are resolved. */
  write?(c: WriteContext): Promise<void>;
  /** Inside the delete transaction, before the object goes. */
  remove?(tx: StoreTx, rec: ObjectRecord): Promise<void>;
}

export const CLAIM_SYSTEM = (uuid: string) => `system/${uuid}`;
