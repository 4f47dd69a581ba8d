// L2 VIP lease (fencing): an l2 engine adds its VIP with a kernel lifetime it renews every
// second or so (`--vip-lease`). In a network namespace host on a bridge, with a client beside it:
// the VIP outlives several leases while the engine runs; a stopped engine (SIGSTOP) loses it and
// gets it back, announced again, when it continues; an engine killed with kill -9 loses it by
// itself, and its host stops answering ARP for it. Times are printed (no timing assertion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotBuilder, until } from '../engine/support.js';
import { BIN } from './support.js';
import { Lab, netnsUnavailable, waitLine } from './netns.js';

const VIP = '10.250.0.100';
const LEASE_S = 2;
const why = netnsUnavailable();

test('L2 VIP lease: renewed while the engine runs, gone by itself after kill -9 (no ARP answer)', { skip: why, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-l2-lease-'));
  const lab = new Lab(dir);
  try {
    const se = lab.host('se', '10.250.0.11');
    const client = lab.host('client', '10.250.0.10');
    // Headless: the engine serves the snapshot in its data dir; the VS's backend is beside it.
    const data = join(dir, 'se');
    mkdirSync(data);
    const s = new SnapshotBuilder();
    s.l4vs('vs', VIP, [80], s.pool('p', [{ ip: '10.250.0.11', port: 8080 }]));
    writeFileSync(join(data, 'snapshot.json'), JSON.stringify(s.build()));
    const engine = lab.node(se, [BIN, 'engine', '--data', data, '--vip-mode', 'l2', '--interface', 'eth0', '--vip-lease', String(LEASE_S)]);
    await waitLine(engine, /"snapshot applied"/, 20_000);

    const vipOnEth0 = () => lab.ip(se, '-4', 'addr', 'show', 'dev', 'eth0').includes(`${VIP}/32`);
    const arpReply = () => {
      try {
        return execFileSync('ip', ['netns', 'exec', client, 'arping', '-c', '1', '-w', '1', '-I', 'eth0', VIP], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch {
        return undefined; // arping exits 1 without a reply
      }
    };
    await until('the VIP is on eth0', vipOnEth0, 10_000);
    assert.match(lab.ip(se, '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(`valid_lft ${LEASE_S}sec|valid_lft 1sec`), 'added with the lease as its lifetime');
    assert.match(arpReply() ?? '', new RegExp(lab.mac(se), 'i'), 'the SE host answers ARP for the VIP');

    // Renewed: present at every look over more than two leases.
    const watchUntil = Date.now() + LEASE_S * 2000 + 1000;
    while (Date.now() < watchUntil) {
      assert.equal(vipOnEth0(), true, 'the running engine keeps renewing its VIP');
      await new Promise((r) => setTimeout(r, 100));
    }

    // A stopped (stalled) engine renews nothing: the VIP goes; continued, it renews and announces it again.
    engine.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await until('the stopped engine\'s VIP is gone', () => !vipOnEth0(), 20_000);
    const goneAfterStop = Date.now() - stoppedAt;
    engine.kill('SIGCONT');
    await until('the continued engine has its VIP back', vipOnEth0, 10_000);
    await waitLine(engine, /VIP lease renewed late/, 10_000);

    // kill -9: nothing removes the address but its lease.
    const killedAt = Date.now();
    engine.kill('SIGKILL');
    await engine.exited;
    await until('the killed engine\'s VIP is gone from eth0', () => !vipOnEth0(), 20_000);
    const goneAfterKill = Date.now() - killedAt;
    assert.equal(arpReply(), undefined, 'no host answers ARP for the VIP any more');
    console.log(`# L2 VIP lease ${LEASE_S} s (renewed every ${Math.min(1000, Math.floor((LEASE_S * 1000) / 3))} ms): gone from eth0 ${goneAfterKill} ms after kill -9, ${goneAfterStop} ms after SIGSTOP; back and announced after SIGCONT`);
  } finally {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--vip-lease: a bad value is refused with a message naming the flag', async () => {
  for (const bad of ['1', 'abc', '-3', '2.5']) {
    let out = '';
    let code = 0;
    try {
      execFileSync(process.execPath, [BIN, 'engine', '--data', join(tmpdir(), 'portico-unused'), '--vip-mode', 'l2', '--interface', 'lo', '--vip-lease', bad], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    } catch (err) {
      out = String((err as { stderr?: string }).stderr);
      code = (err as { status?: number }).status ?? -1;
    }
    assert.equal(code, 2, `--vip-lease ${bad}: exit code`);
    assert.match(out, /--vip-lease: expected whole seconds/, `--vip-lease ${bad}: ${out}`);
  }
});
