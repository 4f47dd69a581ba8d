// What the console tests run against: a real controller (`portico controller`) on the console's
// own loopback range, its REST API for checks, and service engines joined with a token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPortico, type CliProcess } from '../support/cli.js';

export const ADMIN_PASSWORD = 'console-test-Secret-1';

export interface Controller {
  origin: string;
  proc: CliProcess;
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Starts `portico controller` on `host:0` with a fresh data dir and waits for its URL. */
export async function startController(host: string): Promise<Controller> {
  const data = mkdtempSync(join(tmpdir(), 'portico-console-ctl-'));
  const proc = runPortico(['controller', '--listen', `${host}:0`, '--data', data], { env: { PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const stop = async () => { await proc.stop(); rmSync(data, { recursive: true, force: true }); };
  try {
    const line = await proc.waitForLine(new RegExp(`https?://${host.replace(/\./g, '\\.')}:\\d+`), 60_000);
    const origin = new RegExp(`https?://${host.replace(/\./g, '\\.')}:\\d+`).exec(line)![0];
    const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(origin + path, {
        method,
        headers: { Authorization: auth, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    await waitFor(async () => (await api('GET', '/api/cloud?name=Default-Cloud')).status === 200, 30_000, 'controller API ready');
    return { origin, proc, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The one object of `type` called `name` (with `#name` refs), or undefined. */
export async function byName(ctl: Controller, type: string, name: string): Promise<any> {
  const r = await ctl.api('GET', `/api/${type}?name=${encodeURIComponent(name)}&include_name=true`);
  return r.body?.results?.[0];
}

/** Starts one `portico engine` that joins with `token` (from the console or the API). */
export function startEngine(ctl: Controller, token: string, name: string): { proc: CliProcess; stop(): Promise<void> } {
  const data = mkdtempSync(join(tmpdir(), 'portico-console-se-'));
  const proc = runPortico(['engine', '--controller', ctl.origin, '--join-token', token, '--name', name, '--data', data]);
  return { proc, stop: async () => { await proc.stop(); rmSync(data, { recursive: true, force: true }); } };
}

/** Polls `check` until it is true, or fails after `ms` with `what` and the last error. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
