// The SE's side of the controller protocol (docs/engine-protocol.md): join, long-poll for
// config, heartbeat. undici's fetch, with the controller's CA when it has its own certificate;
// errors carry the HTTP status.
import { Agent, fetch, type Response } from 'undici';
import type { Identity } from './files.js';

export class ControllerError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export interface JoinRequest { token: string; name?: string; hostname?: string; version: string; vip_mode: string; interface?: string }
export interface JoinResponse { se_uuid: string; se_secret: string; se_group_uuid: string; heartbeat_interval_ms: number; name: string }

async function failure(res: Response, what: string): Promise<ControllerError> {
  let msg = `${res.status}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (body?.error) msg += ` ${body.error}`;
  } catch {
    // not JSON
  }
  return new ControllerError(`${what}: ${msg}`, res.status);
}

export class ControllerClient {
  private readonly dispatcher: Agent;
  /** The controller(s) as given (the identity is kept per this value). */
  readonly base: string;
  /** Replicated controllers: `URL,URL,…`; a request that cannot reach one tries the next. */
  private readonly bases: string[];
  private current = 0;

  /** `ca`: PEM of the CA (or self-signed certificate) the controller's TLS certificate is checked against. */
  constructor(base: string, ca?: string) {
    this.bases = base.split(',').map((b) => b.trim().replace(/\/+$/, '')).filter(Boolean);
    this.base = this.bases.join(',');
    this.dispatcher = new Agent({ connect: ca ? { ca } : {}, keepAliveTimeout: 70_000 });
  }

  /** The controller answering now. */
  get active(): string { return this.bases[this.current]!; }

  /** fetch on the active controller; on a network error, the next one (each once), unless the caller aborted. */
  private async send(path: string, init: Parameters<typeof fetch>[1] & { signal: AbortSignal }): Promise<Response> {
    let last: unknown;
    for (let tried = 0; tried < this.bases.length; tried++) {
      const at = this.current;
      try {
        return await fetch(this.bases[at] + path, { ...init, dispatcher: this.dispatcher });
      } catch (err) {
        if (init.signal.aborted) throw err;
        last = err;
        if (this.current === at) this.current = (at + 1) % this.bases.length; // unless a concurrent call moved on
      }
    }
    throw last;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    const res = await this.send('/api/se/join', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(15_000),
    });
    if (!res.ok) throw await failure(res, 'join');
    return (await res.json()) as JoinResponse;
  }

  /** Long-poll: the snapshot text when newer than `version`, undefined when the wait ran out. */
  async config(id: Identity, version: number, waitSeconds: number, signal?: AbortSignal): Promise<string | undefined> {
    const timeout = AbortSignal.timeout((waitSeconds + 15) * 1000);
    const res = await this.send(`/api/se/${encodeURIComponent(id.se_uuid)}/config?version=${version}&wait=${waitSeconds}`, {
      headers: { authorization: `Bearer ${id.se_secret}` },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (res.status === 204) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await failure(res, 'config');
    return await res.text();
  }

  async heartbeat(id: Identity, body: object): Promise<{ latest_version?: number; realtime_metrics?: boolean }> {
    const res = await this.send(`/api/se/${encodeURIComponent(id.se_uuid)}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${id.se_secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw await failure(res, 'heartbeat');
    return (await res.json()) as { latest_version?: number; realtime_metrics?: boolean };
  }
}
