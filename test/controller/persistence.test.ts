import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestController, freshAddress, Client, PASSWORD } from './support.js';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

const bin = join(process.cwd(), 'bin', 'portico.js');

test('a restart keeps every object, address and password', async () => {
  const first = await startTestController();
  let second;
  try {
    const api = first.api;
    await api.create('network', { name: 'keep-net', configured_subnets: [{ prefix: { ip_addr: { type: 'V4', addr: '10.90.0.0' }, mask: 24 }, static_ip_ranges: [{ range: { begin: { type: 'V4', addr: '10.90.0.5' }, end: { type: 'V4', addr: '10.90.0.9' } } }] }] });
    const vip = await api.create('vsvip', { name: 'keep-vip', vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: '/api/network?name=keep-net' } }] });
    const pool = await api.create('pool', { name: 'keep-pool', servers: [{ ip: { type: 'V4', addr: '10.0.0.1' }, port: 80 }] });
    const vs = await api.create('virtualservice', { name: 'keep-vs', vsvip_ref: '/api/vsvip?name=keep-vip', pool_ref: '/api/pool?name=keep-pool', services: [{ port: 80 }] });
    const counts = Object.fromEntries(await Promise.all(['cloud', 'applicationprofile', 'sslkeyandcertificate', 'user'].map(async (t) => [t, (await api.get(`/api/${t}`)).body.count])));
    await first.stop(true);
    second = await startTestController({ dir: first.dir });
    const again = second.api;
    const vipAgain = (await again.get(`/api/vsvip/${vip.uuid}`)).body.vip[0];
    assert.deepEqual(vipAgain.ip_address, vip.vip[0].ip_address);
    assert.equal(vipAgain.ipam_network_subnet.network_ref.replace(second.c.url, ''), vip.vip[0].ipam_network_subnet.network_ref.replace(first.c.url, ''));
    assert.equal((await again.get(`/api/pool/${pool.uuid}`)).body._last_modified, pool._last_modified);
    assert.equal((await again.get(`/api/virtualservice/${vs.uuid}`)).body.vsvip_ref.replace(second.c.url, ''), vs.vsvip_ref.replace(first.c.url, ''));
    for (const [t, n] of Object.entries(counts)) assert.equal((await again.get(`/api/${t}`)).body.count, n, `${t}: seeding did not run twice`);
    const next = await again.create('vsvip', { name: 'keep-vip-2', vip: [{ vip_id: '0', auto_allocate_ip: true, ipam_network_subnet: { network_ref: '/api/network?name=keep-net' } }] });
    assert.notEqual(next.vip[0].ip_address.addr, vip.vip[0].ip_address.addr);
  } finally {
    await first.stop(true);
    await second?.stop(true);
    rmSync(first.dir, { recursive: true, force: true });
  }
});

function startCli(dir: string, env: Record<string, string>): { child: ChildProcess; url: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, [bin, 'controller', '--listen', `${freshAddress()}:0`, '--data', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not start: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/listening on (http\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`controller exited ${code}: ${out}`)); });
  });
  return { child, url, output: () => out };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

test('kill -9 in the middle of a write loop loses no acknowledged write and leaves no half object', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-kill-'));
  const run = startCli(dir, { PORTICO_ADMIN_PASSWORD: PASSWORD });
  let restarted;
  try {
    const api = new Client(await run.url);
    const secretCert = selfSigned({ commonName: 'kill.example.com' });
    await api.create('sslkeyandcertificate', { name: 'kill-cert', certificate: { certificate: secretCert.cert }, key: secretCert.key });
    await api.create('user', { name: 'kill-user', password: 'very-secret-password-42' });
    const acked: string[] = [];
    const target = 80 + Math.floor(Math.random() * 120);
    let n = 0;
    let killed = false;
    const writer = async () => {
      while (!killed) {
        const name = `kill-${n++}`;
        const body = { name, description: `body of ${name}`, servers: [1, 2, 3].map((i) => ({ ip: { type: 'V4', addr: `10.9.0.${i}` }, port: 8000 + i })) };
        try {
          const r = await api.post('/api/pool', body);
          if (r.status === 201) acked.push(name);
        } catch { /* the connection died with the process */ }
        if (acked.length >= target && !killed) { killed = true; run.child.kill('SIGKILL'); }
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    await exited(run.child);
    assert.equal(run.child.signalCode, 'SIGKILL');
    assert.ok(!run.output().includes('PRIVATE KEY') && !run.output().includes('very-secret-password-42'), 'no secret in the log');
    restarted = await startTestController({ dir });
    const stored = new Map<string, any>();
    let url: string | undefined = '/api/pool?name.contains=kill-&page_size=200';
    while (url) {
      const r = await restarted.api.get(url);
      for (const p of r.body.results) stored.set(p.name, p);
      url = r.body.next ? new URL(r.body.next).pathname + new URL(r.body.next).search : undefined;
    }
    for (const name of acked) assert.ok(stored.has(name), `acknowledged ${name} is there`);
    for (const [name, p] of stored) {
      assert.equal(p.description, `body of ${name}`, `${name} complete`);
      assert.equal(p.servers.length, 3, `${name} complete`);
    }
    assert.ok(acked.length >= target);
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await exited(run.child);
    await restarted?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without PORTICO_ADMIN_PASSWORD a password is generated, printed once and kept in DATA/admin-password (0600)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-pw-'));
  const env = { PORTICO_ADMIN_PASSWORD: '' };
  const run = startCli(dir, env);
  let run2: ReturnType<typeof startCli> | undefined;
  try {
    const url = await run.url;
    const file = join(dir, 'admin-password');
    const pw = readFileSync(file, 'utf8').trim();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(run.output().includes(pw), 'printed');
    assert.equal((await new Client(url, 'admin', pw).get('/api/pool')).status, 200);
    run.child.kill('SIGTERM');
    await exited(run.child);
    assert.equal(run.child.exitCode, 0);
    run2 = startCli(dir, env);
    await run2.url;
    assert.ok(!run2.output().includes(pw), 'printed only once');
  } finally {
    for (const r of [run, run2]) if (r && r.child.exitCode === null && r.child.signalCode === null) { r.child.kill('SIGKILL'); await exited(r.child); }
    rmSync(dir, { recursive: true, force: true });
  }
});
