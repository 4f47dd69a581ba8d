// Network namespaces for the L2 tests: a hub namespace holding a bridge, and one namespace per
// host (client, SEs, backends), each joined to the bridge by a veth pair whose inner end is
// `eth0`. Everything is created inside namespaces this module names (no interface, address or
// route in the host's own namespace), with 10.250.x.y addresses that exist only there.
// The controller stays on the host's loopback; engines reach it through a relay over a unix
// socket (unix sockets are not namespaced): ns 127.0.0.1:PORT → socket file → controller.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespaces cannot be made here (not root, no iproute2, no CAP_NET_ADMIN), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  const probe = `pjprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('-n', probe, 'link', 'add', 'b0', 'type', 'bridge');
  } catch (err) {
    return `cannot create network namespaces here: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`;
  } finally {
    try { ip('netns', 'del', probe); } catch { /* not created */ }
  }
  try { execFileSync('arping', ['-V'], { stdio: 'ignore' }); } catch { return 'needs arping (iputils-arping) for gratuitous ARP'; }
  return undefined;
}

export interface NsProcess { pid: number; lines: string[]; child: ChildProcess; exited: Promise<number | string>; kill(sig?: NodeJS.Signals): void }

export class Lab {
  readonly prefix = `pj${process.pid % 100000}`;
  readonly hub = `${this.prefix}-hub`;
  private readonly spaces: string[] = [];
  private readonly procs: NsProcess[] = [];
  private readonly servers: net.Server[] = [];

  constructor(readonly dir: string) {
    ip('netns', 'add', this.hub);
    this.spaces.push(this.hub);
    ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.hub, 'link', 'set', 'br0', 'up');
  }

  /** A namespace `name` with eth0 = `addr`/24 on the bridge, and lo up. */
  host(name: string, addr: string): string {
    const ns = `${this.prefix}-${name}`;
    ip('netns', 'add', ns);
    this.spaces.push(ns);
    const outer = `v${this.spaces.length}`;
    ip('-n', this.hub, 'link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', this.hub, 'link', 'set', outer, 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  }

  ip(ns: string, ...args: string[]): string { return ip('-n', ns, ...args); }

  mac(ns: string): string {
    return /link\/ether ([0-9a-f:]+)/.exec(ip('-n', ns, 'link', 'show', 'eth0'))![1]!;
  }

  /** Runs `node <args>` inside `ns`; keeps its output lines; ended by PID in close(). */
  node(ns: string, args: string[], env: NodeJS.ProcessEnv = {}): NsProcess {
    // `ip netns exec` execs the program after setns, so the PID is node's own.
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const lines: string[] = [];
    for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, sig) => r(code ?? sig ?? -1)));
    const p: NsProcess = { pid: child.pid!, lines, child, exited, kill: (sig = 'SIGKILL') => { try { process.kill(child.pid!, sig); } catch { /* gone */ } } };
    this.procs.push(p);
    return p;
  }

  /** A script file in the lab's directory (run with node()). */
  script(name: string, text: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, text);
    return file;
  }

  /**
   * Makes `target` (a host:port on the host's loopback) reachable as 127.0.0.1:`port` inside `ns`.
   */
  async relay(ns: string, target: { host: string; port: number }, port: number): Promise<void> {
    const sock = join(this.dir, `relay-${ns}.sock`);
    const server = net.createServer((c) => {
      const up = net.connect(target.port, target.host);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => server.listen(sock, r));
    this.servers.push(server);
    const file = this.script(`relay-${ns}.mjs`, `
import net from 'node:net';
net.createServer((c) => {
  const up = net.connect(${JSON.stringify(sock)});
  c.pipe(up).pipe(c);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
}).listen(${port}, '127.0.0.1', () => console.log('relay ready'));
`);
    const p = this.node(ns, [file]);
    await waitLine(p, /relay ready/, 10_000);
  }

  async close(): Promise<void> {
    for (const p of this.procs) p.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    for (const s of this.servers) s.close();
    for (const ns of this.spaces.reverse()) {
      try { ip('netns', 'del', ns); } catch { /* already gone */ }
    }
  }
}

export async function waitLine(p: NsProcess, re: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = p.lines.find((x) => re.test(x));
    if (l) return l;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`process exited before ${re}: ${p.lines.slice(-20).join('\n')}`);
    if (Date.now() > deadline) throw new Error(`no line matching ${re} within ${timeoutMs} ms: ${p.lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
