// How Go (text/template + fmt) sees JavaScript values: kinds, truth, printing, comparison.
// Integers are bigint (Go int/int64), other numbers are float64 (what YAML/JSON values become in Helm).
import type { Value } from './parse.js';

export type Kind = 'invalid' | 'bool' | 'int' | 'float64' | 'string' | 'slice' | 'map' | 'func';

export function kindOf(v: Value): Kind {
  if (v === null || v === undefined) return 'invalid';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'bigint': return 'int';
    case 'number': return 'float64';
    case 'string': return 'string';
    case 'function': return 'func';
    default: return Array.isArray(v) ? 'slice' : 'map';
  }
}

export function isMap(v: Value): v is Record<string, Value> {
  return kindOf(v) === 'map';
}

/** Go template truth: false, 0, nil, and empty strings/slices/maps are false. */
export function truth(v: Value): boolean {
  switch (kindOf(v)) {
    case 'invalid': return false;
    case 'bool': return v as boolean;
    case 'int': return (v as bigint) !== 0n;
    case 'float64': return (v as number) !== 0;
    case 'string': return (v as string).length > 0;
    case 'slice': return (v as Value[]).length > 0;
    case 'map': return Object.keys(v as object).length > 0;
    default: return true;
  }
}

/** Go's %v for a float64 (strconv 'g' with the shortest precision: 1e+06, 0.5, 1.5e-05). */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expStr] = f.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
  }
  return String(f);
}

/** Go's fmt %v of a value as text/template prints it (nil prints as empty, as Helm does). */
export function printValue(v: Value): string {
  switch (kindOf(v)) {
    case 'invalid': return '';
    case 'string': return v as string;
    case 'bool': return v ? 'true' : 'false';
    case 'int': return (v as bigint).toString();
    case 'float64': return formatFloat(v as number);
    case 'slice': return `[${(v as Value[]).map(nested).join(' ')}]`;
    case 'map': {
      const m = v as Record<string, Value>;
      return `map[${Object.keys(m).sort().map((k) => `${k}:${nested(m[k])}`).join(' ')}]`;
    }
    default: return '<func>';
  }
}

function nested(v: Value): string {
  return v === null || v === undefined ? '<nil>' : printValue(v);
}

function basic(v: Value, fn: string): Kind {
  const k = kindOf(v);
  if (k === 'slice' || k === 'map' || k === 'func') throw new Error(`non-comparable type ${k} for ${fn}`);
  return k;
}

/** Go's builtin `eq` for two values (ints and floats are different kinds, as in Go). */
export function goEqual(a: Value, b: Value): boolean {
  const ka = basic(a, 'eq');
  const kb = basic(b, 'eq');
  if (ka === 'invalid' || kb === 'invalid') return ka === kb;
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return a === b;
}

/** Go's builtin `lt`. */
export function goLess(a: Value, b: Value, fn: string): boolean {
  const ka = basic(a, fn);
  const kb = basic(b, fn);
  if (ka === 'bool' || ka === 'invalid') throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}
