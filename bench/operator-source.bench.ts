// The operator's sources (issue 4): how fast a change in the cluster (the API double, through
// client-node informers) or in a manifest folder reaches the operator as a new snapshot, and how
// long the initial sync of a large cluster takes. Run: `npm run bench -- operator-source`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubernetesProvider } from '../src/operator/source/kubernetes.js';
import { createManifestProvider } from '../src/operator/source/manifests.js';
import type { ClusterSnapshot } from '../src/operator/source/types.js';
import { KubeApiDouble } from '../test/support/kube-api-double/index.js';

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function service(i: number): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc${i}`, namespace: `ns${i % 50}` }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
}

function slice(i: number): object {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `svc${i}-1`, namespace: `ns${i % 50}`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [1, 2, 3].map((k) => ({ addresses: [`10.${i % 250}.${Math.floor(i / 250) % 250}.${k}`], conditions: { ready: true } })),
  };
}

/** Waits for the next snapshot that satisfies `check`, returning the ms it took from `t0`. */
function nextSnapshot(state: { wait?: (s: ClusterSnapshot) => void }, check: (s: ClusterSnapshot) => boolean, t0: number): Promise<number> {
  return new Promise((resolve) => {
    state.wait = (s) => { if (check(s)) { state.wait = undefined; resolve(performance.now() - t0); } };
  });
}

async function kubernetes(services: number, changes: number): Promise<void> {
  const double = await KubeApiDouble.start({ host: '127.31.8.1' });
  for (let i = 0; i < services; i++) { double.create(service(i)); double.create(slice(i)); }
  const state: { wait?: (s: ClusterSnapshot) => void } = {};
  const provider = createKubernetesProvider({ kubeConfig: double.kubeConfig(), crdDiscoveryMs: 0 });
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  await provider.start((s) => state.wait?.(s));
  const initial = performance.now() - t0;
  const latencies: number[] = [];
  for (let n = 0; n < changes; n++) {
    const i = n % services;
    const t = performance.now();
    const done = nextSnapshot(state, (s) => s.services.get(`ns${i % 50}/svc${i}`)?.metadata?.labels?.n === String(n), t);
    double.patch('v1', 'Service', `svc${i}`, `ns${i % 50}`, { metadata: { labels: { n: String(n) } } });
    latencies.push(await done);
  }
  console.log(`kubernetes provider, ${services} Services + ${services} EndpointSlices: initial sync ${initial.toFixed(0)} ms (RSS +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(0)} MB, double in-process);`
    + ` one change → snapshot over ${changes} changes: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`);
  await provider.stop();
  await double.stop();
}

async function manifests(services: number, changes: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-bench-manifests-'));
  try {
    const perFile = 100;
    for (let f = 0; f < services / perFile; f++) {
      const docs: string[] = [];
      for (let i = f * perFile; i < (f + 1) * perFile; i++) docs.push(JSON.stringify(service(i)), JSON.stringify(slice(i)));
      writeFileSync(join(dir, `apps-${f}.yaml`), docs.join('\n---\n'));
    }
    const state: { wait?: (s: ClusterSnapshot) => void } = {};
    const provider = createManifestProvider(dir);
    const t0 = performance.now();
    await provider.start((s) => state.wait?.(s));
    const initial = performance.now() - t0;
    const latencies: number[] = [];
    for (let n = 0; n < changes; n++) {
      const t = performance.now();
      const done = nextSnapshot(state, (s) => s.services.get('default/edited')?.metadata?.labels?.n === String(n), t);
      writeFileSync(join(dir, 'edited.yaml'), `apiVersion: v1\nkind: Service\nmetadata: {name: edited, labels: {n: "${n}"}}\nspec: {type: LoadBalancer}\n`);
      latencies.push(await done);
    }
    console.log(`manifest provider, ${services} Services + ${services} EndpointSlices in ${services / perFile} files: initial read ${initial.toFixed(0)} ms;`
      + ` one file edit → snapshot over ${changes} edits: p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms (debounce 100 ms included)`);
    await provider.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await kubernetes(1000, 200);
await kubernetes(10_000, 20);
await manifests(1000, 30);
await manifests(10_000, 10);
