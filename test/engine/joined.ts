// A real controller (in this process) and a real `portico engine` process joined to it with a
// token, for tests that drive the SE through the REST API. Addresses: 127.102.0.0/16.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { startEngineProcess, type EngineProcess } from './process.js';

const PASSWORD = 'joined-se-test-pw';

export interface JoinedSe {
  ctl: Controller;
  se: EngineProcess;
  /** Base URL of the SE's admin server (GET /metrics). */
  metricsUrl: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  create(type: string, body: Record<string, unknown>): Promise<any>;
  vsRuntime(uuid: string): Promise<any>;
  stop(): Promise<void>;
}

/** `net` is a /16-style prefix such as `127.102.1`: controller on .1, VIPs in `net`.128/25. */
export async function startJoinedSe(net: string): Promise<JoinedSe> {
  const ctlDir = mkdtempSync(join(tmpdir(), 'portico-ctl-'));
  const seDir = mkdtempSync(join(tmpdir(), 'portico-se-'));
  let ctl: Controller | undefined;
  let se: EngineProcess | undefined;
  const stop = async (): Promise<void> => {
    await se?.stop();
    await ctl?.close();
    rmSync(ctlDir, { recursive: true, force: true });
    rmSync(seDir, { recursive: true, force: true });
  };
  try {
    ctl = await startController({ listen: `${net}.1:0`, dataDir: ctlDir, vipCidr: `${net}.128/25`, adminPassword: PASSWORD });
    const base = ctl.url;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const create = async (type: string, body: Record<string, unknown>) => {
      const r = await api('POST', `/api/${type}`, body);
      if (r.status !== 201) throw new Error(`POST /api/${type}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const group = (await api('GET', '/api/serviceenginegroup?name=Default-Group')).body.results[0];
    const token = (await api('POST', `/api/serviceenginegroup/${group.uuid}/jointoken`, {})).body.token as string;
    se = startEngineProcess(['--controller', base, '--join-token', token, '--data', seDir, '--name', `se-${net}`, '--metrics-listen', `${net}.1:0`]);
    await se.waitFor((l) => l.msg === 'joined the controller', 'join');
    const metricsUrl = (await se.waitFor((l) => typeof l.url === 'string' && /metrics at/.test(l.msg), 'metrics line')).url as string;
    return { ctl, se, metricsUrl, api, create, vsRuntime: async (uuid) => (await api('GET', `/api/virtualservice/${uuid}/runtime`)).body, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
