// A "pod network" lab for the static route tests (network namespaces, test/reliability/netns.ts):
// on the bridge a client (10.250.0.10), an L2-mode SE (10.250.0.11) and a router (10.250.0.1);
// behind the router, on a veth of their own, the pods (10.99.0.0/24, one HTTP server at
// 10.99.0.20:8080 answering "pod"). The SE reaches the pods only through a route via the router.
// The client asks the VIP every 50 ms and prints ok or fail.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitLine, type Lab, type NsProcess } from '../reliability/netns.js';

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url));
export const POD = '10.99.0.20';
export const ROUTER = '10.250.0.1';

export interface PodNetwork {
  seNs: string;
  engine: NsProcess;
  /** Starts the client asking `vip`:80. */
  client(vip: string): NsProcess;
  /** The SE host's routes with Portico's proto (197), as `ip route show` prints them. */
  ours(): string;
  /** Deletes the pods' namespace (the Lab deletes the others). */
  close(): void;
}

export async function startPodNetwork(lab: Lab, dir: string, controller: { host: string; port: number }, token: string): Promise<PodNetwork> {
  const podsNs = `${lab.prefix}-pods`;
  const clientNs = lab.host('client', '10.250.0.10');
  const seNs = lab.host('se', '10.250.0.11');
  const routerNs = lab.host('router', ROUTER);
  execFileSync('ip', ['netns', 'add', podsNs]);
  const close = () => { try { execFileSync('ip', ['netns', 'del', podsNs], { stdio: 'ignore' }); } catch { /* gone */ } };
  try {
    lab.ip(routerNs, 'link', 'add', 'pods0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podsNs);
    lab.ip(routerNs, 'addr', 'add', '10.99.0.1/24', 'dev', 'pods0');
    lab.ip(routerNs, 'link', 'set', 'pods0', 'up');
    execFileSync('ip', ['netns', 'exec', routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    lab.ip(podsNs, 'addr', 'add', `${POD}/24`, 'dev', 'eth0');
    lab.ip(podsNs, 'link', 'set', 'eth0', 'up');
    lab.ip(podsNs, 'link', 'set', 'lo', 'up');
    lab.ip(podsNs, 'route', 'add', 'default', 'via', '10.99.0.1');
    await lab.relay(seNs, controller, 9080);
    const pod = lab.node(podsNs, [lab.script('pod.mjs', `
import http from 'node:http';
http.createServer((q, s) => s.end('pod')).listen(8080, ${JSON.stringify(POD)}, () => console.log('pod ready'));
`)]);
    await waitLine(pod, /pod ready/, 10_000);
  } catch (err) {
    close();
    throw err;
  }
  const engine = lab.node(seNs, [BIN, 'engine', '--controller', 'http://127.0.0.1:9080', '--join-token', token, '--name', 'routes-se',
    '--data', join(dir, 'se'), '--vip-mode', 'l2', '--interface', 'eth0', '--metrics-listen', '127.0.0.1:0']);
  const client = (vip: string) => lab.node(clientNs, [lab.script('client.mjs', `
import http from 'node:http';
for (;;) {
  const ok = await new Promise((resolve) => {
    const req = http.get({ host: ${JSON.stringify(vip)}, port: 80, path: '/', agent: false, timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'pod'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
  console.log(ok ? 'ok' : 'fail');
  await new Promise((r) => setTimeout(r, 50));
}
`)]);
  return { seNs, engine, client, ours: () => lab.ip(seNs, '-4', 'route', 'show', 'proto', '197').trim(), close };
}
