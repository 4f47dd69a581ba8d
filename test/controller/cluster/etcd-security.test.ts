// The controller's etcd TLS and auth options against real etcd members: a member that wants
// client certificates (--etcd-ca/--etcd-cert/--etcd-key), and one with user/password auth
// (--etcd-user with --etcd-password-file; the password never shows in the output). Wrong or
// missing credentials: exit 1 with a message.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, startReplica, nextBlock, etcdMissing, ADMIN_PASSWORD, type EtcdCluster, type Replica } from '../../support/etcd.js';
import { runPortico } from '../../support/cli.js';
import { Client } from '../support.js';

const root = mkdtempSync(join(tmpdir(), 'portico-etcd-sec-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const f = (name: string) => join(root, name);
const noOpenssl = spawnSync('openssl', ['version']).status === 0 ? false : 'no openssl binary to make test certificates';
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

/** A CA, a server certificate for `ip`, and a client certificate, with openssl. */
function certificates(ip: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=portico-test-ca');
  writeFileSync(f('san.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  for (const [name, cn] of [['server', 'etcd'], ['client', 'portico']]) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f('san.ext'));
  }
}

async function run(args: string[]) {
  const dir = mkdtempSync(join(root, 'ctl-'));
  const p = runPortico(['controller', '--store', 'etcd', '--listen', `${nextBlock()}.9:0`, '--data', dir, '--etcd-timeout', '2000', ...args], { env: { PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('hung'), 30_000))]);
  await p.stop(1000);
  return { code, out: p.lines.join('\n') };
}

test('TLS to etcd with a client certificate', { skip: etcdMissing || noOpenssl, timeout: 120_000 }, async () => {
  const block = nextBlock();
  certificates(`${block}.1`);
  const tls = { certFile: f('server.pem'), keyFile: f('server.key'), caFile: f('ca.pem'), clientCertFile: f('client.pem'), clientKeyFile: f('client.key') };
  const etcd: EtcdCluster = await startEtcdCluster(1, { tls, block });
  cleanups.push(() => etcd.stop());
  const replica: Replica = await startReplica({ endpoints: etcd.endpoints, name: 'tls-1', host: `${block}.20`, extra: ['--etcd-ca', f('ca.pem'), '--etcd-cert', f('client.pem'), '--etcd-key', f('client.key')] });
  cleanups.push(() => replica.stop());
  assert.match(etcd.endpoints[0]!, /^https:/);
  const created = await new Client(replica.url, 'admin', ADMIN_PASSWORD).create('pool', { name: 'over-tls' });
  assert.ok(created.uuid);
  assert.equal((await new Client(replica.url, 'admin', ADMIN_PASSWORD).get('/api/cluster/runtime')).body.store.available, true);
  const noCert = await run(['--etcd-endpoints', etcd.endpoints[0]!, '--etcd-ca', f('ca.pem')]);
  assert.equal(noCert.code, 1, noCert.out);
  assert.match(noCert.out, /portico controller: store unavailable: etcd did not answer at start/);
  assert.doesNotMatch(noCert.out, /PRIVATE KEY/);
});

test('etcd user and password auth (password from a file, never printed)', { skip: etcdMissing, timeout: 120_000 }, async () => {
  const etcd = await startEtcdCluster(1);
  cleanups.push(() => etcd.stop());
  const ctl = (...args: string[]) => execFileSync('etcdctl', ['--endpoints', etcd.endpoints[0]!, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe' });
  const password = 'etcd-secret-pw-8273';
  ctl('user', 'add', 'root:root-pw-1234');
  ctl('user', 'add', `portico:${password}`);
  ctl('user', 'grant-role', 'portico', 'root');
  ctl('auth', 'enable');
  writeFileSync(f('etcd-password'), `${password}\n`, { mode: 0o600 });
  const replica = await startReplica({ endpoints: etcd.endpoints, name: 'auth-1', host: `${nextBlock()}.20`, extra: ['--etcd-user', 'portico', '--etcd-password-file', f('etcd-password')] });
  cleanups.push(() => replica.stop());
  assert.ok((await new Client(replica.url, 'admin', ADMIN_PASSWORD).create('pool', { name: 'with-auth' })).uuid);
  assert.ok(!replica.cli.lines.join('\n').includes(password), 'the etcd password is never printed');
  writeFileSync(f('wrong-password'), 'nope\n', { mode: 0o600 });
  const wrong = await run(['--etcd-endpoints', etcd.endpoints[0]!, '--etcd-user', 'portico', '--etcd-password-file', f('wrong-password')]);
  assert.equal(wrong.code, 1, wrong.out);
  assert.match(wrong.out, /store unavailable: etcd did not answer at start \(.*(authentication failed|invalid auth)/i);
  const anonymous = await run(['--etcd-endpoints', etcd.endpoints[0]!]);
  assert.equal(anonymous.code, 1, anonymous.out);
  assert.match(anonymous.out, /store unavailable/);
});
