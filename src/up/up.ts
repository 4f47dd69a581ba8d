// `portico up`: the controller, N local service engines and the operator on a manifest folder,
// one supervised process tree (shared/design/INTERFACES.md).
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { Supervisor, type ChildSpec } from './supervisor.js';
import { lockDataDir } from './lock.js';
import { ApiClient, waitFor } from './api-client.js';

export interface UpOptions {
  manifests: string;
  data: string;
  listen: string;
  engines: number;
  vipCidr: string;
  values?: string;
  operatorListen?: string;
  quickstartBackends?: boolean;
  /** Where the `Portico is up` banner and the change lines go. */
  out?: (line: string) => void;
  /** Settings of the generated operator values (used by `portico demo`). */
  clusterName?: string;
  cloudName?: string;
  seGroupName?: string;
  vipNetwork?: string;
  vrfName?: string;
  /** Engines per SE group (default: `engines` engines in Default-Group). */
  engineGroups?: Array<{ seGroup: string; count: number; namePrefix: string }>;
  /** Runs once the controller answers, before engines and operator start (the demo's lab set-up). */
  prepare?: (api: ApiClient) => Promise<void>;
}

export interface RunningUp {
  controllerUrl: string;
  operatorUrl: string;
  password: string;
  supervisor: Supervisor;
  api: ApiClient;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
const STOP_ORDER_PREFIXES = ['operator', 'engine', 'controller'];

/** The state file `portico status --data DIR` reads to find the running operator. */
export function upStateFile(data: string): string {
  return join(data, 'up.json');
}

export async function startUp(opts: UpOptions): Promise<RunningUp> {
  const out = opts.out ?? ((line: string) => console.log(line));
  const data = resolve(opts.data);
  const release = lockDataDir(data);
  const supervisor = new Supervisor({
    onExit: (name, code, signal, delay) =>
      out(`! ${name} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)}s`),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const order = supervisor.names().sort((a, b) => rank(a) - rank(b));
    await supervisor.stopAll(order);
    release();
  };
  try {
    // A restarted controller must come back on the same address: pin port 0 to a free port now.
    const listen = await pinPort(opts.listen);
    const controller = await startControllerChild(supervisor, data, { ...opts, listen });
    const password = readAdminPassword(data);
    const api = new ApiClient(controller, 'admin', password);
    await waitFor(() => api.ready(), 30_000, 'controller ready');

    await opts.prepare?.(api);
    // Default: the controller's local cloud runs the engines (--engines N is Default-Group's minimum).
    const groups = opts.engineGroups ?? [];
    for (const g of groups) {
      const token = await api.joinToken(g.seGroup);
      for (let i = 1; i <= g.count; i++) startEngineChild(supervisor, data, controller, token, `${g.namePrefix}-se-${i}`, out);
    }

    const valuesFile = opts.values ? resolve(opts.values) : writeLocalValues(data, controller, opts);
    const operatorListen = await pinPort(opts.operatorListen ?? '127.0.0.1:0');
    const operatorUrl = await startOperatorChild(supervisor, controller, resolve(opts.manifests), valuesFile, operatorListen, password, out);
    writeFileSync(upStateFile(data), JSON.stringify({ pid: process.pid, controller, operator: operatorUrl }, null, 2));
    // Ready once the operator has finished its first sync pass, so the banner's table is complete.
    await waitFor(async () => {
      const r = await fetch(`${operatorUrl}/api/status`);
      const body = r.ok ? ((await r.json()) as { passes?: number }) : undefined;
      return (body?.passes ?? 0) >= 1;
    }, 60_000, 'operator ready');
    return { controllerUrl: controller, operatorUrl, password, supervisor, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function pinPort(listen: string): Promise<string> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i);
  if (listen.slice(i + 1) !== '0') return listen;
  const port = await new Promise<number>((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(p));
    });
  });
  return `${host}:${port}`;
}

function rank(name: string): number {
  const i = STOP_ORDER_PREFIXES.findIndex((p) => name.startsWith(p));
  return i < 0 ? STOP_ORDER_PREFIXES.length : i;
}

function readAdminPassword(data: string): string {
  const fromEnv = process.env.PORTICO_ADMIN_PASSWORD;
  const file = join(data, 'admin-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  if (fromEnv) return fromEnv;
  throw new Error(`no admin password: set PORTICO_ADMIN_PASSWORD or keep ${file}`);
}

/** Starts a child that prints `listening on <url>` and resolves with that URL. */
function startListeningChild(supervisor: Supervisor, spec: Omit<ChildSpec, 'onLine'>, relay: (line: string) => void): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name} did not start within 30 s`)), 30_000);
    let url: string | undefined;
    supervisor.start({
      ...spec,
      onLine: (line) => {
        const m = LISTENING.exec(line);
        if (m && !url) {
          url = m[1]!.replace(/\/$/, '');
          clearTimeout(timer);
          resolveUrl(url);
        }
        relay(line);
      },
    });
  });
}

const LISTENING = /listening on (https?:\/\/[^\s"]+)/i;

function startControllerChild(supervisor: Supervisor, data: string, opts: UpOptions): Promise<string> {
  const out = opts.out ?? ((l: string) => console.log(l));
  return startListeningChild(supervisor, {
    name: 'controller',
    command: process.execPath,
    args: [BIN, 'controller', '--listen', opts.listen, '--data', data, '--vip-cidr', opts.vipCidr,
      ...(opts.engineGroups ? [] : ['--local-engines', '--min-engines', String(opts.engines)])],
  }, (line) => relayLine('controller', line, 50, out));
}

function startEngineChild(supervisor: Supervisor, data: string, controller: string, token: string, seName: string, out: (l: string) => void): void {
  const name = `engine ${seName}`;
  const dir = join(data, 'engines', seName);
  mkdirSync(dir, { recursive: true });
  supervisor.start({
    name,
    command: process.execPath,
    // An HTTPS controller under `up` uses the certificate it generated (DATA/tls/): pin it.
    args: [BIN, 'engine', '--controller', controller, '--join-token', token, '--name', seName, '--data', dir,
      ...(controller.startsWith('https:') ? ['--controller-ca', join(data, 'tls', 'controller.crt')] : [])],
    onLine: (line) => relayLine(name, line, 50, out),
  });
}

function startOperatorChild(supervisor: Supervisor, controller: string, manifests: string, values: string, listen: string, password: string, out: (l: string) => void): Promise<string> {
  return startListeningChild(supervisor, {
    name: 'operator',
    command: process.execPath,
    args: [BIN, 'operator', '--controller', controller, '--manifests', manifests, '--values', values, '--listen', listen],
    env: { ...process.env, PORTICO_USERNAME: 'admin', PORTICO_PASSWORD: password },
  }, (line) => relayLine('operator', line, 40, out));
}

/** AKO values for the local defaults of INTERFACES.md, unless the user gave --values. */
function writeLocalValues(data: string, controller: string, opts: UpOptions): string {
  const values = {
    AKOSettings: { clusterName: opts.clusterName ?? 'portico', logLevel: 'WARN', apiServerPort: 8080 },
    NetworkSettings: { vipNetworkList: [{ networkName: opts.vipNetwork ?? 'local-vip' }] },
    L7Settings: { defaultIngController: true, serviceType: 'ClusterIP', shardVSSize: 'SMALL' },
    L4Settings: { defaultLBController: true },
    ControllerSettings: {
      serviceEngineGroupName: opts.seGroupName ?? 'Default-Group',
      cloudName: opts.cloudName ?? 'Default-Cloud',
      controllerHost: new URL(controller).host,
      tenantName: 'admin',
      ...(opts.vrfName ? { vrfName: opts.vrfName } : {}),
    },
  };
  const file = join(data, 'operator-values.yaml');
  writeFileSync(file, toYaml(values));
  return file;
}


/**
 * Children log pino JSON. `up` shows the user what matters: lines at `minLevel` or above
 * (warn 40, error 50), as one short line; everything with PORTICO_UP_VERBOSE.
 */
function relayLine(name: string, line: string, minLevel: number, out: (l: string) => void): void {
  if (process.env.PORTICO_UP_VERBOSE) {
    console.error(`[${name}] ${line}`);
    return;
  }
  if (!line.startsWith('{')) return;
  try {
    const rec = JSON.parse(line) as { level?: number; msg?: string; where?: string; err?: { message?: string } };
    if ((rec.level ?? 0) < minLevel) return;
    const where = rec.where ? ` (${rec.where})` : '';
    out(`! ${name}: ${rec.msg ?? rec.err?.message ?? line}${where}`);
  } catch { /* not a log record */ }
}
