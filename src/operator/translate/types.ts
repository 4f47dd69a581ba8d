// What translation produces: controller objects to exist (by type and name) and, per handled
// Kubernetes object, what serves it and what went wrong (for status).
import type { ObjectRef, StatusEvent } from '../status/types.js';
import type { CrdVerdict } from './crd/types.js';

/** Controller object types the operator writes, in create order (children before parents). */
export const WRITE_ORDER = [
  'vsvip', 'sslkeyandcertificate', 'pkiprofile', 'pool', 'poolgroup', 'httppolicyset', 'vsdatascriptset', 'l4policyset', 'virtualservice',
] as const;
export type OwnedType = (typeof WRITE_ORDER)[number];

/** An object's key, `type/name`: the one spelling translation, CRD refs and the sync's held state all use. */
export function typeNameKey(type: string, name: string): string {
  return `${type}/${name}`;
}

export interface DesiredObject {
  type: OwnedType;
  name: string;
  /** The body to POST/PUT (refs as `/api/<type>?name=…`). */
  body: Record<string, unknown>;
  /** The checksum of the body (also in `cloud_config_cksum` where the type has it). */
  cksum: string;
  /** `type/name` of owned objects this one refers to (must exist first). */
  deps: string[];
  /** The controller tenant it lives in when not the configured one (a namespace's `ako.vmware.com/tenant-name`). */
  tenant?: string;
}

/** Where one handled Kubernetes object stands after translation. */
export interface ObjectOutcome {
  ref: ObjectRef;
  /** `host → vsvip name` for Ingresses (hostname in status); `'' → vsvip` for a Service. */
  vips: Array<{ vsvip: string; hostname?: string }>;
  /** Virtual services that serve it. */
  virtualServices: string[];
  /** For the `host-fqdn-vs-uuid-map` annotation: fqdn → VS name. */
  hostVs: Record<string, string>;
  warnings: StatusEvent[];
  /** `TCP/80` … of a Service (for `portico status`). */
  ports?: string[];
  /** The controller tenant of its objects when not the configured one (the `ako.vmware.com/tenant-name` annotation). */
  tenant?: string;
}

export interface Translation {
  objects: DesiredObject[];
  outcomes: ObjectOutcome[];
  /** The verdict on every AKO CRD object (HostRule, HTTPRule, AviInfraSetting, L4Rule). */
  crdStatuses?: CrdVerdict[];
}

/** What the start-up checks read from the controller; translation needs it to build refs. */
export interface Infra {
  tenant: string;
  cloud: string;
  vrf: string;
  seGroup: string;
  /** DNS sub-domains of the cloud's DNS profile (sorted); empty when there is none. */
  dnsDomains: string[];
  /** Networks to allocate VIPs from, with the subnet to use; empty → the cloud IPAM picks. */
  vipNetworks: Array<{ name: string; subnet?: { addr: string; mask: number } }>;
  /** `ENTERPRISE`… decides the TCP network profile of L4 virtual services. */
  licenseTier: string;
  /** `GET /api/cluster` uuid, for the `controller-cluster-uuid` annotation. */
  clusterUuid?: string;
  /** Tenants the controller has, of those namespaces name (sync/tenants.ts keeps it); undefined: all trusted. */
  tenants?: ReadonlySet<string>;
}
