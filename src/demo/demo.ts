// `portico demo` (what `npm start` runs): the AKO documentation's lab on this machine, step by
// step, then live checks of every part with the commands a user can run again.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startUp, type RunningUp } from '../up/up.js';
import { startBackends } from '../up/quickstart.js';
import { waitFor } from '../up/api-client.js';
import { fetchStatus, formatTable, type StatusItem } from '../up/report.js';
import { setUpLab, LAB } from './lab.js';
import { writeWorkload, WORKLOAD } from './workload.js';
import { httpGet, dnsQuery } from './probes.js';

export interface DemoOptions {
  data: string;
  listen: string;
  say?: (line: string) => void;
}

export interface RunningDemo {
  up: RunningUp;
  failures: number;
  stop(): Promise<void>;
}

export async function runDemo(opts: DemoOptions): Promise<RunningDemo> {
  const say = opts.say ?? ((l: string) => console.log(l));
  const data = resolve(opts.data);
  const manifests = join(data, 'manifests');
  rmSync(manifests, { recursive: true, force: true });
  mkdirSync(manifests, { recursive: true });

  say(`Step 1: three nginx pods (local HTTP servers on ${WORKLOAD.pods.map((p) => `${p}:${WORKLOAD.targetPort}`).join(', ')})`);
  const stopBackends = await startBackends(WORKLOAD.pods, WORKLOAD.targetPort, WORKLOAD.podNames);
  let up: RunningUp | undefined;
  try {
    say('Step 2: the controller and the lab\'s objects (Infrastructure > Clouds, Networks, VRF, Templates > IPAM/DNS, SE groups, DNS VS)');
    let dnsVip = '';
    up = await startUp({
      manifests, data, listen: opts.listen, engines: 0, vipCidr: '127.77.0.0/24',
      engineGroups: [
        { seGroup: LAB.dnsSeGroup, count: 1, namePrefix: 'avi_dns' },
        { seGroup: LAB.k8sSeGroup, count: 1, namePrefix: 'avi_k8s' },
      ],
      clusterName: LAB.clusterName, cloudName: LAB.cloud, seGroupName: LAB.k8sSeGroup,
      vipNetwork: LAB.networkName, vrfName: LAB.vrfName,
      prepare: async (api) => {
        ({ dnsVip } = await setUpLab(api, say));
        say('Step 3: service engines avi_dns-se-1 (DNS-SE-Group) and avi_k8s-se-1 (K8s-SE-Group), joined with tokens');
        await writeWorkload(manifests);
      },
    });
    say(`Step 4: the operator (clusterName ${LAB.clusterName}, vipNetworkList ${LAB.networkName}, serviceEngineGroupName ${LAB.k8sSeGroup}) on ${manifests}`);
    say('  kubectl create deployment nginx --replicas=3; kubectl expose deployment nginx --target-port=80 --port=8000 --type=LoadBalancer');
    say('  kubectl apply -f insecure-ingress.yaml -f secure-ingress.yaml (with a generated TLS secret myhost-tls)');
    const items = await waitForVips(up.operatorUrl);
    say('');
    say(formatTable(items));
    say('');
    say('Step 5: checks');
    const failures = await runChecks(items, dnsVip, say);
    say('');
    say(failures === 0 ? 'All checks passed.' : `${failures} check(s) failed.`);
    say(`Portico is up: console ${up.controllerUrl}/ (admin password in ${join(opts.data, 'admin-password')})`);
    say('Press Ctrl-C to stop.');
    const running = up;
    return {
      up: running, failures,
      stop: async () => { await running.stop(); await stopBackends(); },
    };
  } catch (err) {
    await up?.stop();
    await stopBackends();
    throw err;
  }
}

async function waitForVips(operatorUrl: string): Promise<StatusItem[]> {
  let items: StatusItem[] = [];
  const wanted = ['Service default/nginx', 'Ingress default/my-insecure-ingress', 'Ingress default/my-secure-ingress'];
  await waitFor(async () => {
    items = await fetchStatus(operatorUrl);
    return wanted.every((w) => items.some((i) => `${i.kind} ${i.namespace}/${i.name}` === w && i.loadBalancer.ingress.length > 0));
  }, 60_000, 'VIPs for the nginx Service and both Ingresses');
  return items;
}

function vipOf(items: StatusItem[], kind: string, name: string): string {
  return items.find((i) => i.kind === kind && i.name === name)!.loadBalancer.ingress[0]!.ip;
}

/** Runs `fn` until it passes or 20 s pass (the data plane may still be applying); prints ✔ or ✘. */
async function check(say: (l: string) => void, title: string, command: string, fn: () => Promise<string>): Promise<boolean> {
  let detail = '';
  let ok = false;
  try {
    await waitFor(async () => {
      try {
        detail = await fn();
        return true;
      } catch (err) {
        detail = (err as Error).message;
        return false;
      }
    }, 20_000, title);
    ok = true;
  } catch { /* detail holds the last failure */ }
  say(`  ${ok ? '✔' : '✘'} ${title}${detail ? `: ${detail}` : ''}`);
  say(`      $ ${command}`);
  return ok;
}

async function runChecks(items: StatusItem[], dnsVip: string, say: (l: string) => void): Promise<number> {
  const w = WORKLOAD;
  const l4Vip = vipOf(items, 'Service', 'nginx');
  const insecureVip = vipOf(items, 'Ingress', 'my-insecure-ingress');
  const secureVip = vipOf(items, 'Ingress', 'my-secure-ingress');
  const results: boolean[] = [];

  results.push(await check(say, `the LoadBalancer Service spreads over the three pods`,
    `for i in 1 2 3 4 5 6; do curl -s http://${l4Vip}:${w.servicePort}/; done`, async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 12 && seen.size < 3; i++) {
        const r = await httpGet({ vip: l4Vip, port: w.servicePort });
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        seen.add(String(r.headers['x-backend']));
      }
      if (seen.size < 3) throw new Error(`only ${[...seen].join(', ')} answered`);
      return [...seen].sort().join(', ');
    }));

  results.push(await check(say, `${w.insecureHost}${w.path} is routed to the pods over HTTP`,
    `curl -H 'Host: ${w.insecureHost}' http://${insecureVip}${w.path}`, async () => {
      const r = await httpGet({ vip: insecureVip, port: 80, host: w.insecureHost, path: w.path });
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return `200 from ${r.headers['x-backend']}`;
    }));

  results.push(await check(say, `${w.secureHost}${w.path} answers over HTTPS with its own certificate (SNI)`,
    `curl -k --resolve ${w.secureHost}:443:${secureVip} https://${w.secureHost}${w.path}`, async () => {
      const r = await httpGet({ vip: secureVip, port: 443, host: w.secureHost, path: w.path, tls: true });
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      if (r.peerCert?.subjectCN !== w.secureHost) throw new Error(`certificate CN is ${r.peerCert?.subjectCN}`);
      return `200 from ${r.headers['x-backend']}, certificate CN=${r.peerCert.subjectCN}`;
    }));

  results.push(await check(say, `http://${w.secureHost}${w.path} redirects to HTTPS`,
    `curl -i -H 'Host: ${w.secureHost}' http://${secureVip}${w.path}`, async () => {
      const r = await httpGet({ vip: secureVip, port: 80, host: w.secureHost, path: w.path });
      const loc = String(r.headers.location ?? '');
      if (r.status !== 302 || !loc.startsWith(`https://${w.secureHost}`)) throw new Error(`status ${r.status} location ${loc}`);
      return `${r.status} → ${loc}`;
    }));

  for (const [host, vip] of [[w.secureHost, secureVip], [w.insecureHost, insecureVip]] as const) {
    results.push(await check(say, `the DNS virtual service resolves ${host} to ${vip}`,
      `dig +short @${dnsVip} ${host}`, async () => {
        const r = await dnsQuery(dnsVip, host);
        if (!r.addresses.includes(vip)) throw new Error(`${r.rcode} ${r.addresses.join(',') || '(no answer)'}`);
        return r.addresses.join(',');
      }));
  }

  results.push(await check(say, 'portico status shows the Service and both Ingresses with their VIPs',
    'npx portico status --data .portico-demo', async () => `${items.length} objects`));
  return results.filter((ok) => !ok).length;
}
