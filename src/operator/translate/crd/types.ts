// CRD handling shared types: the controller objects a CRD names (checked against the controller
// before translation) and the verdict each CRD object gets (status Accepted / Rejected).
import type { ObjectRef } from '../../status/types.js';
import { typeNameKey } from '../types.js';

/** A controller object a CRD names, e.g. `{type: 'sslprofile', name: 'System-Standard', field: 'spec.virtualhost.tls.sslProfile'}`. */
export interface RefNeed {
  type: string;
  name: string;
  field: string;
}

/** What the controller holds of the objects CRDs name: `type/name` → the object (networks keep their subnet), null = missing. */
export type KnownRefs = Map<string, { name?: string; subnet?: { addr: string; mask: number } } | null>;

export function refKey(type: string, name: string): string {
  return typeNameKey(type, name);
}

export interface CrdVerdict {
  ref: ObjectRef;
  status: 'Accepted' | 'Rejected';
  /** Why it was rejected, or (Accepted) what the data plane ignores; '' otherwise. */
  error: string;
}
