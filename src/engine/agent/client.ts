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
  readonly base: string;

  /** `ca`: PEM of the CA (or self-signed certificate) the controller's TLS certificate is checked against. */
  constructor(base: string, ca?: string) {
    this.base = base.replace(/\/+$/, '');
    this.dispatcher = new Agent({ connect: ca ? { ca } : {}, keepAliveTimeout: 70_000 });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    const res = await fetch(`${this.base}/api/se/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(15_000),
      dispatcher: this.dispatcher,
    });
    if (!res.ok) throw await failure(res, 'join');
    return (await res.json()) as JoinResponse;
  }

  /** Long-poll: the snapshot text when newer than `version`, undefined when the wait ran out. */
  async config(id: Identity, version: number, waitSeconds: number, signal?: AbortSignal): Promise<string | undefined> {
    const timeout = AbortSignal.timeout((waitSeconds + 15) * 1000);
    const res = await fetch(`${this.base}/api/se/${encodeURIComponent(id.se_uuid)}/config?version=${version}&wait=${waitSeconds}`, {
      headers: { authorization: `Bearer ${id.se_secret}` },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      dispatcher: this.dispatcher,
    });
    if (res.status === 204) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await failure(res, 'config');
    return await res.text();
  }

  async heartbeat(id: Identity, body: object): Promise<{ latest_version?: number }> {
    const res = await fetch(`${this.base}/api/se/${encodeURIComponent(id.se_uuid)}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${id.se_secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
      dispatcher: this.dispatcher,
    });
    if (!res.ok) throw await failure(res, 'heartbeat');
    return (await res.json()) as { latest_version?: number };
  }
}
