// Keeps the child processes of `portico up` running: restarts a child that dies (with backoff),
// prefixes its output, and stops everything in order.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Each line the child prints (stdout and stderr). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface SupervisorEvents {
  /** A child exited on its own; `delayMs` until it is started again. */
  onExit?: (name: string, code: number | null, signal: NodeJS.Signals | null, delayMs: number) => void;
  onStart?: (name: string, pid: number) => void;
}

interface Managed {
  spec: ChildSpec;
  proc?: ChildProcess;
  startedAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
/** A child that ran this long is healthy again: its next crash restarts at once-ish. */
const STABLE_MS = 30_000;

export class Supervisor {
  private readonly children = new Map<string, Managed>();
  private stopping = false;

  constructor(private readonly events: SupervisorEvents = {}) {}

  start(spec: ChildSpec): number {
    const m: Managed = { spec, startedAt: 0, failures: 0 };
    this.children.set(spec.name, m);
    return this.launch(m);
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.proc?.pid;
  }

  names(): string[] {
    return [...this.children.keys()];
  }

  private launch(m: Managed): number {
    const { spec } = m;
    const proc = spawn(spec.command, spec.args, { env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    m.proc = proc;
    m.startedAt = Date.now();
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: proc[stream]! });
      rl.on('line', (line) => spec.onLine?.(line, stream));
    }
    m.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        resolve();
        if (this.stopping || m.proc !== proc) return;
        if (Date.now() - m.startedAt > STABLE_MS) m.failures = 0;
        const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** m.failures);
        m.failures++;
        this.events.onExit?.(spec.name, code, signal, delay);
        m.timer = setTimeout(() => {
          m.timer = undefined;
          if (!this.stopping) this.launch(m);
        }, delay);
      });
    });
    proc.once('error', () => { /* reported through 'exit' */ });
    if (proc.pid !== undefined) this.events.onStart?.(spec.name, proc.pid);
    return proc.pid ?? -1;
  }

  /** Stops the named children in the order given (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(names: string[], graceMs = 5000): Promise<void> {
    for (const name of names) {
      const m = this.children.get(name);
      if (!m) continue;
      this.children.delete(name);
      if (m.timer) clearTimeout(m.timer);
      await terminate(m, graceMs);
    }
  }

  /** Stops everything: `order` first (in that order), then whatever is left. */
  async stopAll(order: string[] = [], graceMs = 5000): Promise<void> {
    this.stopping = true;
    const rest = [...this.children.keys()].filter((n) => !order.includes(n));
    await this.stop([...order, ...rest], graceMs);
  }
}

async function terminate(m: Managed, graceMs: number): Promise<void> {
  const proc = m.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await m.exited;
  clearTimeout(killer);
}
