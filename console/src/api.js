// The controller's REST API, as the console uses it: same origin, session cookie + CSRF token,
// X-Avi-Tenant for the selected tenant, `{error}` bodies turned into ApiError.

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

const state = { tenant: '', onUnauthorized: () => {} };

export function currentTenant() {
  if (!state.tenant) state.tenant = localStorage.getItem('portico.tenant') || 'admin';
  return state.tenant;
}
export function setTenant(name) {
  state.tenant = name;
  localStorage.setItem('portico.tenant', name);
}
/** Called when the controller answers 401 to a logged-in call (session expired or revoked). */
export function onUnauthorized(fn) { state.onUnauthorized = fn; }

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

async function errorMessage(res) {
  const text = await res.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string') return body.error;
    if (body && typeof body.message === 'string') return body.message;
  } catch { /* not JSON */ }
  return text.trim() || `${res.status} ${res.statusText}`;
}

export async function request(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json', 'X-Avi-Tenant': currentTenant() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRFToken'] = cookie('csrftoken');
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const message = await errorMessage(res);
    if ((res.status === 401 || res.status === 419) && !quiet401) state.onUnauthorized(message);
    throw new ApiError(res.status, message, path);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

/** The `/api/...` part of an absolute URL (the controller's `next` links and refs are absolute). */
export function apiPath(url) {
  const i = url.indexOf('/api/');
  return i >= 0 ? url.slice(i) : url;
}

/** Every object of a collection (follows `next`), with `#name` on refs. */
export async function list(type, params = {}) {
  const q = new URLSearchParams({ include_name: 'true', page_size: '200', ...params });
  let path = `/api/${type}?${q}`;
  const out = [];
  for (let pages = 0; path && pages < 50; pages++) {
    const page = await get(path);
    out.push(...(page.results ?? []));
    path = page.next ? apiPath(page.next) : '';
  }
  return out;
}

export const getObject = (type, uuid) => get(`/api/${type}/${encodeURIComponent(uuid)}?include_name=true`);

/** GET that yields null on 404/405/501: endpoints from later issues may be absent on this controller. */
export async function getOptional(path) {
  try {
    return await get(path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) return null;
    throw e;
  }
}

const ABSOLUTE_REF = /^https?:\/\/[^/]+\/api\/[a-z-]+\//;

/** Refs as the controller wants them on write: `/api/<type>/<uuid>` (no origin, no `#name`). */
export function writeRefs(value) {
  if (Array.isArray(value)) return value.map(writeRefs);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = writeRefs(v);
    return out;
  }
  if (typeof value === 'string' && ABSOLUTE_REF.test(value)) {
    const noName = value.split('#')[0];
    return apiPath(noName);
  }
  return value;
}

export async function login(username, password) {
  const res = await fetch('/login', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res), '/login');
  return res.json().catch(() => ({}));
}

export async function logout() {
  await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRFToken': cookie('csrftoken') } }).catch(() => {});
}
