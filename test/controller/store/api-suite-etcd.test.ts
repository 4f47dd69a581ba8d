// One suite, two backends: the controller's API tests (test/controller/*.test.ts) run again
// with every controller on a real three-member etcd cluster (PORTICO_TEST_STORE=etcd, see
// test/controller/support.ts), in a child test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { etcdMissing } from '../../support/etcd.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
/**
 * The API suite: the files of test/controller/ that start controllers through support.ts.
 * persistence.test.ts restarts controllers on a SQLite directory by hand: its etcd
 * counterparts (restart, kill -9 in a write loop) are in test/controller/cluster/.
 */
const isSuite = (f: string) => f.endsWith('.test.js') && f !== 'persistence.test.js' && readFileSync(join(dir, f), 'utf8').includes('startTestController');

test('the controller API suite passes on the etcd store', { skip: etcdMissing, timeout: 600_000 }, async (t) => {
  const files = readdirSync(dir).filter(isSuite).map((f) => join(dir, f));
  assert.ok(files.length > 0, `API suite files under ${dir}`);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], {
    env: { ...process.env, PORTICO_TEST_STORE: 'etcd', NODE_TEST_CONTEXT: undefined }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, `API suite on etcd failed:\n${out.slice(-6000)}`);
    const passed = Number(/^# pass (\d+)$/m.exec(out)?.[1] ?? 0);
    assert.ok(passed > 0, `the suite ran tests:\n${out.slice(-2000)}`);
    t.diagnostic(`${passed} API tests passed on etcd (${files.length} files)`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }
});
