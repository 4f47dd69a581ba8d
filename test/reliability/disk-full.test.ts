// Disk full on the controller's data directory (a small tmpfs): writes answer 503 with a clear
// message, reads keep working, nothing is corrupted, and writes work again once space returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController, type Controller } from '../../src/controller/server.js';
import { Client, PASSWORD } from '../controller/support.js';
import { NET } from './support.js';

const canMount = process.getuid?.() === 0;

/** Fills the file system of `file` until it has no space left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try { for (;;) writeSync(fd, chunk); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err; } finally { closeSync(fd); }
  // The last few bytes too.
  const fd2 = openSync(`${file}.tail`, 'w');
  try { for (;;) writeSync(fd2, Buffer.alloc(512)); } catch { /* full */ } finally { closeSync(fd2); }
}

test('disk full: writes 503 with a message, reads work, recovery when space returns', { skip: !canMount && 'needs root to mount a tmpfs', timeout: 60_000 }, async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'portico-diskfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
  let ctl: Controller | undefined;
  try {
    const data = join(mnt, 'data');
    ctl = await startController({ listen: `${NET}.10:0`, dataDir: data, adminPassword: PASSWORD, vipCidr: `${NET}.0/26`, logger: false });
    let api = new Client(ctl.url);
    for (let i = 0; i < 20; i++) assert.equal((await api.post('/api/healthmonitor', { name: `before-${i}`, type: 'HEALTH_MONITOR_TCP' })).status, 201);
    const filler = join(mnt, 'filler');
    fill(filler);
    const statuses: number[] = [];
    let message = '';
    // A big body so the write cannot fit in pages SQLite already has.
    for (let i = 0; i < 10; i++) {
      const r = await api.post('/api/healthmonitor', { name: `full-${i}`, type: 'HEALTH_MONITOR_HTTP', description: 'x'.repeat(200_000) });
      statuses.push(r.status);
      if (r.status !== 201) message = r.body.error;
    }
    assert.ok(statuses.includes(503), `writes on a full disk: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 503 || s === 201), `only 201 or 503: ${statuses.join(',')}`);
    assert.match(message, /space|full/i);
    const listed = await api.get('/api/healthmonitor?name.contains=before-&page_size=100');
    assert.equal(listed.status, 200, 'reads keep working');
    assert.equal(listed.body.count, 20);

    unlinkSync(filler);
    unlinkSync(`${filler}.tail`);
    assert.equal((await api.post('/api/healthmonitor', { name: 'after', type: 'HEALTH_MONITOR_TCP' })).status, 201, 'writes work again');
    // Nothing corrupted: a restart reads everything back.
    await ctl.close();
    ctl = await startController({ listen: `${NET}.10:0`, dataDir: data, adminPassword: PASSWORD, vipCidr: `${NET}.0/26`, logger: false });
    api = new Client(ctl.url);
    assert.equal((await api.get('/api/healthmonitor?name.contains=before-&page_size=100')).body.count, 20);
    assert.equal((await api.get('/api/healthmonitor?name=after')).body.count, 1);
    const accepted = statuses.filter((s) => s === 201).length;
    assert.equal((await api.get('/api/healthmonitor?name.contains=full-&page_size=100')).body.count, accepted, 'exactly the acknowledged writes are stored');
    console.log(`# disk full: ${statuses.filter((s) => s === 503).length} of 10 writes 503 ("${message}"), reads fine, recovered, restart reads all`);
  } finally {
    await ctl?.close();
    try { execFileSync('umount', [mnt]); } catch { execFileSync('umount', ['-l', mnt]); }
    rmSync(mnt, { recursive: true, force: true });
  }
});
