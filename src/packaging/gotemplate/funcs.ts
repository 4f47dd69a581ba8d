// The functions a Helm chart can call: Go's builtins, Helm's own (include, tpl, required, fail,
// toYaml, …) and the sprig functions charts commonly use. Semantics follow the Go originals:
// sprig's math returns int64 (bigint here), `default` treats empty values as unset, etc.
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ExecutionError, type FuncCall, type TemplateFunc } from './exec.js';
import type { Value } from './parse.js';
import { versionSatisfies } from '../semver.js';
import { goEqual, goLess, isMap, kindOf, printValue, truth } from './values.js';

type Dict = Record<string, Value>;

/** sprig's strval (fmt %v): nil is "<nil>" here, unlike a printed action. */
function str(v: Value): string {
  return v === null || v === undefined ? '<nil>' : printValue(v);
}

/** sprig's toInt64 (cast.ToInt64: strings parse, floats truncate, bad input is 0). */
function int(v: Value): bigint {
  switch (kindOf(v)) {
    case 'int': return v as bigint;
    case 'float64': return BigInt(Math.trunc(v as number));
    case 'bool': return v ? 1n : 0n;
    case 'string': { const t = (v as string).trim(); return /^[+-]?\d+$/.test(t) ? BigInt(t) : 0n; }
    default: return 0n;
  }
}

function float(v: Value): number {
  switch (kindOf(v)) {
    case 'int': return Number(v as bigint);
    case 'float64': return v as number;
    case 'bool': return v ? 1 : 0;
    case 'string': { const f = Number(v); return Number.isNaN(f) ? 0 : f; }
    default: return 0;
  }
}

/** Plain JSON data (bigint → number) for the YAML/JSON encoders. */
function plain(v: Value): Value {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isMap(v)) { const o: Dict = {}; for (const k of Object.keys(v)) o[k] = plain(v[k]); return o; }
  return v === undefined ? null : v;
}

function empty(v: Value): boolean {
  return !truth(v);
}

function list(v: Value, fn: string): Value[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${fn}: cannot work on type ${kindOf(v)}`);
  return v;
}

/** Helm's toYaml: sorted keys, block style, no trailing newline (sigs.k8s.io/yaml + TrimSuffix). */
export function toYaml(v: Value): string {
  const text = stringifyYaml(plain(v), { sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
  return text.replace(/\n$/, '');
}

/** Go's encoding/json escapes <, > and & in strings. */
function toJson(v: Value, indent?: number): string {
  return (JSON.stringify(plain(v), null, indent) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

function indent(n: Value, s: Value): string {
  const pad = ' '.repeat(Number(int(n)));
  return pad + str(s).replace(/\n/g, `\n${pad}`);
}

function deepCopy(v: Value): Value {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (isMap(v)) { const o: Dict = {}; for (const k of Object.keys(v)) o[k] = deepCopy(v[k]); return o; }
  return v;
}

/** sprig merge: keys of later maps fill what earlier ones lack (deep); `overwrite` lets later ones win. */
function mergeInto(dst: Dict, src: Value, overwrite: boolean): Dict {
  if (!isMap(src)) return dst;
  for (const k of Object.keys(src)) {
    const a = dst[k];
    const b = src[k];
    if (isMap(a) && isMap(b)) mergeInto(a, b, overwrite);
    else if (!(k in dst) || overwrite) dst[k] = deepCopy(b);
  }
  return dst;
}

/** A Go fmt.Sprintf subset: %v %s %d %q %t %f %x %% (with width/precision for %f and %d). */
export function sprintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdqtfxX%])/g, (_m, flags: string, width?: string, prec?: string, verb?: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    let out: string;
    switch (verb) {
      case 'd': out = kindOf(a) === 'int' ? (a as bigint).toString() : `%!d(${kindOf(a)}=${str(a)})`; break;
      case 'q': out = JSON.stringify(str(a)); break;
      case 't': out = kindOf(a) === 'bool' ? str(a) : `%!t(${kindOf(a)}=${str(a)})`; break;
      case 'f': out = float(a).toFixed(prec === undefined ? 6 : Number(prec)); break;
      case 'x': case 'X': {
        const h = kindOf(a) === 'string' ? Buffer.from(a as string).toString('hex') : int(a).toString(16);
        out = verb === 'X' ? h.toUpperCase() : h; break;
      }
      default: out = str(a);
    }
    if (width && out.length < Number(width)) {
      const pad = (flags.includes('0') && !flags.includes('-') ? '0' : ' ').repeat(Number(width) - out.length);
      out = flags.includes('-') ? out + pad : pad + out;
    }
    return out;
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map(str).join(', ')})` : '');
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: Value[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += str(a);
  });
  return out;
}

function index(v: Value, keys: Value[]): Value {
  let cur = v;
  for (const k of keys) {
    if (cur === null || cur === undefined) throw new Error('index of untyped nil');
    if (Array.isArray(cur)) {
      const i = Number(int(k));
      if (i < 0 || i >= cur.length) throw new Error(`index out of range: ${i}`);
      cur = cur[i];
    } else if (isMap(cur)) {
      const x = cur[str(k)];
      cur = x === undefined ? null : x;
    } else throw new Error(`can't index item of type ${kindOf(cur)}`);
  }
  return cur;
}

function ints(args: Value[]): bigint[] {
  return args.map(int);
}

const f = (fn: (...a: Value[]) => Value): TemplateFunc => (_c: FuncCall, ...a: Value[]) => fn(...a);

/** Every function a chart may call. */
export const helmFuncs: Record<string, TemplateFunc> = {
  // Go builtins (and/or are evaluated lazily by the executor)
  not: f((a) => !truth(a)),
  eq: f((a, ...bs) => {
    if (!bs.length) throw new Error('missing argument for comparison');
    return bs.some((b) => goEqual(a, b));
  }),
  ne: f((a, b) => !goEqual(a, b)),
  lt: f((a, b) => goLess(a, b, 'lt')),
  le: f((a, b) => goLess(a, b, 'le') || goEqual(a, b)),
  gt: f((a, b) => goLess(b, a, 'gt')),
  ge: f((a, b) => goLess(b, a, 'ge') || goEqual(a, b)),
  len: f((a) => {
    const k = kindOf(a);
    if (k === 'string') return BigInt(Buffer.byteLength(a as string));
    if (k === 'slice') return BigInt((a as Value[]).length);
    if (k === 'map') return BigInt(Object.keys(a as object).length);
    throw new Error(`len of type ${k}`);
  }),
  index: f((v, ...keys) => index(v, keys)),
  print: f((...a) => sprint(a)),
  println: f((...a) => `${a.map(str).join(' ')}\n`),
  printf: f((fmt, ...a) => sprintf(str(fmt), a)),
  urlquery: f((...a) => encodeURIComponent(a.map(str).join(''))),
  html: f((...a) => a.map(str).join('').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!)),
  js: f((...a) => JSON.stringify(a.map(str).join('')).slice(1, -1).replace(/'/g, "\\'").replace(/</g, '\\u003C').replace(/>/g, '\\u003E')),
  slice: f((v, ...ix) => {
    const [i = 0n, j] = ints(ix);
    if (typeof v === 'string') return v.slice(Number(i), j === undefined ? undefined : Number(j));
    return list(v, 'slice').slice(Number(i), j === undefined ? undefined : Number(j));
  }),

  // Helm
  include: (c, name, data) => c.include(str(name), data),
  tpl: (c, src, data) => c.tpl(str(src), data),
  required: f((msg, v) => {
    if (v === null || v === undefined || v === '') throw new ExecutionError(str(msg));
    return v;
  }),
  fail: f((msg) => { throw new ExecutionError(str(msg)); }),
  toYaml: f((v) => toYaml(v)),
  mustToYaml: f((v) => toYaml(v)),
  fromYaml: f((s) => { try { return (parseYaml(str(s)) as Value) ?? {}; } catch (e) { return { Error: (e as Error).message }; } }),
  toJson: f((v) => toJson(v)),
  mustToJson: f((v) => toJson(v)),
  toPrettyJson: f((v) => toJson(v, 2)),
  fromJson: f((s) => { try { return JSON.parse(str(s)) as Value; } catch (e) { return { Error: (e as Error).message }; } }),
  lookup: f(() => ({})), // `helm template` has no cluster to look in: always an empty map

  // sprig: defaults and flow
  default: f((d, v) => (empty(v) ? d : v)),
  empty: f((v) => empty(v)),
  coalesce: f((...a) => a.find((x) => !empty(x)) ?? null),
  ternary: f((a, b, cond) => (truth(cond) ? a : b)),
  kindOf: f((v) => kindOf(v)),
  kindIs: f((k, v) => kindOf(v) === str(k)),
  typeOf: f((v) => ({ invalid: '<nil>', bool: 'bool', int: 'int', float64: 'float64', string: 'string', slice: '[]interface {}', map: 'map[string]interface {}', func: 'func' })[kindOf(v)]),

  // sprig: strings
  toString: f((v) => str(v)),
  toStrings: f((l) => list(l, 'toStrings').map(str)),
  quote: f((...a) => a.filter((x) => x !== null && x !== undefined).map((x) => JSON.stringify(str(x))).join(' ')),
  squote: f((...a) => a.filter((x) => x !== null && x !== undefined).map((x) => `'${str(x)}'`).join(' ')),
  indent: f((n, s) => indent(n, s)),
  nindent: f((n, s) => `\n${indent(n, s)}`),
  trim: f((s) => str(s).trim()),
  trimAll: f((cut, s) => { const c = str(cut); let t = str(s); while (c && t.length && c.includes(t[0]!)) t = t.slice(1); while (c && t.length && c.includes(t[t.length - 1]!)) t = t.slice(0, -1); return t; }),
  trimSuffix: f((suf, s) => { const t = str(s); const x = str(suf); return x && t.endsWith(x) ? t.slice(0, -x.length) : t; }),
  trimPrefix: f((pre, s) => { const t = str(s); const x = str(pre); return x && t.startsWith(x) ? t.slice(x.length) : t; }),
  trunc: f((n, s) => { const t = str(s); const c = Number(int(n)); return c >= 0 ? t.slice(0, c) : t.slice(Math.max(0, t.length + c)); }),
  lower: f((s) => str(s).toLowerCase()),
  upper: f((s) => str(s).toUpperCase()),
  title: f((s) => str(s).replace(/(^|[^A-Za-z0-9])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase())),
  replace: f((old, neu, s) => str(s).split(str(old)).join(str(neu))),
  contains: f((sub, s) => str(s).includes(str(sub))),
  hasPrefix: f((p, s) => str(s).startsWith(str(p))),
  hasSuffix: f((p, s) => str(s).endsWith(str(p))),
  repeat: f((n, s) => str(s).repeat(Math.max(0, Number(int(n))))),
  substr: f((a, b, s) => str(s).slice(Number(int(a)), Number(int(b)) < 0 ? undefined : Number(int(b)))),
  nospace: f((s) => str(s).replace(/\s+/g, '')),
  cat: f((...a) => a.filter((x) => x !== null && x !== undefined).map(str).join(' ')),
  b64enc: f((s) => Buffer.from(str(s)).toString('base64')),
  b64dec: f((s) => Buffer.from(str(s), 'base64').toString()),
  sha256sum: f((s) => createHash('sha256').update(str(s)).digest('hex')),
  regexMatch: f((re, s) => new RegExp(str(re)).test(str(s))),
  regexReplaceAll: f((re, s, repl) => str(s).replace(new RegExp(str(re), 'g'), str(repl).replace(/\$\{?(\d+)\}?/g, '$$$1'))),
  regexFind: f((re, s) => new RegExp(str(re)).exec(str(s))?.[0] ?? ''),
  splitList: f((sep, s) => str(s).split(str(sep))),
  split: f((sep, s) => Object.fromEntries(str(s).split(str(sep)).map((p, i) => [`_${i}`, p]))),
  join: f((sep, l) => (Array.isArray(l) ? l.map(str) : [str(l)]).join(str(sep))),

  semverCompare: f((constraint, version) => versionSatisfies(str(constraint), str(version))),

  // sprig: numbers (int64 results)
  int: f((v) => int(v)),
  int64: f((v) => int(v)),
  float64: f((v) => float(v)),
  atoi: f((v) => int(v)),
  add: f((...a) => ints(a).reduce((x, y) => x + y, 0n)),
  add1: f((a) => int(a) + 1n),
  sub: f((a, b) => int(a) - int(b)),
  mul: f((...a) => ints(a).reduce((x, y) => x * y, 1n)),
  div: f((a, b) => { const d = int(b); if (d === 0n) throw new Error('integer divide by zero'); return int(a) / d; }),
  mod: f((a, b) => { const d = int(b); if (d === 0n) throw new Error('integer divide by zero'); return int(a) % d; }),
  max: f((...a) => ints(a).reduce((x, y) => (y > x ? y : x))),
  min: f((...a) => ints(a).reduce((x, y) => (y < x ? y : x))),
  until: f((n) => Array.from({ length: Math.max(0, Number(int(n))) }, (_x, i) => BigInt(i))),

  // sprig: lists
  list: f((...a) => a),
  first: f((l) => list(l, 'first')[0] ?? null),
  last: f((l) => { const x = list(l, 'last'); return x[x.length - 1] ?? null; }),
  rest: f((l) => list(l, 'rest').slice(1)),
  initial: f((l) => list(l, 'initial').slice(0, -1)),
  append: f((l, v) => [...list(l, 'append'), v]),
  mustAppend: f((l, v) => [...list(l, 'mustAppend'), v]),
  prepend: f((l, v) => [v, ...list(l, 'prepend')]),
  concat: f((...ls) => ls.flatMap((l) => list(l, 'concat'))),
  reverse: f((l) => [...list(l, 'reverse')].reverse()),
  uniq: f((l) => list(l, 'uniq').filter((x, i, all) => all.findIndex((y) => str(y) === str(x) && kindOf(y) === kindOf(x)) === i)),
  compact: f((l) => list(l, 'compact').filter((x) => !empty(x))),
  without: f((l, ...drop) => list(l, 'without').filter((x) => !drop.some((d) => kindOf(d) === kindOf(x) && str(d) === str(x)))),
  has: f((needle, l) => list(l, 'has').some((x) => kindOf(x) === kindOf(needle) && str(x) === str(needle))),
  sortAlpha: f((l) => list(l, 'sortAlpha').map(str).sort()),

  // sprig: dicts
  dict: f((...a) => { const d: Dict = {}; for (let i = 0; i < a.length; i += 2) d[str(a[i])] = a[i + 1] ?? null; return d; }),
  get: f((d, k) => (isMap(d) ? d[str(k)] ?? '' : '')),
  set: f((d, k, v) => { if (isMap(d)) d[str(k)] = v; return d; }),
  unset: f((d, k) => { if (isMap(d)) delete d[str(k)]; return d; }),
  hasKey: f((d, k) => isMap(d) && Object.prototype.hasOwnProperty.call(d, str(k))),
  keys: f((...ds) => ds.flatMap((d) => (isMap(d) ? Object.keys(d) : []))),
  values: f((d) => (isMap(d) ? Object.keys(d).map((k) => d[k]) : [])),
  pick: f((d, ...ks) => { const o: Dict = {}; if (isMap(d)) for (const k of ks.map(str)) if (k in d) o[k] = d[k]; return o; }),
  omit: f((d, ...ks) => { const o: Dict = {}; const drop = new Set(ks.map(str)); if (isMap(d)) for (const k of Object.keys(d)) if (!drop.has(k)) o[k] = d[k]; return o; }),
  dig: f((...a) => {
    const d = a[a.length - 1];
    const def = a[a.length - 2];
    let cur: Value = d;
    for (const k of a.slice(0, -2)) { if (!isMap(cur) || !(str(k) in cur)) return def; cur = cur[str(k)]; }
    return cur;
  }),
  merge: f((dst, ...srcs) => srcs.reduce<Dict>((acc, s) => mergeInto(acc, s, false), isMap(dst) ? dst : {})),
  mergeOverwrite: f((dst, ...srcs) => srcs.reduce<Dict>((acc, s) => mergeInto(acc, s, true), isMap(dst) ? dst : {})),
  deepCopy: f((v) => deepCopy(v)),
  pluck: f((k, ...ds) => ds.filter(isMap).filter((d) => str(k) in d).map((d) => d[str(k)])),
};
