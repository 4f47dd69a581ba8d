// Starts `portico engine` as a real child process and reads its JSON log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));

export interface EngineProcess {
  child: ChildProcess;
  lines: Record<string, any>[];
  /** Resolves with the first log line that `match` accepts (already seen or coming). */
  waitFor(match: (l: Record<string, any>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** The exit code, when the process ends by itself. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startEngineProcess(args: string[], env: Record<string, string> = {}): EngineProcess {
  const child = spawn(process.execPath, [BIN, 'engine', '--metrics-listen', '127.21.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: Record<string, any>[] = [];
  const listeners = new Set<() => void>();
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ msg: line });
      }
      for (const l of listeners) l();
    }
  });
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    waitFor(match, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const l = lines.find(match);
          if (!l) return false;
          done();
          resolve(l);
          return true;
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-500)}; log: ${JSON.stringify(lines.slice(-5))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          listeners.delete(onLine);
        };
        const onLine = () => void check();
        if (check()) return;
        listeners.add(onLine);
        child.once('exit', () => {
          if (!check()) {
            done();
            reject(new Error(`engine exited while waiting for ${what}; stderr: ${stderr.slice(-500)}`));
          }
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.pid && child.exitCode === null && child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
