// A real `portico engine` process serving the snapshot in its data dir: without a controller,
// and with its controller unreachable (restart while the controller is down); /metrics.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotBuilder, tcpBackend, tcpExchange } from './support.js';
import { startEngineProcess, type EngineProcess } from './process.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function dataDirWith(vip: string, port: number, backend: { ip: string; port: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-se-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const s = new SnapshotBuilder();
  s.version = 7;
  s.l4vs('from-disk', vip, [port], s.pool('p', [backend]));
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(s.build()));
  return dir;
}

function track(p: EngineProcess): EngineProcess {
  cleanups.push(() => p.stop());
  return p;
}

test('no controller: serves snapshot.json, exposes /metrics, stops cleanly on SIGTERM', async () => {
  const b = await tcpBackend('127.21.50.1', 'disk');
  cleanups.push(() => b.close());
  const dir = dataDirWith('127.21.5.1', 9201, b);
  const se = track(startEngineProcess(['--data', dir]));
  const applied = await se.waitFor((l) => l.msg === 'snapshot applied', 'snapshot applied');
  assert.equal(applied.version, 7);
  assert.equal(applied.source, 'disk');
  assert.match(await tcpExchange('127.21.5.1', 9201, 'hi'), /^disk:hi/);
  const metricsLine = await se.waitFor((l) => typeof l.url === 'string' && /metrics at/.test(l.msg), 'metrics line');
  const text = await (await fetch(`${metricsLine.url}/metrics`)).text();
  assert.match(text, /portico_vs_connections_total\{vs="virtualservice-[^"]+",vs_name="from-disk"\} 1/);
  assert.match(text, /portico_server_up\{pool="pool-[^"]+",pool_name="p",server="127\.21\.50\.1:\d+"\} 1/);
  assert.equal((await fetch(`${metricsLine.url}/nope`)).status, 404);
  assert.equal(await se.stop(), 0);
});

test('controller down: a restarted SE serves from its data directory and keeps retrying', async () => {
  const b = await tcpBackend('127.21.50.2', 'disk2');
  cleanups.push(() => b.close());
  const dir = dataDirWith('127.21.5.2', 9202, b);
  // Nothing listens on 127.21.5.250:1: the controller is down.
  const se = track(startEngineProcess(['--data', dir, '--controller', 'http://127.21.5.250:1', '--join-token', 'x']));
  await se.waitFor((l) => l.msg === 'snapshot applied', 'snapshot applied');
  assert.match(await tcpExchange('127.21.5.2', 9202, 'hi'), /^disk2:hi/);
  const retry = await se.waitFor((l) => l.msg === 'controller unreachable; retrying', 'retry log');
  assert.ok(!JSON.stringify(se.lines).includes('"x"'), 'the join token is not logged');
  assert.ok(retry);
  assert.match(await tcpExchange('127.21.5.2', 9202, 'again'), /^disk2:again/);
  assert.equal(await se.stop(), 0);
  assert.equal(statSync(join(dir, 'snapshot.json')).isFile(), true);
});

test('bad flags and a corrupt snapshot file are reported, not crashes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-se-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'snapshot.json'), '{"version": "x"');
  const se = track(startEngineProcess(['--data', dir]));
  const warn = await se.waitFor((l) => l.msg === 'ignoring the snapshot on disk', 'warning');
  assert.match(warn.err, /snapshot\.json/);
  assert.equal(await se.stop(), 0);
  const bad = track(startEngineProcess(['--data', dir, '--vip-mode', 'l3']));
  assert.equal(await bad.exited, 2);
});
