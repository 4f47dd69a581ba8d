// L2 mode across a kill -9: the engine records the VIPs it adds (DATA/vips.json); restarted, it
// removes those its snapshot no longer holds. A real `portico engine` process on `lo`, with
// addresses of 127.81.70.0/24 (already local on lo, so nothing changes for other traffic).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotBuilder, canAdminLo, onLo, tcpBackend, tcpExchange } from './support.js';
import { startEngineProcess, type EngineProcess } from './process.js';
import { VipManager } from '../../src/engine/vip/manager.js';

const KEEP = '127.81.70.11';
const STALE = '127.81.70.12';
const recorded = (dir: string) => (JSON.parse(readFileSync(join(dir, 'vips.json'), 'utf8')).vips as { address: string }[]).map((e) => e.address).sort();

test('l2 mode: an engine restarted after kill -9 removes the VIPs of its previous run that its snapshot no longer holds', { skip: !canAdminLo && 'needs root and iproute2' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-se-vips-'));
  const backend = await tcpBackend('127.81.50.1', 'b');
  const procs: EngineProcess[] = [];
  const engine = () => {
    const p = startEngineProcess(['--data', dir, '--vip-mode', 'l2', '--interface', 'lo']);
    procs.push(p);
    return p;
  };
  const snapshot = (version: number, vips: string[]) => {
    const s = new SnapshotBuilder();
    s.version = version;
    const pool = s.pool('p', [backend]);
    vips.forEach((vip, i) => s.l4vs(`vs-${i}`, vip, [9211], pool));
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(s.build()));
  };
  try {
    snapshot(1, [KEEP, STALE]);
    const first = engine();
    await first.waitFor((l) => l.msg === 'snapshot applied', 'first run applies its snapshot');
    assert.equal(onLo(KEEP) && onLo(STALE), true, 'both VIPs added');
    assert.deepEqual(recorded(dir), [KEEP, STALE].sort());

    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(onLo(STALE), true, 'kill -9 leaves the address on the interface');

    // Meanwhile the VS on STALE moved elsewhere: the snapshot the next run starts with lacks it.
    snapshot(2, [KEEP]);
    const second = engine();
    const removed = await second.waitFor((l) => l.msg === 'VIP left by a previous run removed', 'leftover removed');
    assert.equal(removed.vip, STALE);
    assert.equal(onLo(STALE), false);
    assert.equal(onLo(KEEP), true, 'the VIP still served stays');
    assert.match(await tcpExchange(KEEP, 9211, 'hi'), /^b:hi/);
    assert.deepEqual(recorded(dir), [KEEP]);

    // A clean stop removes what it added and leaves an empty record.
    assert.equal(await second.stop(), 0);
    assert.equal(onLo(KEEP), false);
    assert.deepEqual(recorded(dir), []);
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const a of [KEEP, STALE]) if (onLo(a)) execFileSync('ip', ['addr', 'del', `${a}/32`, 'dev', 'lo']);
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the record: leftovers on a vanished interface count as gone, bad entries and a corrupt file are ignored', { skip: !canAdminLo && 'needs root and iproute2' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-se-vips-'));
  const file = join(dir, 'vips.json');
  const LEFT = '127.81.70.20';
  const warnings: string[] = [];
  const log = { info() {}, warn: (o: object) => warnings.push(JSON.stringify(o)) };
  try {
    execFileSync('ip', ['addr', 'add', `${LEFT}/32`, 'dev', 'lo']);
    writeFileSync(file, JSON.stringify({ vips: [{ address: LEFT, interface: 'lo' }, { address: '127.81.70.21', interface: 'nosuchif0' }, { address: 5 }, 'x'] }));
    const vips = new VipManager('l2', 'lo', log, file);
    await vips.loadPrevious();
    assert.deepEqual((await vips.removeLeftovers()).sort(), [LEFT, '127.81.70.21']);
    assert.equal(onLo(LEFT), false);
    assert.deepEqual(recorded(dir), []);
    assert.deepEqual(warnings, []);

    writeFileSync(file, '{"vips": [');
    const again = new VipManager('l2', 'lo', log, file);
    await again.loadPrevious();
    assert.deepEqual(await again.removeLeftovers(), []);
  } finally {
    if (onLo(LEFT)) execFileSync('ip', ['addr', 'del', `${LEFT}/32`, 'dev', 'lo']);
    rmSync(dir, { recursive: true, force: true });
  }
});
