// `portico controller` stops on SIGTERM in the middle of a write burst over keep-alive
// connections (benches and supervisors stop it that way): exit code 0, every acknowledged
// write kept on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { SqliteStore } from '../../src/controller/store/sqlite.js';

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
const PASSWORD = 'scale-sigterm-password';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

test('SIGTERM during a write burst: exits 0, acknowledged writes kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-sigterm-'));
  const proc = spawn(process.execPath, [BIN, 'controller', '--listen', `127.32.${(process.pid % 250) + 1}.2:0`, '--data', dir, '--log-level', 'warn'], {
    env: { ...process.env, PORTICO_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let pool: Pool | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (l) => { const m = /listening on (http\S+)/.exec(l); if (m) resolve(m[1]!); });
      void exited.then((c) => reject(new Error(`controller exited ${c} before listening`)));
    });
    pool = new Pool(url, { connections: 16 });
    const acked = new Set<string>();
    let stop = false;
    const workers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const name = `burst-${w}-${i}`;
        try {
          const r = await pool!.request({ method: 'POST', path: '/api/pool', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
          await r.body.text();
          if (r.statusCode === 201) acked.add(name);
        } catch {
          return; // the controller went away
        }
      }
    });
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 20));
    proc.kill('SIGTERM');
    // Not a timing check: a controller that hangs is killed after a long deadline and fails here.
    const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(killer);
    stop = true;
    await Promise.all(workers);
    assert.equal(code, 0, 'exit code after SIGTERM');
    const store = SqliteStore.open(dir);
    try {
      const kept = new Set((await store.all('pool')).map((r) => r.name));
      assert.deepEqual([...acked].filter((n) => !kept.has(n)), [], 'acknowledged writes are on disk');
    } finally {
      await store.close();
    }
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGKILL'); await exited; }
    await pool?.destroy().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
