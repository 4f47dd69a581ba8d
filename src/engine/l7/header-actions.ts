// Avi hdr_action (HTTPHdrAction) compiled once per snapshot, and applied to the heads the proxy
// writes: add / replace / remove a header, with a literal value or a variable
// (hdr.value.var: client IP, VS IP/port, another header, TLS facts, a request ID), and cookie
// actions (`cookie: {name, value}`) that work on one cookie inside Cookie (request) or on the
// Set-Cookie lines (response). Nothing here runs unless a matching rule carries actions.
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { MatchInput, ResponseInput } from './policy.js';

/** What a variable can read besides the match input. */
export interface VariableSource extends MatchInput {
  /** SNI name of the TLS connection, '' when none. */
  sni: string;
  /** The VIP the client connected to. */
  vip: string;
  /** The client's TLS socket, when the request came over TLS. */
  tlsSocket: { getProtocol(): string | null; getCipher(): { name: string } } | undefined;
  /** Set on first use by HTTP_POLICY_VAR_REQUEST_ID, cleared per request. */
  requestId: string | undefined;
}

export interface HeaderAction {
  op: 'add' | 'replace' | 'remove';
  name: string;
  lname: string;
  /** Literal value (or the cookie's value for cookie actions). */
  value: string;
  /** Per-request value (a variable, a Location rewrite); undefined means nothing to write. */
  compute?: (m: VariableSource, r: ResponseInput | undefined) => string | undefined;
  /** Cookie action: the cookie name; the action works on that cookie, not on the whole header. */
  cookie?: string;
}

export type CompileWarning = (msg: string, where: string) => void;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE = /[\r\n\0]/g;
const ACTIONS: Record<string, HeaderAction['op']> = { HTTP_ADD_HDR: 'add', HTTP_REPLACE_HDR: 'replace', HTTP_REMOVE_HDR: 'remove' };

/** The variables we can evaluate; the others (client certificates, user name) have no value here. */
const VARIABLES: Record<string, (val: string) => (m: VariableSource) => string | undefined> = {
  HTTP_POLICY_VAR_CLIENT_IP: () => (m) => plainIp(m.clientIp),
  HTTP_POLICY_VAR_SOURCE_IP: () => (m) => plainIp(m.clientIp),
  HTTP_POLICY_VAR_VS_IP: () => (m) => plainIp(m.vip),
  HTTP_POLICY_VAR_VS_PORT: () => (m) => String(m.port),
  HTTP_POLICY_VAR_HTTP_HDR: (val) => {
    const lname = val.toLowerCase();
    return (m) => m.header(lname);
  },
  HTTP_POLICY_VAR_SSL_SERVER_NAME: () => (m) => (m.sni === '' ? undefined : m.sni),
  HTTP_POLICY_VAR_SSL_PROTOCOL: () => (m) => m.tlsSocket?.getProtocol() ?? undefined,
  HTTP_POLICY_VAR_SSL_CIPHER: () => (m) => m.tlsSocket?.getCipher()?.name,
  HTTP_POLICY_VAR_REQUEST_ID: () => (m) => (m.requestId ??= nextRequestId()),
};

/** Variables Avi defines that have no value on a Portico SE (no client certificates, no user authentication). */
const UNAVAILABLE_VARIABLES = new Set([
  'HTTP_POLICY_VAR_USER_NAME',
  'HTTP_POLICY_VAR_SSL_CLIENT_FINGERPRINT',
  'HTTP_POLICY_VAR_SSL_CLIENT_SERIAL',
  'HTTP_POLICY_VAR_SSL_CLIENT_ISSUER',
  'HTTP_POLICY_VAR_SSL_CLIENT_SUBJECT',
  'HTTP_POLICY_VAR_SSL_CLIENT_RAW',
  'HTTP_POLICY_VAR_SSL_CLIENT_VERSION',
  'HTTP_POLICY_VAR_SSL_CLIENT_SIGALG',
  'HTTP_POLICY_VAR_SSL_CLIENT_NOTVALIDBEFORE',
  'HTTP_POLICY_VAR_SSL_CLIENT_NOTVALIDAFTER',
  'HTTP_POLICY_VAR_SSL_CLIENT_ESCAPED',
]);

const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
function nextRequestId(): string {
  return `${ID_PREFIX}-${(++idCounter).toString(36)}`;
}

/** An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: its plain IPv4 form (policy matches use it too). */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

const clean = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.replace(UNSAFE, ''));

/** hdr_action[] → actions. `side` decides what a cookie action works on (Cookie or Set-Cookie). */
export function compileHeaderActions(actions: unknown, side: 'request' | 'response', warn: CompileWarning, where: string): HeaderAction[] {
  if (!Array.isArray(actions)) return [];
  const out: HeaderAction[] = [];
  for (const a of actions) {
    const op = ACTIONS[String(a?.action)] ?? 'add';
    const cookie = a?.cookie;
    if (cookie && typeof cookie === 'object') {
      const name = String(cookie.name ?? '');
      if (!TOKEN.test(name)) {
        warn(`cookie action with invalid cookie name "${name}"`, where);
        continue;
      }
      const header = side === 'request' ? 'Cookie' : 'Set-Cookie';
      out.push({ op, name: header, lname: header.toLowerCase(), value: String(cookie.value ?? '').replace(/[\r\n\0;]/g, ''), cookie: name });
      continue;
    }
    const name = String(a?.hdr?.name ?? '');
    if (!TOKEN.test(name)) {
      warn(`header action with invalid header name "${name}"`, where);
      continue;
    }
    const v = a.hdr?.value ?? {};
    const action: HeaderAction = { op, name, lname: name.toLowerCase(), value: String(v.val ?? '').replace(UNSAFE, '') };
    if (v.var !== undefined && op !== 'remove') {
      const make = VARIABLES[String(v.var)];
      if (make) {
        const get = make(String(v.val ?? ''));
        action.compute = (m) => clean(get(m));
      } else {
        // Client-certificate and user variables have no value here: the header is not written.
        if (!UNAVAILABLE_VARIABLES.has(String(v.var))) warn(`unknown header variable ${v.var}`, where);
        action.compute = () => undefined;
      }
    }
    out.push(action);
  }
  return out;
}

function valueOf(a: HeaderAction, m: VariableSource, r: ResponseInput | undefined): string | undefined {
  return a.compute === undefined ? a.value : a.compute(m, r);
}

/** Whether the original lines of header `ln` are left out: a replace or remove names it (cookie actions edit it instead). */
export function dropsHeader(actions: HeaderAction[], ln: string): boolean {
  for (let i = 0; i < actions.length; i++) if (actions[i].lname === ln && actions[i].op !== 'add' && actions[i].cookie === undefined) return true;
  return false;
}

/** Whether some action edits cookies (the Cookie header is rebuilt / Set-Cookie lines filtered). */
export function hasCookieActions(actions: HeaderAction[]): boolean {
  for (let i = 0; i < actions.length; i++) if (actions[i].cookie !== undefined) return true;
  return false;
}

/** Header lines for the adds and the first replace of each name (skipping `skip`), CRLF-terminated. */
export function headerLines(actions: HeaderAction[], m: VariableSource, r: ResponseInput | undefined, skip?: Set<string>): string {
  let out = '';
  let replaced: Set<string> | undefined;
  for (const a of actions) {
    if (a.cookie !== undefined || a.op === 'remove' || (skip !== undefined && skip.has(a.lname))) continue;
    if (a.op === 'replace') {
      // Replace sets the header whether or not the message had it (AKO rewrites Host this way).
      if (replaced?.has(a.lname)) continue;
      (replaced ??= new Set()).add(a.lname);
    }
    const v = valueOf(a, m, r);
    if (v !== undefined) out += `${a.name}: ${v}\r\n`;
  }
  return out;
}

/** A rewrite_url_action's Host wins over a header action on Host. */
const HOST = new Set(['host']);

/**
 * The request lines the actions write (HTTP/1 and HTTP/2 clients alike): adds and replaces, Host
 * left to a URL rewrite when `hostRewritten`, then with `cookies` (the actions edit cookies) the
 * Cookie header rebuilt from the client's `cookie` value.
 */
export function requestHeaderLines(actions: HeaderAction[], m: VariableSource, hostRewritten: boolean, cookies: boolean, cookie: string | undefined): string {
  let out = headerLines(actions, m, undefined, hostRewritten ? HOST : undefined);
  if (cookies) {
    const c = rewriteCookieHeader(cookie, actions);
    if (c !== undefined) out += `Cookie: ${c}\r\n`;
  }
  return out;
}

/** The same for HTTP/2 response headers (an object of lower-case names). */
export function applyToHeaderObject(out: Record<string, string | string[] | number | undefined>, actions: HeaderAction[], m: VariableSource, r: ResponseInput, skip: Set<string>): void {
  let replaced: Set<string> | undefined;
  for (const a of actions) {
    const ln = a.lname;
    if (a.cookie !== undefined || skip.has(ln)) continue;
    if (a.op === 'remove') {
      delete out[ln];
      continue;
    }
    const v = valueOf(a, m, r);
    if (a.op === 'replace') {
      if (replaced?.has(ln)) continue;
      (replaced ??= new Set()).add(ln);
      if (v === undefined) delete out[ln];
      else out[ln] = v;
    } else if (v !== undefined) {
      const prev = out[ln];
      out[ln] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : ln === 'set-cookie' ? [String(prev), v] : `${prev}, ${v}`;
    }
  }
  if (hasCookieActions(actions)) {
    const prev = out['set-cookie'];
    const lines = (prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)]).filter((l) => keepSetCookie(actions, l));
    pushAddedCookies(actions, lines);
    if (lines.length === 0) delete out['set-cookie'];
    else out['set-cookie'] = lines;
  }
}

// ---- cookies --------------------------------------------------------------------------------

/** Request: the Cookie header value after the cookie actions (removes and replaces drop the cookie; adds and replaces append it), undefined when empty. */
function rewriteCookieHeader(original: string | undefined, actions: HeaderAction[]): string | undefined {
  const pairs: string[] = [];
  if (original !== undefined) {
    for (const part of original.split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq).trim();
      if (!cookieDropped(actions, name)) pairs.push(p);
    }
  }
  pushAddedCookies(actions, pairs);
  return pairs.length === 0 ? undefined : pairs.join('; ');
}

/** Response: whether a Set-Cookie value survives the cookie actions (removed or replaced cookies do not). */
export function keepSetCookie(actions: HeaderAction[], setCookie: string): boolean {
  const eq = setCookie.indexOf('=');
  return eq < 0 || !cookieDropped(actions, setCookie.slice(0, eq).trim());
}

/** Response: the Set-Cookie lines (CRLF-terminated) the cookie actions add (adds and replaces). */
export function addedSetCookieLines(actions: HeaderAction[]): string {
  let out = '';
  for (const a of actions) if (a.cookie !== undefined && a.op !== 'remove') out += `Set-Cookie: ${a.cookie}=${a.value}\r\n`;
  return out;
}

/** `name=value` of the cookies the cookie actions add or replace (the same for Cookie and Set-Cookie), appended to `out`. */
function pushAddedCookies(actions: HeaderAction[], out: string[]): string[] {
  for (const a of actions) if (a.cookie !== undefined && a.op !== 'remove') out.push(`${a.cookie}=${a.value}`);
  return out;
}

function cookieDropped(actions: HeaderAction[], name: string): boolean {
  for (let i = 0; i < actions.length; i++) if (actions[i].cookie === name && actions[i].op !== 'add') return true;
  return false;
}
