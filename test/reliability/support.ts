// Support for the reliability tests: the controller and engines as real processes (the engine
// under `portico up`'s Supervisor), a keep-alive load generator that counts failures, and the
// loopback range of this suite (127.80.0.0/16, one /24 per test process).
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { runPortico, type CliProcess } from '../support/cli.js';
import { Client, PASSWORD } from '../controller/support.js';
import { Supervisor } from '../../src/up/supervisor.js';

export const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
/** This process's /24 of 127.80/16 (parallel test files differ by PID). */
export const NET = `127.80.${10 + (process.pid % 240)}`;

export interface ControllerProcess { cli: CliProcess; url: string; api: Client; port: number }

/** `portico controller` on `host:port` (port 0: any), waiting for its "listening on" line. */
export async function startControllerProcess(dataDir: string, listen: string, extra: string[] = []): Promise<ControllerProcess> {
  const cli = runPortico(['controller', '--listen', listen, '--data', dataDir, '--log-level', 'warn', ...extra], { env: { PORTICO_ADMIN_PASSWORD: PASSWORD } });
  const line = await cli.waitForLine(/listening on https?:\/\//, 30_000);
  const url = /(https?:\/\/\S+)/.exec(line)![1]!.replace(/\/$/, '');
  return { cli, url, api: new Client(url), port: Number(new URL(url).port) };
}

/** Engines under the Supervisor `portico up` uses (restart with backoff after a crash). */
export function superviseEngine(sup: Supervisor, name: string, args: string[], lines: string[] = []): void {
  sup.start({ name, command: process.execPath, args: [BIN, 'engine', ...args], onLine: (l) => { lines.push(l); } });
}

/**
 * Keeps `connections` keep-alive connections busy with GETs to each target, in turn; counts
 * successes and failures per target (a failure: a network error or a status not wanted).
 */
export class Load {
  readonly ok = new Map<string, number>();
  readonly failures = new Map<string, string[]>();
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly agent: http.Agent;
  // Test certificates are self-signed: what is checked here is that TLS works, not who signed.
  private readonly tlsAgent: https.Agent;

  constructor(targets: string[], connections: number, private readonly accept: (url: string, status: number, body: string) => boolean = (_u, s) => s === 200) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets: connections, rejectUnauthorized: false });
    for (const t of targets) { this.ok.set(t, 0); this.failures.set(t, []); }
    for (let i = 0; i < connections; i++) this.loops.push(this.loop(targets, i));
  }

  private async loop(targets: string[], i: number): Promise<void> {
    let n = i;
    while (this.running) {
      const url = targets[n++ % targets.length]!;
      const r = await this.get(url);
      if (!this.running) break;
      if (r.ok) this.ok.set(url, this.ok.get(url)! + 1);
      else this.failures.get(url)!.push(r.why);
    }
  }

  private get(url: string): Promise<{ ok: boolean; why: string }> {
    return new Promise((resolve) => {
      const tls = url.startsWith('https:');
      const req = (tls ? https : http).get(url, { agent: tls ? this.tlsAgent : this.agent, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ ok: this.accept(url, res.statusCode!, body), why: `${res.statusCode} ${body.slice(0, 100)}` }));
        res.on('error', (e) => resolve({ ok: false, why: e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ ok: false, why: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
  }

  total(): number { let n = 0; for (const v of this.ok.values()) n += v; return n; }
  failed(url?: string): string[] { return url ? this.failures.get(url)! : [...this.failures.values()].flat(); }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
    this.tlsAgent.destroy();
  }
}

/** A fresh-connection GET (no keep-alive): the status, or 0 on a network error. */
export function getOnce(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); res.on('error', () => resolve(0)); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

/** A LoadBalancer Service manifest with one EndpointSlice (one endpoint `ip`, target port 8080). */
export const lbService = (name: string, ports: string, ip: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { type: LoadBalancer, ports: ${ports} }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-x, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: ["${ip}"], conditions: { ready: true } }]
`;

export { PASSWORD };
