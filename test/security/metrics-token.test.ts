// `portico controller --metrics-token-file`: the token a Prometheus scrape job sends as a bearer
// token opens /metrics and nothing else; a missing or too short token file stops the start with
// a message naming the flag. A real controller process on 127.106.7.0/24.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPortico, type CliProcess } from '../support/cli.js';
import { PASSWORD } from '../controller/support.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-metrics-token-'));
const procs: CliProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.stop(5000)));
  rmSync(dir, { recursive: true, force: true });
});
const controller = (args: string[]) => {
  const p = runPortico(['controller', '--listen', '127.106.7.1:0', '--data', join(dir, 'data'), ...args], { env: { PORTICO_ADMIN_PASSWORD: PASSWORD } });
  procs.push(p);
  return p;
};

test('--metrics-token-file: the bearer token reads /metrics only; bad files are refused at start', async () => {
  const token = 'c0ffee-metrics-token-1234';
  const file = join(dir, 'metrics-token');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  const ctl = controller(['--metrics-token-file', file]);
  const url = /(https?:\/\/\S+)/.exec(await ctl.waitForLine(/listening on https?:\/\//, 30_000))![1]!.replace(/\/$/, '');
  const get = (path: string, authorization?: string) => fetch(`${url}${path}`, { headers: authorization ? { authorization } : {} });
  const scrape = await get('/metrics', `Bearer ${token}`);
  assert.equal(scrape.status, 200, 'the token from the file (trailing newline trimmed)');
  assert.match(await scrape.text(), /portico_controller_objects\{type="tenant"\} 1/);
  assert.equal((await get('/metrics')).status, 401);
  assert.equal((await get('/metrics', `Bearer ${token.slice(0, -1)}`)).status, 401);
  assert.equal((await get('/api/tenant', `Bearer ${token}`)).status, 401, 'the token is no user');
  assert.ok(!ctl.lines.some((l) => l.includes(token)), 'the token is not printed');
  assert.equal(await ctl.stop(), 0);

  writeFileSync(file, 'short\n');
  const short = controller(['--metrics-token-file', file]);
  assert.equal(await short.exited, 1);
  assert.ok(short.lines.some((l) => /metrics token: at least 16 characters/.test(l)), short.lines.join('\n'));
  const missing = controller(['--metrics-token-file', join(dir, 'nope')]);
  assert.equal(await missing.exited, 2);
  assert.ok(missing.lines.some((l) => /--metrics-token-file: .*ENOENT/.test(l)), missing.lines.join('\n'));
});
