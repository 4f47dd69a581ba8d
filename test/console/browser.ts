// Debian's Chromium for the console tests: started by us (so we own its PID and end it), driven
// by playwright-core over the DevTools protocol, with a fresh profile per run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PORTICO_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/console/', import.meta.url));

export interface Chromium {
  browser: Browser;
  pid: number;
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

function waitForDevTools(proc: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(() => reject(new Error(`chromium did not open DevTools within ${timeoutMs} ms:\n${seen.join('\n')}`)), timeoutMs);
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      seen.push(line);
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`chromium exited (${code}):\n${seen.join('\n')}`)); });
    proc.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set PORTICO_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), 'portico-console-chromium-'));
  const proc = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
    '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const pid = proc.pid!;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
      const hard = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
      await exited;
      clearTimeout(hard);
    }
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const ws = await waitForDevTools(proc, 30_000);
    const browser = await chromium.connectOverCDP(ws);
    return {
      browser, pid,
      async newPage(viewport = { width: 1280, height: 800 }) {
        const context = await browser.newContext({ viewport });
        return context.newPage();
      },
      async close() {
        await browser.close().catch(() => {});
        await kill();
      },
    };
  } catch (err) {
    await kill();
    throw err;
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
