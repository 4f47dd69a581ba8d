// The heads the proxy writes: the request to the server (hop-by-hop headers dropped, policy
// header actions applied, X-Forwarded-*) and the response to the client. Built as one latin1
// string so each goes out in a single write.
import type { HeaderAction, ResponseInput } from '../policy.js';
import type { Decision, RequestFacts } from '../dispatch.js';
import { dropsHeader, hasCookieActions, headerLines, keepSetCookie, addedSetCookieLines, requestHeaderLines } from '../header-actions.js';
import type { HttpLimits } from '../routing.js';
import type { RequestHead, ResponseHead } from './parse.js';

const enum H {
  Keep = 0,
  /** Hop-by-hop (RFC 9110 §7.6.1): never forwarded. */
  Drop = 1,
  Xff = 2,
  Xfp = 3,
  TransferEncoding = 4,
}

const SPECIAL = new Map<string, H>([
  ['connection', H.Drop],
  ['keep-alive', H.Drop],
  ['proxy-connection', H.Drop],
  ['te', H.Drop],
  ['upgrade', H.Drop],
  ['x-forwarded-for', H.Xff],
  ['x-forwarded-proto', H.Xfp],
  ['x-forwarded-port', H.Xfp],
  ['transfer-encoding', H.TransferEncoding],
]);

export function buildUpstreamHead(req: RequestHead, facts: RequestFacts, d: Decision, limits: HttpLimits, upgrade: boolean): string {
  const actions = d.headers;
  const newHost = d.rewriteHost;
  // Absolute-form (`GET http://host/p`): the server gets origin-form, and the authority wins over Host (RFC 9112 §3.2.2).
  const absolute = req.target.charCodeAt(0) !== 47 /* '/' */ && req.target !== '*';
  let h: string;
  if (d.rewriteTarget !== undefined) h = `${req.method} ${d.rewriteTarget} HTTP/1.1\r\n`;
  else if (absolute) h = `${req.method} ${facts.path}${facts.query === '' ? '' : '?' + facts.query} HTTP/1.1\r\n`;
  else h = `${req.method} ${req.target} HTTP/1.1\r\n`;
  if (newHost !== undefined) h += `Host: ${newHost}\r\n`;
  else if (absolute) h += `Host: ${authorityOf(req.target)}\r\n`;
  const { raw, lower, connectionTokens } = req;
  const cookies = actions !== undefined && hasCookieActions(actions);
  let xff: string | undefined;
  let cookie: string | undefined;
  for (let i = 0; i < lower.length; i++) {
    const ln = lower[i];
    const kind = SPECIAL.get(ln) ?? H.Keep;
    if (kind === H.Drop || ((absolute || newHost !== undefined) && ln === 'host')) continue;
    if (kind === H.Xff && limits.xff) {
      xff = xff === undefined ? raw[2 * i + 1] : `${xff}, ${raw[2 * i + 1]}`;
      continue;
    }
    if (kind === H.Xfp && limits.xfp) continue;
    if (connectionTokens !== undefined && kind !== H.TransferEncoding && connectionTokens.includes(ln)) continue;
    if (actions !== undefined) {
      if (cookies && ln === 'cookie') {
        // Cookie actions edit single cookies: the Cookie lines are rebuilt as one below.
        cookie = cookie === undefined ? raw[2 * i + 1] : `${cookie}; ${raw[2 * i + 1]}`;
        continue;
      }
      if (dropsHeader(actions, ln)) continue;
    }
    h += `${raw[2 * i]}: ${raw[2 * i + 1]}\r\n`;
  }
  if (actions !== undefined) h += requestHeaderLines(actions, facts, newHost !== undefined, cookies, cookie);
  if (req.host === undefined && facts.host !== '' && newHost === undefined) h += `Host: ${facts.host}\r\n`;
  if (limits.xff) h += `X-Forwarded-For: ${xff === undefined ? facts.clientIp : `${xff}, ${facts.clientIp}`}\r\n`;
  if (limits.xfp) h += `X-Forwarded-Proto: ${facts.secure ? 'https' : 'http'}\r\nX-Forwarded-Port: ${facts.port}\r\n`;
  if (upgrade) h += `Connection: Upgrade\r\nUpgrade: ${req.upgrade}\r\n`;
  return h + '\r\n';
}

function authorityOf(target: string): string {
  const start = target.indexOf('://') + 3;
  const slash = target.indexOf('/', start);
  const q = target.indexOf('?', start);
  const end = slash < 0 ? (q < 0 ? target.length : q) : q < 0 ? slash : Math.min(slash, q);
  return target.slice(start, end);
}

/** Headers that describe the message framing: a response policy leaves them alone. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

export function buildClientHead(
  head: ResponseHead,
  setCookie: string | undefined,
  switching: boolean,
  close: boolean,
  keepAlive10 = false,
  dechunked = false,
  actions?: HeaderAction[],
  facts?: RequestFacts,
  response?: ResponseInput,
): string {
  let h = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  const { raw, lower, connectionTokens } = head;
  for (let i = 0; i < lower.length; i++) {
    const ln = lower[i];
    const kind = SPECIAL.get(ln) ?? H.Keep;
    if (kind === H.Drop) {
      if (switching && ln === 'upgrade') h += `Upgrade: ${raw[2 * i + 1]}\r\n`;
      continue;
    }
    if (kind === H.TransferEncoding && dechunked) continue;
    if (connectionTokens !== undefined && kind !== H.TransferEncoding && connectionTokens.includes(ln)) continue;
    // Response policies may not touch the framing (Content-Length / Transfer-Encoding).
    if (actions !== undefined && kind !== H.TransferEncoding && ln !== 'content-length') {
      if (dropsHeader(actions, ln)) continue;
      if (ln === 'set-cookie' && !keepSetCookie(actions, raw[2 * i + 1])) continue;
    }
    h += `${raw[2 * i]}: ${raw[2 * i + 1]}\r\n`;
  }
  if (actions !== undefined && facts !== undefined) {
    h += headerLines(actions, facts, response, FRAMING);
    h += addedSetCookieLines(actions);
  }
  if (setCookie !== undefined) h += setCookie + '\r\n';
  if (switching) h += 'Connection: Upgrade\r\n';
  else if (close) h += 'Connection: close\r\n';
  else if (keepAlive10) h += 'Connection: keep-alive\r\n';
  return h + '\r\n';
}
