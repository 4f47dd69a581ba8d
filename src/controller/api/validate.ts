// Schema validation with messages a person can act on: the field's path, what is wrong, and for
// enums the allowed values. Compiled validators are built once per type.
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TObject } from '@sinclair/typebox';
import { isIPv4, isIPv6 } from 'node:net';
import type { TypeInfo } from '../../model/registry.js';
import { visitPath } from '../../model/paths.js';
import { badRequest } from '../errors.js';

const compiled = new WeakMap<TObject, TypeCheck<TObject>>();
function checker(schema: TObject): TypeCheck<TObject> {
  let c = compiled.get(schema);
  if (!c) { c = TypeCompiler.Compile(schema); compiled.set(schema, c); }
  return c;
}

/** `/vip/0/ip_address/addr` → `vip[0].ip_address.addr` */
function dotted(path: string): string {
  return path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function describe(e: ValueError): string {
  const field = dotted(e.path) || '(body)';
  const s = e.schema as Record<string, any>;
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      // A known Avi field Portico refuses on purpose says why (schema annotation `x-unsupported`).
      const why = s['x-unsupported']?.[field.slice(field.lastIndexOf('.') + 1)];
      return why ? `${field}: not supported: ${why}` : `${field}: unknown field`;
    }
    case ValueErrorType.ObjectRequiredProperty: return `${field}: required field is missing`;
    case ValueErrorType.Union:
      if (Array.isArray(s.anyOf) && s.anyOf.every((x: any) => 'const' in x)) {
        return `${field}: ${JSON.stringify(e.value)} is not one of ${s.anyOf.map((x: any) => x.const).join(', ')}`;
      }
      return `${field}: ${e.message}`;
    case ValueErrorType.IntegerMinimum: case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMinimum: case ValueErrorType.NumberMaximum:
      return `${field}: ${JSON.stringify(e.value)} is out of range ${s.minimum ?? '-∞'}–${s.maximum ?? '∞'}`;
    default: {
      const expected = s.type ? ` (expected ${s.type === 'integer' ? 'an integer' : s.type === 'array' ? 'an array' : s.type === 'object' ? 'an object' : `a ${s.type}`})` : '';
      return `${field}: ${e.message.toLowerCase()}${expected}`;
    }
  }
}

/** Throws 400 naming the first invalid field(s). */
export function validate(info: TypeInfo, body: Record<string, unknown>): void {
  const c = checker(info.schema);
  if (!c.Check(body)) {
    const errors: string[] = [];
    const seen = new Set<string>();
    for (const e of c.Errors(body)) {
      // A union of objects reports once per member; the first line per field is the useful one.
      if (seen.has(e.path)) continue;
      seen.add(e.path);
      errors.push(describe(e));
      if (errors.length >= 5) break;
    }
    throw badRequest(errors.join('; '));
  }
  for (const f of info.ipAddrs) {
    visitPath(body, f.segs, (v, _p, _k, at) => {
      const a = v as { addr?: unknown; type?: unknown } | undefined;
      if (!a || typeof a.addr !== 'string') return;
      if (a.type === 'V4' && !isIPv4(a.addr)) throw badRequest(`${at}.addr: ${JSON.stringify(a.addr)} is not an IPv4 address`);
      if (a.type === 'V6' && !isIPv6(a.addr)) throw badRequest(`${at}.addr: ${JSON.stringify(a.addr)} is not an IPv6 address`);
      if (a.type === 'DNS' && !/^[A-Za-z0-9]([A-Za-z0-9-.]*[A-Za-z0-9])?$/.test(a.addr)) throw badRequest(`${at}.addr: ${JSON.stringify(a.addr)} is not a host name`);
    });
  }
}
