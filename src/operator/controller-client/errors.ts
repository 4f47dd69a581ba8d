// Controller errors by class, the way AKO's REST layer reacts to them (ako-behaviour.md §1.3):
// fast retry for conflicts and 5xx, slow retry for "No available free IPs" and missing
// infrastructure, no retry for other bad requests.

export type ErrorClass =
  | 'ip-exhausted' // 400 No available free IPs → slow retry
  | 'missing-infra' // VRF / network / tenant not found, upgrade in progress → slow retry
  | 'conflict' // 409, 412 → fast retry
  | 'server' // 5xx, 408 → fast retry
  | 'not-found' // 404 → fast retry (re-created)
  | 'auth' // 401 → fast retry after a new login
  | 'bad-credentials' // 401 Invalid credentials at login → stop and report
  | 'network' // connection refused, timeout → slow retry
  | 'invalid'; // other 4xx → no retry

export type RetryKind = 'fast' | 'slow' | 'none';

export class ControllerError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly method: string,
    readonly path: string,
    readonly errorClass: ErrorClass,
  ) {
    super(`${method} ${path}: ${status ? `${status} ` : ''}${detail}`);
    this.name = 'ControllerError';
  }

  get retry(): RetryKind {
    return retryOf(this.errorClass);
  }
}

export function retryOf(c: ErrorClass): RetryKind {
  switch (c) {
    case 'ip-exhausted': case 'missing-infra': case 'network': case 'bad-credentials': return 'slow';
    case 'conflict': case 'server': case 'not-found': case 'auth': return 'fast';
    default: return 'none';
  }
}

const MISSING_INFRA = /VrfContext (object )?not found|Network object not found|Tenant '.*' does not exist|Configuration is disallowed during upgrade|Cloud object not found|ServiceEngineGroup object not found/i;

export function classify(status: number, detail: string): ErrorClass {
  if (status === 0) return 'network';
  if (/No available free IPs/i.test(detail)) return 'ip-exhausted';
  if (MISSING_INFRA.test(detail)) return 'missing-infra';
  if (status === 401) return /invalid credentials/i.test(detail) ? 'bad-credentials' : 'auth';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 408 || status >= 500) return 'server';
  if (status === 404) return 'not-found';
  return 'invalid';
}
