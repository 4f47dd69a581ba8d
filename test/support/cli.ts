// Runs `portico …` as a user would (node bin/portico.js), keeps its output, and ends it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';

export const PORTICO_BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));

export interface CliProcess {
  proc: ChildProcess;
  pid: number;
  lines: string[];
  /** Resolves with the first line (already printed or to come) that matches. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<number | string>;
}

export function runPortico(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean } = {}): CliProcess {
  const proc = spawn(process.execPath, [PORTICO_BIN, ...args], {
    env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: false,
  });
  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (opts.echo || process.env.PORTICO_TEST_ECHO) console.error(`  | ${line}`);
      for (const w of waiters) if (w.re.test(line)) { waiters.delete(w); w.resolve(line); }
    });
  }
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    proc, pid: proc.pid!, lines, exited,
    waitForLine(re, timeoutMs = 60_000) {
      const found = lines.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(timer); resolve(l); } };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${lines.slice(-40).join('\n')}`));
        }, timeoutMs);
        waiters.add(w);
        exited.then((code) => {
          if (waiters.delete(w)) { clearTimeout(timer); reject(new Error(`exited (${code}) before a line matching ${re}; output:\n${lines.slice(-40).join('\n')}`)); }
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(killer);
        return code;
      }
      return exited;
    },
  };
}

/** PIDs of running processes whose command line contains `needle` (e.g. a test's temp dir). */
export function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (Number(entry) !== process.pid && cmd.some((a) => a.includes(needle))) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

/** Kills every process whose command line names `needle`: the last guard against leaks in a test. */
export function killAllWithArg(needle: string): void {
  for (const pid of pidsWithArg(needle)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
