// Operator performance (issue 4): translation of 10,000 LoadBalancer Services + 2,000 Ingresses
// (5,000 hosts) from empty; full sync of that into the embedded controller; a restart with
// nothing changed (zero writes); and with 1,000 Services present, the latency of one change to
// the controller (p99). Run: `npm run bench -- operator`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { V1EndpointSlice, V1Ingress, V1Secret, V1Service } from '@kubernetes/client-node';
import { translate } from '../src/operator/translate/index.js';
import { IncrementalTranslator } from '../src/operator/translate/incremental.js';
import { defaultSettings } from '../src/operator/settings/values.js';
import { emptySnapshot, type ClusterSnapshot } from '../src/operator/source/types.js';
import { createProgrammaticProvider } from '../src/operator/source/programmatic.js';
import type { Infra } from '../src/operator/translate/types.js';
import { startOperator } from '../src/operator/operator.js';
import type { StatusSink } from '../src/operator/status/types.js';

const CERT = `-----BEGIN CERTIFICATE-----
MIIBvTCCAWOgAwIBAgIUD3k0n6V7m3Q0wK7m3kq4x0hN3ZcwCgYIKoZIzj0EAwIw
-----END CERTIFICATE-----`;

function lbService(i: number): [V1Service, V1EndpointSlice] {
  const ns = `ns${i % 50}`;
  const name = `svc${i}`;
  return [
    { metadata: { name, namespace: ns, uid: `u${i}` }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    {
      metadata: { name: `${name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [1, 2, 3].map((k) => ({ addresses: [`10.${i % 250}.${Math.floor(i / 250) % 250}.${k}`], conditions: { ready: true } })),
    },
  ];
}

/** `lb` LoadBalancer Services, `ing` Ingresses over `hosts` hosts (2 paths each, 1 in 5 with TLS). */
function bigSnapshot(lb: number, ing: number, hosts: number): ClusterSnapshot {
  const s = emptySnapshot();
  for (let i = 0; i < lb; i++) {
    const [svc, eps] = lbService(i);
    s.services.set(`${svc.metadata!.namespace}/${svc.metadata!.name}`, svc);
    s.endpointSlices.set(`${eps.metadata!.namespace}/${eps.metadata!.name}`, eps);
  }
  s.ingressClasses.set('avi-lb', { metadata: { name: 'avi-lb', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'ako.vmware.com/avi-lb' } });
  for (let n = 0; n < 50; n++) {
    const ns = `web${n}`;
    s.services.set(`${ns}/backend`, { metadata: { name: 'backend', namespace: ns }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    s.endpointSlices.set(`${ns}/backend-1`, {
      metadata: { name: 'backend-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'backend' } }, addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: [`10.200.${n}.1`], conditions: { ready: true } }],
    });
    const secret: V1Secret = { metadata: { name: 'tls', namespace: ns }, data: { 'tls.crt': Buffer.from(CERT).toString('base64'), 'tls.key': Buffer.from('k').toString('base64') } };
    s.secrets.set(`${ns}/tls`, secret);
  }
  let h = 0;
  for (let i = 0; i < ing; i++) {
    const ns = `web${i % 50}`;
    const count = Math.floor(((i + 1) * hosts) / ing) - Math.floor((i * hosts) / ing);
    const rules = [];
    const tlsHosts: string[] = [];
    for (let k = 0; k < count; k++, h++) {
      const host = `h${h}.apps.example.com`;
      rules.push({ host, http: { paths: ['/', '/api'].map((path) => ({ path, pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } })) } });
      if (h % 5 === 0) tlsHosts.push(host);
    }
    const ingress: V1Ingress = { metadata: { name: `ing${i}`, namespace: ns }, spec: { rules, ...(tlsHosts.length ? { tls: [{ hosts: tlsHosts, secretName: 'tls' }] } : {}) } };
    s.ingresses.set(`${ns}/ing${i}`, ingress);
  }
  return s;
}

const INFRA: Infra = {
  tenant: 'admin', cloud: 'Default-Cloud', vrf: 'global', seGroup: 'Default-Group', dnsDomains: ['portico.local'],
  vipNetworks: [{ name: 'local-vip' }], licenseTier: 'ENTERPRISE',
};

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(0)} MB`;
}

function row(what: string, value: string, target: string, ok: boolean | undefined): void {
  console.log(`${what.padEnd(62)} ${value.padStart(12)}   target ${target.padEnd(10)} ${ok === undefined ? '' : ok ? 'ok' : 'MISSED'}`);
}

function benchTranslate(): void {
  const settings = defaultSettings();
  settings.clusterName = 'bench';
  const snap = bigSnapshot(10_000, 2_000, 5_000);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const t = translate(snap, settings, INFRA);
  const ms = performance.now() - t0;
  row(`translate 10,000 LB Services + 2,000 Ingresses (5,000 hosts)`, `${ms.toFixed(0)} ms`, '< 2000 ms', ms < 2000);
  row(`  objects built`, `${t.objects.length}`, '', undefined);
  const t1 = performance.now();
  translate(snap, settings, INFRA);
  row(`  again (warm)`, `${(performance.now() - t1).toFixed(0)} ms`, '', undefined);
  // translate() holds all 48k objects at once (the reference the tests compare with); the operator
  // streams units instead: its RSS is measured in the sync part.
  row(`  RSS with all objects held at once (Δ ${mb(process.memoryUsage().rss - rss0)})`, mb(process.memoryUsage().rss), '', undefined);
  // With --expose-gc: what stays (snapshot + translation) apart from garbage not yet collected.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) { gc(); row('  heap kept: snapshot + translation (after a GC)', mb(process.memoryUsage().heapUsed), '', undefined); }
  benchIncremental(snap, settings);
}

/** The operator's translator: everything once, then one change at a time (each rebuilds only its unit). */
function benchIncremental(start: ClusterSnapshot, settings: ReturnType<typeof defaultSettings>): void {
  const tr = new IncrementalTranslator(settings, INFRA);
  const t0 = performance.now();
  let objects = 0;
  for (const u of tr.update(start, undefined, { all: true })) objects += u.objects.length;
  row('incremental translator: everything (a full pass)', `${(performance.now() - t0).toFixed(0)} ms`, '', undefined);
  const once = (what: string, next: ClusterSnapshot) => {
    const times: number[] = [];
    // Changed, then back: every update has one object to rebuild.
    for (let k = 0; k < 20; k++) {
      const s = k % 2 === 0 ? next : start;
      const t = performance.now();
      let built = 0;
      for (const u of tr.update(s, undefined)) built += u.objects.length;
      times.push(performance.now() - t);
      if (built === 0) throw new Error(`${what}: nothing rebuilt`);
    }
    times.sort((a, b) => a - b);
    row(`  one ${what} changed: re-translation p50 / max`, `${times[10]!.toFixed(1)} / ${times[19]!.toFixed(0)} ms`, '', undefined);
  };
  const sliceKey = 'ns7/svc7-1';
  const slice = structuredClone(start.endpointSlices.get(sliceKey)!);
  slice.endpoints![0]!.addresses = ['10.99.0.7'];
  once('EndpointSlice (its Service\'s VS)', { ...start, endpointSlices: new Map(start.endpointSlices).set(sliceKey, slice) });
  const ingKey = 'web7/ing7';
  const ing = structuredClone(start.ingresses.get(ingKey)!);
  ing.spec!.rules![0]!.http!.paths[0]!.path = '/changed';
  once('Ingress (all Ingresses: one unit)', { ...start, ingresses: new Map(start.ingresses).set(ingKey, ing) });
}

const nullSink: StatusSink = { set: async () => undefined, clear: async () => undefined, event: async () => undefined };

async function startController(vipCidr: string): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const data = mkdtempSync(join(tmpdir(), 'portico-op-bench-'));
  const bin = fileURLToPath(new URL('../../bin/portico.js', import.meta.url));
  // CTL_CPU_PROF=<dir>: profile the controller (node --cpu-prof) to see where a sync's time goes.
  const prof = process.env.CTL_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CTL_CPU_PROF] : [];
  const proc = spawn(process.execPath, [...prof, bin, 'controller', '--listen', '127.30.200.1:0', '--data', data, '--vip-cidr', vipCidr], {
    env: { ...process.env, PORTICO_ADMIN_PASSWORD: 'bench-password-1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (proc.exitCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      const t0 = performance.now();
      proc.kill('SIGTERM');
      let killed = false;
      const killer = setTimeout(() => { killed = true; proc.kill('SIGKILL'); }, 10_000);
      await gone;
      clearTimeout(killer);
      const ms = performance.now() - t0;
      row('controller exits on SIGTERM', killed ? 'no (SIGKILL)' : `${ms.toFixed(0)} ms`, '< 5000 ms', !killed && ms < 5000);
    }
    rmSync(data, { recursive: true, force: true });
  };
  const url = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 30_000);
    for (const s of [proc.stdout!, proc.stderr!]) createInterface({ input: s }).on('line', (l) => {
      const m = /https?:\/\/[\d.]+:\d+/.exec(l);
      if (m) { clearTimeout(timer); resolve(m[0]); }
    });
    proc.once('exit', () => { clearTimeout(timer); resolve(undefined); });
  });
  if (!url) { await stop(); return undefined; }
  return { url, stop };
}

/** The highest RSS and heap use seen, sampled every 100 ms until stop(). */
function peakSampler(): { stop(): { rss: number; heapUsed: number } } {
  const top = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    top.rss = Math.max(top.rss, m.rss);
    top.heapUsed = Math.max(top.heapUsed, m.heapUsed);
  };
  const timer = setInterval(sample, 100);
  return { stop: () => { clearInterval(timer); sample(); return top; } };
}

async function benchSync(parts: Set<string>): Promise<void> {
  const ctl = await startController('127.30.128.0/17');
  if (!ctl) { row('sync into the embedded controller', 'skipped', '(controller not available)', undefined); return; }
  const values = () => {
    const s = defaultSettings();
    s.clusterName = 'bench';
    s.network.vipNetworkList = [{ networkName: 'local-vip' }];
    s.fullSyncFrequency = 0;
    return s;
  };
  try {
    // 1) With 1,000 Services present: one change → controller, p99.
    if (parts.has('latency')) {
      const provider = createProgrammaticProvider();
      let snap = bigSnapshot(1_000, 0, 0);
      provider.push(snap);
      const op = await startOperator({ controller: ctl.url, provider, sink: nullSink, settings: values(), listen: '127.30.200.1:0', username: 'admin', password: 'bench-password-1', logger: pino({ level: 'silent' }) });
      while (op.passes() === 0) await new Promise((r) => setTimeout(r, 50));
      await op.idle();
      const lat: number[] = [];
      for (let k = 0; k < 100; k++) {
        const next: ClusterSnapshot = { ...snap, endpointSlices: new Map(snap.endpointSlices) };
        const key = `ns${k % 50}/svc${k}-1`;
        const eps = structuredClone(next.endpointSlices.get(key)!);
        eps.endpoints![0]!.addresses = [`10.99.${k}.${(k % 200) + 1}`];
        next.endpointSlices.set(key, eps);
        snap = next;
        const t0 = performance.now();
        provider.push(next);
        await op.idle();
        lat.push(performance.now() - t0);
        if (op.lastReport()!.updated !== 1) throw new Error(`expected 1 update, got ${JSON.stringify(op.lastReport())}`);
      }
      lat.sort((a, b) => a - b);
      const p99 = lat[Math.floor(lat.length * 0.99) - 1]!;
      row('1,000 Services present: one change reaches the controller, p50', `${lat[49]!.toFixed(1)} ms`, '', undefined);
      row('1,000 Services present: one change reaches the controller, p99', `${p99.toFixed(1)} ms`, '< 100 ms', p99 < 100);
      const mean = async (h: typeof op.metrics.translateSeconds) => {
        const v = (await h.get()).values;
        const sum = v.find((x) => x.metricName?.endsWith('_sum'))?.value ?? 0;
        const count = v.find((x) => x.metricName?.endsWith('_count'))?.value ?? 1;
        return `${((sum / count) * 1000).toFixed(1)} ms`;
      };
      row('  of which translation (mean, all passes)', await mean(op.metrics.translateSeconds), '', undefined);
      row('  whole pass: translate + diff + 1 PUT + status (mean)', await mean(op.metrics.syncSeconds), '', undefined);
      provider.push(emptySnapshot());
      await op.idle();
      await op.close();
    }
    // 2) From empty: 10,000 LB Services + 2,000 Ingresses fully synced; then a restart with nothing changed.
    if (!parts.has('sync')) return;
    // SCALE=0.1 shrinks the sync part (profiling); the goals are for SCALE=1.
    const scale = Number(process.env.SCALE ?? 1);
    const snap = bigSnapshot(Math.round(10_000 * scale), Math.round(2_000 * scale), Math.round(5_000 * scale));
    {
      const provider = createProgrammaticProvider();
      provider.push(snap);
      const peak = peakSampler();
      const t0 = performance.now();
      const op = await startOperator({ controller: ctl.url, provider, sink: nullSink, settings: values(), listen: '127.30.200.1:0', username: 'admin', password: 'bench-password-1', logger: pino({ level: 'silent' }), concurrency: 16 });
      while (op.passes() === 0) await new Promise((r) => setTimeout(r, 100));
      await op.idle();
      const ms = performance.now() - t0;
      const r = op.lastReport()!;
      const top = peak.stop();
      row('full sync from empty (10,000 LB + 2,000 Ingresses)', `${(ms / 1000).toFixed(1)} s`, '< 60 s', ms < 60_000 && r.failures.length === 0);
      row(`  writes ${r.created} created, failures ${r.failures.length}`, '', '', undefined);
      // Refused writes, grouped by what the controller said (numbers and names folded), so a cause is visible.
      const causes = new Map<string, number>();
      for (const f of r.failures) { const k = `${f.type} ${f.errorClass}: ${f.message.replace(/\d+/g, 'N').slice(0, 120)}`; causes.set(k, (causes.get(k) ?? 0) + 1); }
      for (const [k, n] of causes) console.log(`    ${n} × ${k}`);
      row('  operator RSS after the sync', mb(process.memoryUsage().rss), '< 300 MB', process.memoryUsage().rss < 300 * 1024 * 1024);
      row('  operator RSS, highest during the sync (sampled every 100 ms)', mb(top.rss), '< 300 MB', top.rss < 300 * 1024 * 1024);
      row('  V8 heap used, highest during the sync', mb(top.heapUsed), '', undefined);
      const m = process.memoryUsage();
      row(`  now: heap committed ${mb(m.heapTotal)}, used ${mb(m.heapUsed)}, external ${mb(m.external)}`, '', '', undefined);
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) { gc(); row('  heap kept after a GC (with --expose-gc): snapshot, translation, state', mb(process.memoryUsage().heapUsed), '', undefined); }
      // HEAP_SNAPSHOT=<file>: what the operator keeps after a full sync (open it in Chrome DevTools).
      if (process.env.HEAP_SNAPSHOT) writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
      await op.close();
    }
    {
      const provider = createProgrammaticProvider();
      provider.push(snap);
      const t0 = performance.now();
      const op = await startOperator({ controller: ctl.url, provider, sink: nullSink, settings: values(), listen: '127.30.200.1:0', username: 'admin', password: 'bench-password-1', logger: pino({ level: 'silent' }), concurrency: 16 });
      while (op.passes() === 0) await new Promise((r) => setTimeout(r, 50));
      await op.idle();
      const ms = performance.now() - t0;
      const r = op.lastReport()!;
      const writes = r.created + r.updated + r.deleted;
      row('restart with nothing changed: ready', `${(ms / 1000).toFixed(1)} s`, '< 10 s', ms < 10_000);
      row('restart with nothing changed: writes', `${writes}`, '0', writes === 0);
      await op.close();
    }
  } finally {
    await ctl.stop();
  }
}

// OPERATOR_BENCH=translate,latency,sync picks parts (default: all; the full sync takes minutes on a busy machine).
// Several parts run one process each: a part's RSS is then its own, not what an earlier one left.
const parts = new Set((process.env.OPERATOR_BENCH ?? 'translate,latency,sync').split(','));
if (parts.size > 1) {
  for (const part of ['translate', 'latency', 'sync'].filter((p) => parts.has(p))) {
    spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, OPERATOR_BENCH: part } });
  }
} else {
  if (parts.has('translate')) benchTranslate();
  if (parts.has('latency') || parts.has('sync')) await benchSync(parts);
}
