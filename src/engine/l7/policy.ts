// httppolicyset → compiled rules. Everything that can be decided at update() time is: match
// strings are lower-cased once, regexes built once, redirect templates split into parts, so a
// request only runs small predicate functions.
import type { SnapshotIndex } from '../contracts.js';

type Obj = Record<string, any>;

/** What a rule can look at. `header` takes a lower-case name. */
export interface MatchInput {
  method: string;
  /** Path of the request target, without the query. */
  path: string;
  query: string;
  /** Host without port, lower case ('' when absent). */
  host: string;
  port: number;
  secure: boolean;
  clientIp: string;
  header(lname: string): string | undefined;
}

export interface HeaderAction {
  op: 'add' | 'replace' | 'remove';
  name: string;
  lname: string;
  value: string;
}

export type Terminal =
  | { kind: 'pool'; pool: string }
  | { kind: 'poolgroup'; poolGroup: string }
  | { kind: 'local'; status: number; contentType: string; body: Buffer }
  | { kind: 'redirect'; redirect: CompiledRedirect }
  | { kind: 'close' };

export interface CompiledRule {
  name: string;
  matches: (m: MatchInput) => boolean;
  headers: HeaderAction[];
  terminal: Terminal | undefined;
}

export interface CompiledRedirect {
  protocol: 'http' | 'https';
  port: number | undefined;
  status: number;
  keepQuery: boolean;
  host: ((m: MatchInput) => string) | undefined;
  path: ((m: MatchInput) => string) | undefined;
  addString: string;
}

export interface CompileWarning {
  (msg: string, where: string): void;
}

const ALWAYS = (): boolean => true;

/** Rules of the VS's httppolicysets: security rules first, then request rules; sets by index, rules by index. */
export function compilePolicies(vs: Obj, index: SnapshotIndex, warn: CompileWarning): CompiledRule[] {
  const sets = index.get('httppolicyset');
  const refs: Obj[] = Array.isArray(vs.http_policies) ? [...vs.http_policies] : [];
  refs.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const security: CompiledRule[] = [];
  const request: CompiledRule[] = [];
  for (const ref of refs) {
    const set = sets?.get(String(ref.http_policy_set_ref));
    if (!set) {
      warn(`httppolicyset ${ref.http_policy_set_ref} is not in the snapshot`, `virtualservice ${vs.uuid}`);
      continue;
    }
    for (const rule of sortedRules(set.http_security_policy?.rules)) {
      const c = compileSecurityRule(rule, index, warn, `httppolicyset ${set.name} security rule ${rule.name}`);
      if (c) security.push(c);
    }
    for (const rule of sortedRules(set.http_request_policy?.rules)) {
      const c = compileRequestRule(rule, index, warn, `httppolicyset ${set.name} rule ${rule.name}`);
      if (c) request.push(c);
    }
  }
  return security.concat(request);
}

function sortedRules(rules: unknown): Obj[] {
  if (!Array.isArray(rules)) return [];
  return rules.filter((r) => r && r.enable !== false).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
}

function compileRequestRule(rule: Obj, index: SnapshotIndex, warn: CompileWarning, where: string): CompiledRule | undefined {
  const matches = compileMatch(rule.match, index, warn, where);
  if (!matches) return undefined;
  const headers = compileHeaderActions(rule.hdr_action, warn, where);
  let terminal: Terminal | undefined;
  const sw = rule.switching_action;
  if (sw) {
    if (sw.action === 'HTTP_SWITCHING_SELECT_POOLGROUP' && sw.pool_group_ref) terminal = { kind: 'poolgroup', poolGroup: String(sw.pool_group_ref) };
    else if (sw.action === 'HTTP_SWITCHING_SELECT_LOCAL') {
      terminal = {
        kind: 'local',
        status: localStatus(sw.status_code),
        contentType: sw.file?.content_type ?? 'text/plain; charset=utf-8',
        body: Buffer.from(String(sw.file?.file_content ?? ''), 'utf8'),
      };
    } else if (sw.pool_ref) terminal = { kind: 'pool', pool: String(sw.pool_ref) };
    else if (sw.pool_group_ref) terminal = { kind: 'poolgroup', poolGroup: String(sw.pool_group_ref) };
    else warn('switching_action names no pool or pool group', where);
  } else if (rule.redirect_action) {
    terminal = { kind: 'redirect', redirect: compileRedirect(rule.redirect_action) };
  }
  return { name: String(rule.name ?? ''), matches, headers, terminal };
}

function compileSecurityRule(rule: Obj, index: SnapshotIndex, warn: CompileWarning, where: string): CompiledRule | undefined {
  const matches = compileMatch(rule.match, index, warn, where);
  if (!matches) return undefined;
  const a = rule.action ?? {};
  let terminal: Terminal | undefined;
  switch (a.action) {
    case 'HTTP_SECURITY_ACTION_CLOSE_CONN':
      terminal = { kind: 'close' };
      break;
    case 'HTTP_SECURITY_ACTION_SEND_RESPONSE':
      terminal = { kind: 'local', status: localStatus(a.status_code ?? 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403'), contentType: 'text/plain; charset=utf-8', body: Buffer.alloc(0) };
      break;
    case 'HTTP_SECURITY_ACTION_REDIRECT_TO_HTTPS':
      terminal = {
        kind: 'redirect',
        redirect: { protocol: 'https', port: a.https_port ?? 443, status: 302, keepQuery: true, host: undefined, path: undefined, addString: '' },
      };
      break;
    case 'HTTP_SECURITY_ACTION_ALLOW':
      // Allow stops security evaluation for this request but decides nothing else.
      return { name: String(rule.name ?? ''), matches, headers: [], terminal: undefined };
    default:
      warn(`unsupported security action ${a.action}`, where);
      return undefined;
  }
  return { name: String(rule.name ?? ''), matches, headers: [], terminal };
}

function localStatus(code: unknown): number {
  const m = /(\d{3})$/.exec(String(code ?? ''));
  return m ? Number(m[1]) : 200;
}

function compileHeaderActions(actions: unknown, warn: CompileWarning, where: string): HeaderAction[] {
  if (!Array.isArray(actions)) return [];
  const out: HeaderAction[] = [];
  for (const a of actions) {
    const name = String(a?.hdr?.name ?? '');
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      warn(`header action with invalid header name "${name}"`, where);
      continue;
    }
    const value = String(a.hdr?.value?.val ?? '').replace(/[\r\n\0]/g, '');
    const op = a.action === 'HTTP_REMOVE_HDR' ? 'remove' : a.action === 'HTTP_REPLACE_HDR' ? 'replace' : 'add';
    out.push({ op, name, lname: name.toLowerCase(), value });
  }
  return out;
}

// ---- matching -------------------------------------------------------------------------------

type Pred = (m: MatchInput) => boolean;

/** A predicate for a MatchTarget, or undefined when it uses something we cannot evaluate (the rule is then skipped). */
export function compileMatch(match: Obj | undefined, index: SnapshotIndex, warn: CompileWarning, where: string): Pred | undefined {
  if (!match) return ALWAYS;
  const preds: Pred[] = [];
  for (const [key, spec] of Object.entries(match)) {
    if (spec === undefined || spec === null) continue;
    let p: Pred | undefined;
    switch (key) {
      case 'path':
        p = stringMatch(spec, index, (m) => m.path, 'path');
        break;
      case 'query':
        p = stringMatch(spec, index, (m) => m.query, 'query');
        break;
      case 'host_hdr':
        p = headerMatch(spec, (m) => (m.host === '' ? undefined : m.host));
        break;
      case 'hdrs':
        if (!Array.isArray(spec)) break;
        for (const h of spec) {
          const lname = String(h.hdr ?? '').toLowerCase();
          const hp = headerMatch(h, (m) => m.header(lname));
          if (hp) preds.push(hp);
          else warn(`unsupported header match ${h.match_criteria}`, where);
        }
        continue;
      case 'vs_port': {
        const ports = new Set<number>((spec.ports ?? []).map(Number));
        p = spec.match_criteria === 'IS_NOT_IN' ? (m) => !ports.has(m.port) : (m) => ports.has(m.port);
        break;
      }
      case 'method': {
        const methods = new Set<string>((spec.methods ?? []).map((x: string) => String(x).replace(/^HTTP_METHOD_/, '')));
        p = spec.match_criteria === 'IS_NOT_IN' ? (m) => !methods.has(m.method) : (m) => methods.has(m.method);
        break;
      }
      case 'protocol': {
        const https = spec.protocols === 'HTTPS';
        const want = spec.match_criteria === 'IS_NOT_IN' ? !https : https;
        p = (m) => m.secure === want;
        break;
      }
      default:
        warn(`unsupported match field "${key}"; the rule never matches`, where);
        return undefined;
    }
    if (!p) {
      warn(`unsupported ${key} match`, where);
      return undefined;
    }
    preds.push(p);
  }
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0];
  return (m) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i](m)) return false;
    return true;
  };
}

function stringGroupValues(refs: unknown, index: SnapshotIndex): string[] {
  if (!Array.isArray(refs)) return [];
  const groups = index.get('stringgroup');
  const out: string[] = [];
  for (const r of refs) {
    const g = groups?.get(String(r));
    for (const kv of g?.kv ?? []) if (kv?.key !== undefined) out.push(String(kv.key));
  }
  return out;
}

function stringMatch(spec: Obj, index: SnapshotIndex, get: (m: MatchInput) => string, what: string): Pred | undefined {
  const insensitive = spec.match_case !== 'SENSITIVE';
  const decode = what === 'path' && spec.match_decoded_string !== false;
  const raw: string[] = [...(spec.match_str ?? []).map(String), ...stringGroupValues(spec.string_group_refs, index)];
  const values = insensitive ? raw.map((s) => s.toLowerCase()) : raw;
  const subject = (m: MatchInput): string => {
    let s = get(m);
    if (decode && s.includes('%')) s = safeDecode(s);
    return insensitive ? s.toLowerCase() : s;
  };
  const criteria = String(spec.match_criteria ?? 'CONTAINS');
  const kind = PATH_CRITERIA[criteria];
  if (!kind) return undefined;
  const negate = criteria.includes('NOT');
  if (kind === 'regex') {
    const res = raw.flatMap((v) => {
      try {
        return [new RegExp(v, insensitive ? 'i' : '')];
      } catch {
        return [];
      }
    });
    // Regexes run on the case-preserved subject; the `i` flag handles case.
    const t = (m: MatchInput): boolean => {
      const s = decodedOnly(get(m), decode);
      for (const r of res) if (r.test(s)) return true;
      return false;
    };
    return negate ? (m) => !t(m) : t;
  }
  const test = STRING_TESTS[kind](values);
  return negate ? (m) => !test(subject(m)) : (m) => test(subject(m));
}

type StringKind = 'begins' | 'contains' | 'ends' | 'equals' | 'regex';
const PATH_CRITERIA: Record<string, StringKind> = {
  BEGINS_WITH: 'begins',
  DOES_NOT_BEGIN_WITH: 'begins',
  CONTAINS: 'contains',
  DOES_NOT_CONTAIN: 'contains',
  ENDS_WITH: 'ends',
  DOES_NOT_END_WITH: 'ends',
  EQUALS: 'equals',
  DOES_NOT_EQUAL: 'equals',
  REGEX_MATCH: 'regex',
  REGEX_DOES_NOT_MATCH: 'regex',
};
const HDR_CRITERIA: Record<string, Exclude<StringKind, 'regex'>> = {
  HDR_BEGINS_WITH: 'begins',
  HDR_DOES_NOT_BEGIN_WITH: 'begins',
  HDR_CONTAINS: 'contains',
  HDR_DOES_NOT_CONTAIN: 'contains',
  HDR_ENDS_WITH: 'ends',
  HDR_DOES_NOT_END_WITH: 'ends',
  HDR_EQUALS: 'equals',
  HDR_DOES_NOT_EQUAL: 'equals',
};
const STRING_TESTS: Record<Exclude<StringKind, 'regex'>, (values: string[]) => (s: string) => boolean> = {
  begins: (values) => (s) => values.some((v) => s.startsWith(v)),
  contains: (values) => (s) => values.some((v) => s.includes(v)),
  ends: (values) => (s) => values.some((v) => s.endsWith(v)),
  equals: (values) => (s) => values.includes(s),
};

function decodedOnly(s: string, decode: boolean): string {
  return decode && s.includes('%') ? safeDecode(s) : s;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function headerMatch(spec: Obj, get: (m: MatchInput) => string | undefined): Pred | undefined {
  const criteria = String(spec.match_criteria ?? 'HDR_EXISTS');
  if (criteria === 'HDR_EXISTS') return (m) => get(m) !== undefined;
  if (criteria === 'HDR_DOES_NOT_EXIST') return (m) => get(m) === undefined;
  const insensitive = spec.match_case !== 'SENSITIVE';
  const values: string[] = (spec.value ?? []).map((v: unknown) => (insensitive ? String(v).toLowerCase() : String(v)));
  const kind = HDR_CRITERIA[criteria];
  if (!kind) return undefined;
  const negate = criteria.includes('NOT');
  const test = STRING_TESTS[kind](values);
  return (m) => {
    const v = get(m);
    if (v === undefined) return negate;
    const r = test(insensitive ? v.toLowerCase() : v);
    return negate ? !r : r;
  };
}

// ---- redirects ------------------------------------------------------------------------------

function compileRedirect(a: Obj): CompiledRedirect {
  const status = localStatus(a.status_code ?? 'HTTP_REDIRECT_STATUS_CODE_302');
  return {
    protocol: a.protocol === 'HTTPS' ? 'https' : 'http',
    port: a.port === undefined ? undefined : Number(a.port),
    status: [301, 302, 307, 308].includes(status) ? status : 302,
    keepQuery: a.keep_query !== false,
    host: a.host ? compileUriParam(a.host) : undefined,
    path: a.path ? compileUriParam(a.path) : undefined,
    addString: a.add_string ? String(a.add_string) : '',
  };
}

/** URIParam tokens → a function building the string from the request. */
function compileUriParam(p: Obj): (m: MatchInput) => string {
  const tokens: Obj[] = Array.isArray(p.tokens) ? p.tokens : [];
  const parts = tokens.map((t): ((m: MatchInput) => string) => {
    const s = t.start_index;
    const e = t.end_index;
    switch (t.type) {
      case 'URI_TOKEN_TYPE_HOST':
        return (m) => sliceTokens(m.host.split('.'), s, e).join('.');
      case 'URI_TOKEN_TYPE_PATH':
        return (m) => sliceTokens(m.path.split('/').filter((x) => x !== ''), s, e).join('/');
      default: {
        const v = String(t.str_value ?? '');
        return () => v;
      }
    }
  });
  return (m) => parts.map((f) => f(m)).join('');
}

function sliceTokens(arr: string[], start: unknown, end: unknown): string[] {
  const s = typeof start === 'number' ? start : 0;
  const e = typeof end === 'number' ? end : arr.length - 1;
  return arr.slice(s, e + 1);
}

/** The Location of a redirect for this request. */
export function redirectLocation(r: CompiledRedirect, m: MatchInput, requestPort: number): string {
  const host = r.host ? r.host(m) : m.host;
  const defaultPort = r.protocol === 'https' ? 443 : 80;
  let port = r.port;
  // Without an explicit port, keep the request's port only when the protocol stays the same.
  if (port === undefined) port = (r.protocol === 'https') === m.secure ? requestPort : defaultPort;
  let path = r.path ? r.path(m) : m.path;
  if (!path.startsWith('/')) path = '/' + path;
  const q = r.keepQuery && m.query !== '' ? '?' + m.query : '';
  return `${r.protocol}://${host}${port === defaultPort ? '' : ':' + port}${path}${q}${r.addString}`;
}
