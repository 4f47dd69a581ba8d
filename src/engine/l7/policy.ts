// httppolicyset → compiled rules. Everything that can be decided at update() time is: match
// strings are lower-cased once, regexes built once, redirect templates split into parts, so a
// request only runs small predicate functions.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { SnapshotIndex } from '../contracts.js';
import { compileHeaderActions, plainIp, type CompileWarning, type HeaderAction, type VariableSource } from './header-actions.js';

export type { CompileWarning, HeaderAction } from './header-actions.js';

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
  /** HTTP version as Avi names it: ZERO_NINE, ONE_ZERO, ONE_ONE, TWO_ZERO. */
  version: string;
  header(lname: string): string | undefined;
  /** Set by a matching path/query REGEX_MATCH (capture groups), for redirect REGEX tokens. */
  pathCaptures?: RegExpExecArray | undefined;
  queryCaptures?: RegExpExecArray | undefined;
  /** Set by a matching string-group path match: the matched key's value (redirect STRING_GROUP token). */
  groupValue?: string | undefined;
}

/** What a response rule can look at besides the request. */
export interface ResponseInput {
  status: number;
  /** A response header by lower-case name. */
  header(lname: string): string | undefined;
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
  /** rewrite_url_action: the request goes on with a new path/query and Host. */
  rewrite: CompiledRewrite | undefined;
  terminal: Terminal | undefined;
  /** A security rule (they come first). */
  security: boolean;
  /** HTTP_SECURITY_ACTION_ALLOW: the remaining security rules are skipped. */
  allow: boolean;
}

/** An http_response_policy rule: header actions on the server's response. */
export interface CompiledResponseRule {
  name: string;
  matches: (m: MatchInput, r: ResponseInput) => boolean;
  headers: HeaderAction[];
}

/** The compiled policies of one VS. */
export interface CompiledPolicies {
  rules: CompiledRule[];
  responseRules: CompiledResponseRule[];
}

/** HTTPRewriteURLAction: host_hdr and path (URIParam), query {keep_query, add_string}. */
export interface CompiledRewrite {
  host: ((m: MatchInput) => string) | undefined;
  path: ((m: MatchInput) => string) | undefined;
  keepQuery: boolean;
  addString: string;
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

const ALWAYS = (): boolean => true;

/** Rules of the VS's httppolicysets: security rules first, then request rules; sets by index, rules by index. Response rules apart. */
export function compilePolicies(vs: Obj, index: SnapshotIndex, warn: CompileWarning): CompiledPolicies {
  const sets = index.get('httppolicyset');
  const refs: Obj[] = Array.isArray(vs.http_policies) ? [...vs.http_policies] : [];
  refs.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const security: CompiledRule[] = [];
  const request: CompiledRule[] = [];
  const response: CompiledResponseRule[] = [];
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
    for (const rule of sortedRules(set.http_response_policy?.rules)) {
      const c = compileResponseRule(rule, index, warn, `httppolicyset ${set.name} response rule ${rule.name}`);
      if (c) response.push(c);
    }
  }
  return { rules: security.concat(request), responseRules: response };
}

function sortedRules(rules: unknown): Obj[] {
  if (!Array.isArray(rules)) return [];
  return rules.filter((r) => r && r.enable !== false).sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
}

function compileRequestRule(rule: Obj, index: SnapshotIndex, warn: CompileWarning, where: string): CompiledRule | undefined {
  const matches = compileMatch(rule.match, index, warn, where);
  if (!matches) return undefined;
  const headers = compileHeaderActions(rule.hdr_action, 'request', warn, where);
  const rewrite = rule.rewrite_url_action ? compileRewrite(rule.rewrite_url_action) : undefined;
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
  return { name: String(rule.name ?? ''), matches, headers, rewrite, terminal, security: false, allow: false };
}

function compileResponseRule(rule: Obj, index: SnapshotIndex, warn: CompileWarning, where: string): CompiledResponseRule | undefined {
  const match: Obj = { ...(rule.match ?? {}) };
  // Response-only fields: the status code and the response headers.
  const status = match.status;
  const rspHdrs = match.rsp_hdrs;
  const locHdr = match.loc_hdr;
  delete match.status;
  delete match.rsp_hdrs;
  delete match.loc_hdr;
  const request = compileMatch(match, index, warn, where);
  if (!request) return undefined;
  const preds: ((r: ResponseInput) => boolean)[] = [];
  if (status) {
    const p = statusMatch(status);
    if (!p) {
      warn('unsupported status match', where);
      return undefined;
    }
    preds.push(p);
  }
  if (Array.isArray(rspHdrs)) {
    for (const h of rspHdrs) {
      const lname = String(h?.hdr ?? '').toLowerCase();
      const hp = headerMatch(h, (r: ResponseInput) => r.header(lname));
      if (!hp) {
        warn(`unsupported response header match ${h?.match_criteria}`, where);
        return undefined;
      }
      preds.push(hp);
    }
  }
  if (locHdr) {
    // LocationHdrMatch: the HDR_* criteria on the response's Location header.
    const lp = headerMatch(locHdr, (r: ResponseInput) => r.header('location'));
    if (!lp) {
      warn(`unsupported Location header match ${locHdr.match_criteria}`, where);
      return undefined;
    }
    preds.push(lp);
  }
  const headers = compileHeaderActions(rule.hdr_action, 'response', warn, where);
  if (rule.loc_hdr_action) headers.push(compileLocationRewrite(rule.loc_hdr_action));
  const matches =
    preds.length === 0
      ? (m: MatchInput): boolean => request(m)
      : (m: MatchInput, r: ResponseInput): boolean => {
          for (let i = 0; i < preds.length; i++) if (!preds[i](r)) return false;
          return request(m);
        };
  return { name: String(rule.name ?? ''), matches, headers };
}

/** StatusMatch: {match_criteria IS_IN | IS_NOT_IN, status_codes [], ranges [{begin, end}]}. */
function statusMatch(spec: Obj): ((r: ResponseInput) => boolean) | undefined {
  const codes = new Set<number>((Array.isArray(spec.status_codes) ? spec.status_codes : []).map(Number));
  const ranges: [number, number][] = (Array.isArray(spec.ranges) ? spec.ranges : []).map((r: Obj) => [Number(r?.begin), Number(r?.end)]);
  if (codes.size === 0 && ranges.length === 0) return undefined;
  const has = (s: number): boolean => {
    if (codes.has(s)) return true;
    for (let i = 0; i < ranges.length; i++) if (s >= ranges[i][0] && s <= ranges[i][1]) return true;
    return false;
  };
  return spec.match_criteria === 'IS_NOT_IN' ? (r) => !has(r.status) : (r) => has(r.status);
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
      return { name: String(rule.name ?? ''), matches, headers: [], rewrite: undefined, terminal: undefined, security: true, allow: true };
    default:
      warn(`unsupported security action ${a.action}`, where);
      return undefined;
  }
  return { name: String(rule.name ?? ''), matches, headers: [], rewrite: undefined, terminal, security: true, allow: false };
}

/** loc_hdr_action (HTTPRewriteLocHdrAction) as a replace of the Location header, computed from the server's Location. */
function compileLocationRewrite(a: Obj): HeaderAction {
  const protocol = a.protocol === 'HTTPS' ? 'https' : 'http';
  const defaultPort = protocol === 'https' ? 443 : 80;
  const port = a.port === undefined ? defaultPort : Number(a.port);
  const portPart = port === defaultPort ? '' : `:${port}`;
  const host = a.host ? compileUriParam(a.host) : undefined;
  const path = a.path ? compileUriParam(a.path) : undefined;
  const keepQuery = a.keep_query !== false;
  return {
    op: 'replace',
    name: 'Location',
    lname: 'location',
    value: '',
    compute: (m: VariableSource, r: ResponseInput | undefined) => {
      const original = r?.header('location');
      if (original === undefined) return undefined;
      let u: URL;
      try {
        // A relative Location is resolved against the request, so it can be rewritten too.
        u = new URL(original, `http://${m.host || 'localhost'}`);
      } catch {
        return original;
      }
      let p = path ? path(m) : u.pathname;
      if (!p.startsWith('/')) p = '/' + p;
      // Default host: the one the client asked for (the server's own name is what this hides).
      const h = host ? host(m) : m.host;
      return safeTarget(`${protocol}://${h}${portPart}${p}${keepQuery ? u.search : ''}${u.hash}`);
    },
  };
}

function compileRewrite(a: Obj): CompiledRewrite {
  return {
    host: a.host_hdr ? compileUriParam(a.host_hdr) : undefined,
    path: a.path ? compileUriParam(a.path) : undefined,
    keepQuery: a.query?.keep_query !== false,
    addString: a.query?.add_string ? String(a.query.add_string) : '',
  };
}

/** The request target after a rewrite_url_action (origin-form). */
export function rewrittenTarget(r: CompiledRewrite, m: MatchInput): string {
  let path = r.path ? r.path(m) : m.path;
  if (!path.startsWith('/')) path = '/' + path;
  let q = r.keepQuery ? m.query : '';
  if (r.addString !== '') q = q === '' ? r.addString : `${q}&${r.addString}`;
  return safeTarget(q === '' ? path : `${path}?${q}`);
}

/** The Host after a rewrite_url_action, undefined when it keeps the client's. */
export function rewrittenHost(r: CompiledRewrite, m: MatchInput): string | undefined {
  if (!r.host) return undefined;
  const h = r.host(m).replace(NOT_IN_HOST, '');
  return h === '' ? undefined : h;
}

/** Percent-encodes what may not appear in a request target or header value (controls, space). */
function safeTarget(t: string): string {
  return HAS_CONTROL.test(t) ? t.replace(CONTROLS, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()) : t;
}
const HAS_CONTROL = /[\x00-\x20\x7f]/;
const CONTROLS = /[\x00-\x20\x7f]/g;
const NOT_IN_HOST = /[\x00-\x20\x7f/?#@]/g;

function localStatus(code: unknown): number {
  const m = /(\d{3})$/.exec(String(code ?? ''));
  return m ? Number(m[1]) : 200;
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
        p = queryMatch(spec, index);
        break;
      case 'cookie': {
        const name = String(spec.key ?? '');
        // CookieMatch has one `value`; HDR_* criteria apply to the cookie's value.
        p = name === '' ? undefined : headerMatch({ ...spec, value: spec.value === undefined ? [] : [spec.value] }, (m: MatchInput) => cookieValue(m.header('cookie'), name));
        break;
      }
      case 'client_ip':
      case 'source_ip':
        // Without a true-client-IP setting both are the address of the client connection.
        p = ipMatch(spec, index, warn, where);
        break;
      case 'version': {
        const versions = new Set<string>((Array.isArray(spec.versions) ? spec.versions : []).map(String));
        p = spec.match_criteria === 'IS_NOT_IN' ? (m) => !versions.has(m.version) : (m) => versions.has(m.version);
        break;
      }
      case 'host_hdr':
        p = headerMatch(spec, (m: MatchInput) => (m.host === '' ? undefined : m.host));
        break;
      case 'hdrs':
        if (!Array.isArray(spec)) break;
        for (const h of spec) {
          const lname = String(h.hdr ?? '').toLowerCase();
          const hp = headerMatch(h, (m: MatchInput) => m.header(lname));
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

/** Keys of the string groups (and their values, for redirect STRING_GROUP tokens). */
function stringGroupEntries(refs: unknown, index: SnapshotIndex): { key: string; value: string | undefined }[] {
  if (!Array.isArray(refs)) return [];
  const groups = index.get('stringgroup');
  const out: { key: string; value: string | undefined }[] = [];
  for (const r of refs) {
    const g = groups?.get(String(r));
    for (const kv of g?.kv ?? []) if (kv?.key !== undefined) out.push({ key: String(kv.key), value: kv.value === undefined ? undefined : String(kv.value) });
  }
  return out;
}

function stringMatch(spec: Obj, index: SnapshotIndex, get: (m: MatchInput) => string, what: 'path' | 'query'): Pred | undefined {
  const insensitive = spec.match_case !== 'SENSITIVE';
  const decode = what === 'path' && spec.match_decoded_string !== false;
  const entries = stringGroupEntries(spec.string_group_refs, index);
  const raw: string[] = [...(spec.match_str ?? []).map(String), ...entries.map((e) => e.key)];
  // groupValues[i]: the string-group value of raw[i] (undefined for match_str entries).
  const groupValues: (string | undefined)[] = [...(spec.match_str ?? []).map(() => undefined), ...entries.map((e) => e.value)];
  const hasGroupValues = groupValues.some((v) => v !== undefined);
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
    // Regexes run on the case-preserved subject; the `i` flag handles case. The captures are
    // kept for redirect REGEX / REGEX_QUERY tokens.
    const t = (m: MatchInput): boolean => {
      const s = decodedOnly(get(m), decode);
      for (let i = 0; i < res.length; i++) {
        const found = res[i].exec(s);
        if (found) {
          if (what === 'path') m.pathCaptures = found;
          else m.queryCaptures = found;
          if (hasGroupValues) m.groupValue = groupValues[i];
          return true;
        }
      }
      return false;
    };
    return negate ? (m) => !t(m) : t;
  }
  const test = STRING_TESTS[kind](values);
  if (negate) return (m) => test(subject(m)) < 0;
  if (!hasGroupValues) return (m) => test(subject(m)) >= 0;
  return (m) => {
    const i = test(subject(m));
    if (i < 0) return false;
    m.groupValue = groupValues[i];
    return true;
  };
}

/** QueryMatch (QUERY_MATCH_*), or the path criteria on the query string. */
function queryMatch(spec: Obj, index: SnapshotIndex): Pred | undefined {
  switch (spec.match_criteria) {
    case 'QUERY_MATCH_EXISTS':
      return (m) => m.query !== '';
    case 'QUERY_MATCH_DOES_NOT_EXIST':
      return (m) => m.query === '';
    case 'QUERY_MATCH_CONTAINS':
      return stringMatch({ ...spec, match_criteria: 'CONTAINS', match_decoded_string: false }, index, (m) => m.query, 'query');
    case 'QUERY_MATCH_EQUALS':
      return stringMatch({ ...spec, match_criteria: 'EQUALS', match_decoded_string: false }, index, (m) => m.query, 'query');
    default:
      return stringMatch(spec, index, (m) => m.query, 'query');
  }
}

/** IpAddrMatch: addrs, prefixes, ranges and ipaddrgroups, IS_IN or IS_NOT_IN, on the client address. */
function ipMatch(spec: Obj, index: SnapshotIndex, warn: CompileWarning, where: string): Pred | undefined {
  const list = new BlockList();
  let entries = 0;
  const add = (o: Obj | undefined): void => {
    for (const a of Array.isArray(o?.addrs) ? o!.addrs : []) {
      const fam = family(a?.addr);
      if (fam) {
        list.addAddress(String(a.addr), fam);
        entries++;
      } else warn(`client_ip address ${a?.addr} is not an IP address`, where);
    }
    for (const p of Array.isArray(o?.prefixes) ? o!.prefixes : []) {
      const fam = family(p?.ip_addr?.addr);
      const mask = Number(p?.mask);
      if (fam && Number.isInteger(mask) && mask >= 0 && mask <= (fam === 'ipv4' ? 32 : 128)) {
        list.addSubnet(String(p.ip_addr.addr), mask, fam);
        entries++;
      } else warn(`client_ip prefix ${p?.ip_addr?.addr}/${p?.mask} is not valid`, where);
    }
    for (const r of Array.isArray(o?.ranges) ? o!.ranges : []) {
      const fam = family(r?.begin?.addr);
      if (fam && family(r?.end?.addr) === fam) {
        try {
          list.addRange(String(r.begin.addr), String(r.end.addr), fam);
          entries++;
        } catch {
          warn(`client_ip range ${r.begin.addr}-${r.end.addr} is not valid`, where);
        }
      } else warn(`client_ip range ${r?.begin?.addr}-${r?.end?.addr} is not valid`, where);
    }
  };
  add(spec);
  const groups = index.get('ipaddrgroup');
  for (const ref of Array.isArray(spec.group_refs) ? spec.group_refs : []) {
    const g = groups?.get(String(ref));
    if (g) add(g);
    else warn(`ipaddrgroup ${ref} is not in the snapshot`, where);
  }
  if (entries === 0 && !Array.isArray(spec.group_refs)) return undefined;
  const has = (m: MatchInput): boolean => {
    const ip = plainIp(m.clientIp);
    const fam = family(ip);
    return fam !== undefined && list.check(ip, fam);
  };
  return spec.match_criteria === 'IS_NOT_IN' ? (m) => !has(m) : has;
}

function family(addr: unknown): 'ipv4' | 'ipv6' | undefined {
  if (typeof addr !== 'string') return undefined;
  return isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
}

/** The value of cookie `name` in a Cookie header, undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
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
/** Each returns the index of the first value that matches, -1 when none does (plain loops: no callback allocated per request). */
const STRING_TESTS: Record<Exclude<StringKind, 'regex'>, (values: string[]) => (s: string) => number> = {
  begins: (values) => (s) => {
    for (let i = 0; i < values.length; i++) if (s.startsWith(values[i])) return i;
    return -1;
  },
  contains: (values) => (s) => {
    for (let i = 0; i < values.length; i++) if (s.includes(values[i])) return i;
    return -1;
  },
  ends: (values) => (s) => {
    for (let i = 0; i < values.length; i++) if (s.endsWith(values[i])) return i;
    return -1;
  },
  equals: (values) => (s) => values.indexOf(s),
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

function headerMatch<T>(spec: Obj, get: (m: T) => string | undefined): ((m: T) => boolean) | undefined {
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
    const r = test(insensitive ? v.toLowerCase() : v) >= 0;
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

/**
 * URIParam tokens → a function building the string from the request. HOST and PATH take labels
 * or segments start_index..end_index; REGEX and REGEX_QUERY take the capture groups
 * start_index..end_index of the rule's path or query REGEX_MATCH; STRING_GROUP is the value of
 * the string-group key the rule's path matched; STRING is str_value.
 */
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
      case 'URI_TOKEN_TYPE_REGEX':
        return (m) => captureGroups(m.pathCaptures, s, e);
      case 'URI_TOKEN_TYPE_REGEX_QUERY':
        return (m) => captureGroups(m.queryCaptures, s, e);
      case 'URI_TOKEN_TYPE_STRING_GROUP':
        return (m) => m.groupValue ?? '';
      default: {
        const v = String(t.str_value ?? '');
        return () => v;
      }
    }
  });
  return (m) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) out += parts[i](m);
    return out;
  };
}

/** Capture groups start..end (1-based, default all) of a regex match, concatenated. */
function captureGroups(found: RegExpExecArray | undefined, start: unknown, end: unknown): string {
  if (!found) return '';
  const s = typeof start === 'number' ? Math.max(1, start) : 1;
  const e = typeof end === 'number' ? Math.min(end, found.length - 1) : found.length - 1;
  let out = '';
  for (let i = s; i <= e; i++) out += found[i] ?? '';
  return out;
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
