// Building blocks for the object schemas (TypeBox = JSON Schema + TypeScript type in one).
// Two private keywords let the registry find special fields by walking a schema:
//   x-ref: <type>   the string is a reference to an object of that type;
//   x-kind: IpAddr  the object is an {addr, type} address whose addr must match its type.
// `readOnly` (set by the controller, ignored on write) and `writeOnly` (never returned) are standard.
import { Type, type TSchema, type TProperties, type TLiteral, type TUnion, type TString, type TObject } from '@sinclair/typebox';

/** A closed object: unknown fields are a validation error. */
export function Obj<T extends TProperties>(props: T, opts: { description?: string; [k: string]: unknown } = {}): TObject<T> {
  return Type.Object(props, { additionalProperties: false, ...opts });
}

/** A string enum (a union of literals; the validator names the allowed values). */
export function Enum<const V extends readonly [string, ...string[]]>(values: V, opts: { default?: V[number]; description?: string } = {}): TUnion<TLiteral<V[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)), opts) as never;
}

/** A ref to an object of `target` type: `/api/<target>/<uuid>` or `/api/<target>?name=<name>` on write, a URL on read. */
export function Ref(target: string, description?: string): TString {
  return Type.String({ 'x-ref': target, minLength: 1, ...(description ? { description } : {}) });
}
export const RefList = (target: string, description?: string) => Type.Array(Ref(target), description ? { description } : {});

export const Int = (min: number, max: number, opts: { default?: number; description?: string } = {}) => Type.Integer({ minimum: min, maximum: max, ...opts });
export const Port = (opts: { default?: number; description?: string } = {}) => Int(1, 65535, opts);
export const Bool = (dflt?: boolean) => (dflt === undefined ? Type.Boolean() : Type.Boolean({ default: dflt }));
export const Str = (opts: { default?: string; description?: string; maxLength?: number; minLength?: number } = {}) => Type.String(opts);
export const Opt = Type.Optional;
/** Set by the controller: accepted on write (clients send back what they read) and ignored. */
export const RO = <T extends TSchema>(s: T) => Type.Optional({ ...s, readOnly: true } as T);

export const IpAddr = Obj({ addr: Type.String({ minLength: 1 }), type: Enum(['V4', 'V6', 'DNS']) }, { 'x-kind': 'IpAddr' });
export const IpAddrPrefix = Obj({ ip_addr: IpAddr, mask: Int(0, 128) });
export const IpAddrRange = Obj({ begin: IpAddr, end: IpAddr });
export const KeyValue = Obj({ key: Type.String({ minLength: 1 }), value: Opt(Type.String()) });
export const RoleFilterMatchLabel = Obj({ key: Type.String({ minLength: 1 }), values: Opt(Type.Array(Type.String())) });

/** Fields every stored object has. */
export const base = {
  uuid: Opt(Type.String({ description: '`<type>-<uuid4>`; set by the controller' })),
  url: RO(Type.String()),
  _last_modified: RO(Type.String({ description: 'microseconds since the epoch, as a string' })),
  name: Type.String({ minLength: 1, maxLength: 512 }),
  tenant_ref: Opt(Ref('tenant')),
  description: Opt(Type.String()),
  created_by: Opt(Type.String()),
  markers: Opt(Type.Array(RoleFilterMatchLabel, { description: 'RBAC labels, stored as written' })),
};
export const cloudScoped = {
  cloud_ref: Opt(Ref('cloud', 'defaults to Default-Cloud')),
};
export const checksum = {
  cloud_config_cksum: Opt(Type.String({ description: "the writer's checksum, returned as written" })),
};
