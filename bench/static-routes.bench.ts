// Static routes at cluster scale: the operator computing the routes of 5,000 nodes, again after one
// node changed (each node's reading cached), and merging them into the VRF context's routes, and an L2-mode engine
// installing, re-applying and removing 5,000 host routes (one `ip -force -batch`), in a network
// namespace this bench creates (needs root; skipped otherwise).
//   npm run bench -- static-routes
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { V1Node } from '@kubernetes/client-node';
import { desiredStaticRoutes, mergeStaticRoutes } from '../src/operator/sync/static-routes.js';
import { StaticRouteManager } from '../src/engine/vip/routes.js';

const NODES = Number(process.env.NODES ?? 5000);
const quiet = { info() {}, warn(o: object, m?: string) { console.log('warn', m, JSON.stringify(o).slice(0, 200)); } };

function nodes(n: number): V1Node[] {
  return Array.from({ length: n }, (_, i) => ({
    metadata: { name: `node-${i}` },
    spec: { podCIDRs: [`10.${100 + (i >> 8)}.${i & 255}.0/24`] },
    status: { addresses: [{ type: 'InternalIP', address: `10.1.${i >> 8}.${i & 255}` }] },
  }));
}

const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;

async function engineInNamespace(): Promise<void> {
  const { routes } = desiredStaticRoutes(nodes(NODES), 'bench');
  // Every next hop on the namespace's one link (10.1.0.0/16), so the kernel takes them all.
  const vrf = [{ name: 'global', static_routes: routes }];
  const m = new StaticRouteManager('l2', quiet);
  let t0 = performance.now();
  await m.apply(vrf);
  console.log(`engine: install ${m.routes().size} routes          ${ms(t0)}`);
  t0 = performance.now();
  await m.apply(vrf);
  console.log(`engine: re-apply, nothing changed     ${ms(t0)}`);
  t0 = performance.now();
  await m.removeAll();
  console.log(`engine: remove them all               ${ms(t0)}`);
}

if (process.env.PORTICO_BENCH_INNER) {
  await engineInNamespace();
} else {
  const list = nodes(NODES);
  let t0 = performance.now();
  const { routes } = desiredStaticRoutes(list, 'bench');
  console.log(`operator: routes of ${NODES} nodes           ${ms(t0)}`);
  const cache = new WeakMap();
  desiredStaticRoutes(list, 'bench', cache);
  list[17] = { ...list[17]!, status: { addresses: [{ type: 'InternalIP', address: '10.1.200.1' }] } };
  t0 = performance.now();
  const again = desiredStaticRoutes(list, 'bench', cache).routes;
  console.log(`operator: again after one node changed   ${ms(t0)}`);
  t0 = performance.now();
  const merged = mergeStaticRoutes(routes, again, 'bench');
  console.log(`operator: merge into the VRF's routes   ${ms(t0)} (write needed: ${merged !== undefined})`);

  const ns = `pjbench${process.pid}`;
  if (process.getuid?.() !== 0) console.log('engine: skipped (needs root for a network namespace)');
  else {
    try {
      execFileSync('ip', ['netns', 'add', ns]);
      execFileSync('ip', ['-n', ns, 'link', 'add', 'b0', 'type', 'veth', 'peer', 'name', 'b1']);
      execFileSync('ip', ['-n', ns, 'addr', 'add', '10.1.255.254/16', 'dev', 'b0']);
      for (const l of ['b0', 'b1', 'lo']) execFileSync('ip', ['-n', ns, 'link', 'set', l, 'up']);
      spawnSync('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, PORTICO_BENCH_INNER: '1' } });
    } catch (err) {
      console.log(`engine: skipped (${(err as Error).message.split('\n')[0]})`);
    } finally {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* not created */ }
    }
  }
}
