// `portico demo` (what `npm start` runs): every check it prints passes, and Ctrl-C leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { runPortico, pidsWithArg, killAllWithArg } from '../support/cli.js';

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

test('portico demo runs the AKO lab, passes every check and stops on Ctrl-C', { timeout: 240_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'portico-demo-e2e-'));
  const data = join(root, 'data');
  const demo = runPortico(['demo', '--data', data, '--listen', '127.0.0.1:0']);
  try {
    await demo.waitForLine(/^Press Ctrl-C to stop\.$/, 180_000);
    const failed = demo.lines.filter((l) => l.trimStart().startsWith('✘'));
    assert.deepEqual(failed, [], demo.lines.join('\n'));
    assert.equal(demo.lines.filter((l) => l.trimStart().startsWith('✔')).length, 7);
    assert.ok(demo.lines.some((l) => /^Portico is up: console http:\/\/127\.0\.0\.1:\d+\//.test(l)));
    demo.proc.kill('SIGINT');
    assert.equal(await demo.exited, 0, demo.lines.slice(-10).join('\n'));
    assert.deepEqual(pidsWithArg(data), [], 'no process of the demo is left');
    assert.ok(await refused('127.22.13.63', 8000), 'nothing listens on the Service VIP');
    assert.ok(await refused('127.22.14.1', 80), 'the stand-in pods are stopped');
  } finally {
    await demo.stop(5000);
    killAllWithArg(root);
    rmSync(root, { recursive: true, force: true });
  }
});
