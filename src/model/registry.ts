// Every object type the controller serves, with what the generic API code needs to know about it:
// collection name, schema, ref fields (nested ones too) and their target types, read-only,
// write-only and controller-internal fields, where IP addresses sit, and scoping rules.
import type { TObject, TSchema } from '@sinclair/typebox';
import { fieldPath, type FieldPath } from './paths.js';
import { Cloud, Tenant, VrfContext, Network, IpamDnsProviderProfile, ServiceEngineGroup, ServiceEngine, SeJoinToken } from './types/infra.js';
import { VirtualService, VsVip } from './types/virtualservice.js';
import { Pool, PoolGroup, HealthMonitor, ApplicationPersistenceProfile } from './types/pool.js';
import { ApplicationProfile, NetworkProfile, SSLProfile, AnalyticsProfile } from './types/profiles.js';
import { SSLKeyAndCertificate, PKIProfile } from './types/ssl.js';
import { HTTPPolicySet, L4PolicySet, VSDataScriptSet, StringGroup } from './types/policy.js';
import { User, Cluster, SystemConfiguration } from './types/system.js';

export interface RefField extends FieldPath {
  /** The type the ref points to. */
  target: string;
}

export interface TypeInfo {
  /** Collection name: `/api/<type>`. */
  type: string;
  /** Model name, as in `"Pool object not found!"`. */
  model: string;
  schema: TObject;
  /** UUIDs are `<uuidPrefix>-<uuid4>` (`se-…` for service engines). */
  uuidPrefix: string;
  /** Has `cloud_ref` (defaulted to Default-Cloud); names are unique per (tenant, cloud). */
  cloudScoped: boolean;
  /** Objects of this type in the admin tenant are visible (read-only) to every tenant and resolve refs from any tenant. */
  sharedFromAdmin: boolean;
  /** Lives in the admin tenant only (tenants, users, the cluster, system configuration, service engines). */
  adminOnly: boolean;
  /** Exactly one object, created at first start; no POST/DELETE. */
  singleton: boolean;
  /** Not writable over the REST API (only through the engine host). */
  internalOnly: boolean;
  refs: RefField[];
  readOnly: FieldPath[];
  writeOnly: FieldPath[];
  /** Controller-internal fields (hashes): never accepted from the REST API, never returned. */
  internal: FieldPath[];
  /** `{addr, type}` objects whose addr must be an address of that type. */
  ipAddrs: FieldPath[];
}

interface Spec { model: string; schema: TObject; prefix?: string; cloud?: boolean; shared?: boolean; adminOnly?: boolean; singleton?: boolean; internalOnly?: boolean }

const specs: Record<string, Spec> = {
  tenant: { model: 'Tenant', schema: Tenant, adminOnly: true },
  cloud: { model: 'Cloud', schema: Cloud, shared: true },
  vrfcontext: { model: 'VrfContext', schema: VrfContext, cloud: true, shared: true },
  network: { model: 'Network', schema: Network, cloud: true, shared: true },
  ipamdnsproviderprofile: { model: 'IpamDnsProviderProfile', schema: IpamDnsProviderProfile, shared: true },
  serviceenginegroup: { model: 'ServiceEngineGroup', schema: ServiceEngineGroup, cloud: true, shared: true },
  serviceengine: { model: 'ServiceEngine', schema: ServiceEngine, prefix: 'se', cloud: true, adminOnly: true },
  sejointoken: { model: 'SeJoinToken', schema: SeJoinToken, adminOnly: true, internalOnly: true },
  virtualservice: { model: 'VirtualService', schema: VirtualService, cloud: true },
  vsvip: { model: 'VsVip', schema: VsVip, cloud: true },
  pool: { model: 'Pool', schema: Pool, cloud: true },
  poolgroup: { model: 'PoolGroup', schema: PoolGroup, cloud: true },
  healthmonitor: { model: 'HealthMonitor', schema: HealthMonitor, shared: true },
  applicationpersistenceprofile: { model: 'ApplicationPersistenceProfile', schema: ApplicationPersistenceProfile, shared: true },
  applicationprofile: { model: 'ApplicationProfile', schema: ApplicationProfile, shared: true },
  networkprofile: { model: 'NetworkProfile', schema: NetworkProfile, shared: true },
  sslprofile: { model: 'SSLProfile', schema: SSLProfile, shared: true },
  analyticsprofile: { model: 'AnalyticsProfile', schema: AnalyticsProfile, shared: true },
  sslkeyandcertificate: { model: 'SSLKeyAndCertificate', schema: SSLKeyAndCertificate, shared: true },
  pkiprofile: { model: 'PKIProfile', schema: PKIProfile, shared: true },
  httppolicyset: { model: 'HTTPPolicySet', schema: HTTPPolicySet },
  l4policyset: { model: 'L4PolicySet', schema: L4PolicySet },
  vsdatascriptset: { model: 'VSDataScriptSet', schema: VSDataScriptSet },
  stringgroup: { model: 'StringGroup', schema: StringGroup, shared: true },
  user: { model: 'User', schema: User, adminOnly: true },
  cluster: { model: 'Cluster', schema: Cluster, adminOnly: true, singleton: true },
  systemconfiguration: { model: 'SystemConfiguration', schema: SystemConfiguration, adminOnly: true, singleton: true },
};

interface Found { refs: RefField[]; readOnly: FieldPath[]; writeOnly: FieldPath[]; internal: FieldPath[]; ipAddrs: FieldPath[] }

/** Walks a schema and collects the special fields (see schema.ts for the keywords). */
function scan(schema: TSchema, segs: string[], out: Found): void {
  const s = schema as Record<string, any>;
  if (segs.length > 0) {
    if (s['x-internal']) { out.internal.push(fieldPath(segs)); return; }
    if (s.readOnly) { out.readOnly.push(fieldPath(segs)); return; }
    if (s.writeOnly) out.writeOnly.push(fieldPath(segs));
    if (typeof s['x-ref'] === 'string') out.refs.push({ ...fieldPath(segs), target: s['x-ref'] });
    if (s['x-kind'] === 'IpAddr') out.ipAddrs.push(fieldPath(segs));
  }
  if (s.type === 'object' && s.properties) {
    for (const [k, v] of Object.entries(s.properties as Record<string, TSchema>)) scan(v, [...segs, k], out);
  } else if (s.type === 'array' && s.items) {
    scan(s.items as TSchema, [...segs, '[]'], out);
  }
}

function build(type: string, spec: Spec): TypeInfo {
  const found: Found = { refs: [], readOnly: [], writeOnly: [], internal: [], ipAddrs: [] };
  scan(spec.schema, [], found);
  return {
    type, model: spec.model, schema: spec.schema, uuidPrefix: spec.prefix ?? type,
    cloudScoped: !!spec.cloud, sharedFromAdmin: !!spec.shared, adminOnly: !!spec.adminOnly,
    singleton: !!spec.singleton, internalOnly: !!spec.internalOnly, ...found,
  };
}

export const registry: ReadonlyMap<string, TypeInfo> = new Map(Object.entries(specs).map(([t, s]) => [t, build(t, s)]));

/** The type's description, or undefined for an unknown collection name. */
export function typeInfo(type: string): TypeInfo | undefined {
  return registry.get(type);
}

/** The type a UUID belongs to (`se-…` → serviceengine, `admin` → tenant). */
export function typeOfUuid(uuid: string): TypeInfo | undefined {
  if (uuid === 'admin') return registry.get('tenant');
  const dash = uuid.indexOf('-');
  if (dash <= 0) return undefined;
  const prefix = uuid.slice(0, dash);
  for (const info of registry.values()) if (info.uuidPrefix === prefix) return info;
  return undefined;
}

/** Every type, for iteration in a stable order. */
export const allTypes: readonly TypeInfo[] = [...registry.values()];
