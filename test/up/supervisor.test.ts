import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '../../src/up/supervisor.js';
import { lockDataDir, DataDirInUse } from '../../src/up/lock.js';
import { waitFor } from '../../src/up/api-client.js';

const sleeper = ['-e', 'console.log("started"); setInterval(() => {}, 1000)'];

test('a child that dies is started again, and stopAll ends it', async () => {
  const exits: string[] = [];
  const starts: number[] = [];
  const sup = new Supervisor({ onExit: (name) => exits.push(name), onStart: (_n, pid) => starts.push(pid) });
  try {
    const first = sup.start({ name: 'sleeper', command: process.execPath, args: sleeper });
    process.kill(first, 'SIGKILL');
    await waitFor(() => starts.length >= 2, 10_000, 'restart');
    assert.deepEqual(exits, ['sleeper']);
    assert.notEqual(sup.pid('sleeper'), first);
  } finally {
    const last = sup.pid('sleeper');
    await sup.stopAll();
    if (last) assert.throws(() => process.kill(last, 0), 'the child is gone after stopAll');
  }
});

test('stopAll kills a child that ignores SIGTERM after the grace time', async () => {
  const sup = new Supervisor();
  const stubborn = ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'];
  let ready = false;
  const pid = sup.start({ name: 'stubborn', command: process.execPath, args: stubborn, onLine: () => { ready = true; } });
  try {
    await waitFor(() => ready, 10_000, 'child ready');
    await sup.stopAll([], 200);
    assert.throws(() => process.kill(pid, 0));
  } finally {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

test('the data-dir lock refuses a second owner and takes over a stale lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-lock-'));
  try {
    const release = lockDataDir(dir);
    // Another live process holds it: pretend to be that by writing our parent's PID.
    release();
    writeFileSync(join(dir, 'portico.lock'), String(process.ppid));
    assert.throws(() => lockDataDir(dir), DataDirInUse);
    // A PID that does not exist: stale, taken over.
    writeFileSync(join(dir, 'portico.lock'), '2147483646');
    const release2 = lockDataDir(dir);
    release2();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
