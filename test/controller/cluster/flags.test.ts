// `portico controller --store …` flags: bad ones exit 2 naming the flag; an etcd that does not
// answer is exit 1 with a message (no hang, no stack trace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPortico } from '../../support/cli.js';
import { parseEndpoints } from '../../../src/controller/store/etcd-client.js';

const controller = async (args: string[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-flags-'));
  const p = runPortico(['controller', '--listen', '127.90.199.1:0', '--data', dir, ...args], { env: { PORTICO_ADMIN_PASSWORD: 'x', PORTICO_ETCD_PASSWORD: '' } });
  try {
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('hung'), 30_000))]);
    return { code, out: p.lines.join('\n') };
  } finally {
    await p.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  }
};

test('endpoint lists: URLs, bare host:port, etcd: prefix; bad ones name the flag', () => {
  assert.deepEqual(parseEndpoints('etcd:http://127.0.0.1:2379, 10.0.0.2:2379'), ['http://127.0.0.1:2379', 'http://10.0.0.2:2379']);
  assert.throws(() => parseEndpoints('http://127.0.0.1'), /--etcd-endpoints: http:\/\/127.0.0.1: give the port/);
  assert.throws(() => parseEndpoints('ftp://a:1'), /use http:\/\/ or https:\/\//);
  assert.throws(() => parseEndpoints(' , '), /give at least one etcd URL/);
});

test('bad --store flags exit 2 with the flag named', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--store', 'mysql'], /--store: mysql is not a store \(use sqlite or etcd\)/],
    [['--store', 'etcd'], /--store etcd needs --etcd-endpoints/],
    [['--etcd-endpoints', 'http://127.90.199.2:2379'], /--etcd-endpoints needs --store etcd/],
    [['--store', 'etcd', '--etcd-endpoints', 'http://127.90.199.2:2379', '--lease-ttl', '0'], /--lease-ttl: 0 is not a whole number/],
    [['--store', 'etcd', '--etcd-endpoints', 'http://127.90.199.2:2379', '--etcd-cert', 'c.pem'], /--etcd-cert and --etcd-key go together/],
    [['--store', 'etcd', '--etcd-endpoints', 'http://127.90.199.2:2379', '--etcd-ca', 'ca.pem'], /use https:\/\/ endpoints with --etcd-ca/],
  ];
  for (const [args, re] of cases) {
    const r = await controller(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    assert.match(r.out, re);
  }
});

test('an etcd that does not answer: exit 1 with a message, within the call deadline', async () => {
  const r = await controller(['--store', 'etcd', '--etcd-endpoints', 'http://127.90.199.3:2379', '--etcd-timeout', '1500']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /portico controller: store unavailable: etcd did not answer at start/);
  assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
});
