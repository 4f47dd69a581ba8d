// The real controller for operator tests: `portico controller` as a child process on this
// suite's loopback range, with a fresh data dir; ended by PID in after().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { runPortico, type CliProcess } from '../../support/cli.js';

export const ADMIN_PASSWORD = 'operator-test-pw-1';

export interface TestController {
  url: string;
  proc: CliProcess;
  /** A REST call with basic auth; returns status and JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** Starts the controller, or resolves undefined with the reason when it cannot run here (not built yet). */
export async function startTestController(host: string, vipCidr: string): Promise<TestController | { unavailable: string }> {
  const data = mkdtempSync(join(tmpdir(), 'portico-op-ctl-'));
  const proc = runPortico(['controller', '--listen', `${host}:0`, '--data', data, '--vip-cidr', vipCidr], { env: { PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const stop = async () => { await proc.stop(); rmSync(data, { recursive: true, force: true }); };
  let url: string;
  try {
    const line = await proc.waitForLine(/https?:\/\/[\d.]+:\d+/, 60_000);
    url = /https?:\/\/[\d.]+:\d+/.exec(line)![0];
  } catch (err) {
    await stop();
    return { unavailable: (err as Error).message.split('\n').slice(0, 3).join(' ') };
  }
  const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method, headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  // Ready when the API answers.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api('GET', '/api/cluster/runtime').catch(() => undefined);
    if (r?.status === 200) break;
    if (Date.now() > deadline) { await stop(); return { unavailable: 'controller API not ready within 30 s' }; }
    await new Promise((res) => setTimeout(res, 100));
  }
  return { url, proc, api, stop };
}

/** Polls `fn` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * A suite's controller: started in before(), stopped (by PID) in after(). `skip` says why it is
 * missing when it could not start (not built yet).
 */
export function controllerSuite(host: string, vipCidr: string): { readonly ctl: TestController | undefined; readonly skip: string | undefined } {
  const s: { ctl: TestController | undefined; skip: string | undefined } = { ctl: undefined, skip: undefined };
  before(async () => {
    const c = await startTestController(host, vipCidr);
    if ('unavailable' in c) s.skip = `controller not available: ${c.unavailable}`;
    else s.ctl = c;
  });
  after(async () => { await s.ctl?.stop(); });
  return s;
}
