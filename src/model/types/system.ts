// Controller-wide objects: users, the cluster, the system configuration.
import { Type, type Static } from '@sinclair/typebox';
import { Obj, Enum, Ref, Bool, Opt, RO, base } from '../schema.js';

export const User = Obj({
  ...base,
  username: Opt(Type.String({ minLength: 1 })),
  password: Opt(Type.String({ minLength: 1, writeOnly: true, description: 'stored as a scrypt hash; write-only' })),
  full_name: Opt(Type.String()),
  email: Opt(Type.String()),
  is_superuser: Opt(Bool(false)),
  is_active: Opt(Bool(true)),
  default_tenant_ref: Opt(Ref('tenant')),
  access: Opt(Type.Array(Obj({ tenant_ref: Opt(Ref('tenant')), role_ref: Opt(Type.String()), all_tenants: Opt(Bool(false)) }))),
  password_hash: Opt(Type.String({ writeOnly: true, 'x-internal': true, description: 'scrypt hash of password (controller-internal)' })),
  access_tokens: Opt(Type.Array(Type.Object({
    uuid: Type.String(), token_hash: Type.String(), created_at: Type.String(), expires_at: Type.String(), hours: Type.Number(),
  }), { writeOnly: true, 'x-internal': true, description: 'API tokens of this user (/api/user-token), stored as SHA-256 hashes (controller-internal)' })),
});
export type User = Static<typeof User>;

export const Cluster = Obj({
  ...base,
  nodes: Opt(Type.Array(Obj({ name: Type.String(), ip: Opt(Type.Object({ addr: Type.String(), type: Type.String() })), vm_hostname: Opt(Type.String()) }))),
  virtual_ip: Opt(Type.Object({ addr: Type.String(), type: Type.String() })),
  rejoin_nodes_automatically: Opt(Bool(true)),
});
export type Cluster = Static<typeof Cluster>;

export const SystemConfiguration = Obj({
  ...base,
  default_license_tier: Opt(Enum(['ENTERPRISE', 'ENTERPRISE_WITH_CLOUD_SERVICES', 'ESSENTIALS', 'BASIC'], { default: 'ENTERPRISE' })),
  dns_configuration: Opt(Type.Record(Type.String(), Type.Unknown())),
  ntp_configuration: Opt(Type.Record(Type.String(), Type.Unknown())),
  portal_configuration: Opt(Type.Record(Type.String(), Type.Unknown())),
  welcome_workflow_complete: Opt(Bool(true)),
  fips_mode: RO(Type.Boolean()),
});
export type SystemConfiguration = Static<typeof SystemConfiguration>;
