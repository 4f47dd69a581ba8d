// Schema defaults on write, with TypeBox's Value.Default semantics but planned once per schema:
// Value.Default walks every property of a type's schema (hundreds for a virtual service) and
// Checks every member of every enum on each write; here a write visits only the properties whose
// subtree holds a default. Kinds without a plan here (Ref, Intersect, Tuple, a union holding
// defaults inside its members…) are handed to Value.Default, so the result is always TypeBox's.
import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';

type Apply = (value: unknown) => unknown;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** TypeBox's ValueOrDefault: a missing value takes a copy of the default; an object default fills under an object value. */
function leaf(schema: TSchema): Apply {
  if (!Object.prototype.hasOwnProperty.call(schema, 'default')) return (v) => v;
  const dflt: unknown = schema.default;
  if (typeof dflt === 'function') return (v) => Value.Default(schema, v);
  if (!isObject(dflt)) return (v) => (v === undefined ? dflt : v);
  return (v) => {
    const copy = structuredClone(dflt);
    return v === undefined ? copy : isObject(v) ? Object.assign(copy as object, v) : v;
  };
}

const plans = new WeakMap<TSchema, Apply | null>();

/** The plan for `schema`, or null when nothing under it has a default (the value stays as it is). */
function plan(schema: TSchema): Apply | null {
  if (plans.has(schema)) return plans.get(schema)!;
  let p: Apply | null;
  const own = Object.prototype.hasOwnProperty.call(schema, 'default') ? leaf(schema) : undefined;
  switch (schema[Kind]) {
    case 'Object': {
      const props = Object.entries((schema.properties ?? {}) as Record<string, TSchema>)
        .map(([k, s]) => [k, plan(s)] as const).filter((x): x is readonly [string, Apply] => x[1] !== null);
      const extra = schema.additionalProperties;
      if (isObject(extra) && 'default' in extra && Kind in extra) { p = (v) => Value.Default(schema, v); break; }
      if (!own && props.length === 0) { p = null; break; }
      const self = own ?? ((v: unknown) => v);
      p = (v) => {
        const d = self(v);
        if (!isObject(d)) return d;
        for (const [k, f] of props) {
          const r = f(d[k]);
          if (r !== undefined) d[k] = r;
        }
        return d;
      };
      break;
    }
    case 'Array': {
      const items = plan(schema.items as TSchema);
      if (!own && !items) { p = null; break; }
      const self = own ?? ((v: unknown) => v);
      p = (v) => {
        const d = Array.isArray(v) ? v : self(v);
        if (!Array.isArray(d) || !items) return d;
        for (let i = 0; i < d.length; i++) d[i] = items(d[i]);
        return d;
      };
      break;
    }
    case 'Union':
      // A union whose members hold no default (an enum): only its own default counts.
      p = (schema.anyOf as TSchema[]).every((m) => plan(m) === null) ? own ?? null : (v) => Value.Default(schema, v);
      break;
    case 'Record':
      p = plan((schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined) as TSchema ?? {}) === null
        && !(isObject(schema.additionalProperties) && 'default' in schema.additionalProperties) ? own ?? null : (v) => Value.Default(schema, v);
      break;
    case 'Ref': case 'This': case 'Import': case 'Intersect': case 'Tuple':
      p = (v) => Value.Default(schema, v);
      break;
    default:
      p = own ?? null;
  }
  plans.set(schema, p);
  return p;
}

/** `Value.Default(schema, value)`, planned once per schema. */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  const p = plan(schema);
  return p ? p(value) : value;
}
