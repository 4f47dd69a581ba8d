// Helpers for the engine tests: UUIDs, snapshot builders, real backend servers on loopback
// (127.21.0.0/16 is this suite's range), and polling with a deadline.
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '../../src/engine/snapshot.js';

export const uuid = (type: string) => `${type}-${randomUUID()}`;

export const silentLog = { info() {}, warn() {}, error() {} };

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Backend { ip: string; port: number; name: string; close(): Promise<void>; connections: number }

/** A TCP server that answers every line with `<name>:<line>` and closes its side after the client's FIN. */
export async function tcpBackend(ip: string, name: string, port = 0): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const b: Backend = { ip, port: 0, name, connections: 0, close: async () => {} };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
    // Half-close: answer once more after the client's FIN, then end.
    s.on('end', () => s.end(`${name}:bye`));
  });
  await new Promise<void>((r) => server.listen(port, ip, r));
  b.port = (server.address() as AddressInfo).port;
  b.close = () => new Promise((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  });
  return b;
}

export async function httpBackend(ip: string, name: string, status = 200): Promise<Backend & { status: number }> {
  const b = { ip, port: 0, name, connections: 0, status, close: async () => {} };
  const server = http.createServer((req, res) => {
    b.connections++;
    res.writeHead(b.status, { 'content-type': 'text/plain' });
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, ip, r));
  b.port = (server.address() as AddressInfo).port;
  b.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return b;
}

export async function udpBackend(ip: string, name: string): Promise<Backend> {
  const sock = dgram.createSocket('udp4');
  const b: Backend = { ip, port: 0, name, connections: 0, close: async () => {} };
  sock.on('message', (msg, rinfo) => {
    b.connections++;
    sock.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, ip, r));
  b.port = sock.address().port;
  b.close = () => new Promise((r) => sock.close(() => r()));
  return b;
}

/** One request/response over a fresh TCP connection: sends `line`, half-closes, returns all it got. */
export function tcpExchange(ip: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: ip, port, allowHalfOpen: true });
    let got = '';
    s.on('connect', () => s.end(line));
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => {
      s.end();
      resolve(got);
    });
    s.on('error', reject);
  });
}

export function udpExchange(ip: string, port: number, msg: string, from?: dgram.Socket): Promise<{ reply: string; rinfo: dgram.RemoteInfo }> {
  const sock = from ?? dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      cleanup();
      reject(new Error('no UDP reply'));
    }, 3000);
    const onMsg = (m: Buffer, rinfo: dgram.RemoteInfo) => {
      cleanup();
      resolve({ reply: m.toString(), rinfo });
    };
    const cleanup = () => {
      clearTimeout(t);
      sock.removeListener('message', onMsg);
      if (!from) sock.close();
    };
    sock.on('message', onMsg);
    sock.send(msg, port, ip);
  });
}

// ---- snapshot builders (stored form: refs are bare UUIDs) ----

export class SnapshotBuilder {
  version = 1;
  objects: Record<string, Record<string, any>[]> = {};
  dns: Snapshot['dns'];
  readonly l4Profile = this.add('applicationprofile', { name: 'System-L4-Application', type: 'APPLICATION_PROFILE_TYPE_L4' });
  readonly dnsProfile = this.add('applicationprofile', { name: 'System-DNS', type: 'APPLICATION_PROFILE_TYPE_DNS' });
  readonly tcpProfile = this.add('networkprofile', { name: 'System-TCP-Proxy', profile: { type: 'PROTOCOL_TYPE_TCP_PROXY' } });
  readonly udpProfile = this.add('networkprofile', { name: 'System-UDP-Fast-Path', profile: { type: 'PROTOCOL_TYPE_UDP_FAST_PATH', udp_fast_path_profile: { session_idle_timeout: 1 } } });

  add(type: string, obj: Record<string, any>): string {
    const o = { uuid: uuid(type), ...obj };
    (this.objects[type] ??= []).push(o);
    return o.uuid;
  }

  get(type: string, id: string): Record<string, any> {
    const o = this.objects[type]?.find((x) => x.uuid === id);
    if (!o) throw new Error(`no ${type} ${id}`);
    return o;
  }

  remove(type: string, id: string): void {
    this.objects[type] = (this.objects[type] ?? []).filter((x) => x.uuid !== id);
  }

  pool(name: string, servers: { ip: string; port: number; enabled?: boolean; ratio?: number }[], extra: Record<string, any> = {}): string {
    return this.add('pool', { name, servers: servers.map((s) => ({ ip: { addr: s.ip, type: 'V4' }, port: s.port, enabled: s.enabled ?? true, ratio: s.ratio ?? 1 })), ...extra });
  }

  vsvip(addr: string): string {
    return this.add('vsvip', { name: `vip-${addr}`, vip: [{ vip_id: '0', ip_address: { addr, type: 'V4' } }] });
  }

  l4vs(name: string, addr: string, ports: number[], pool: string | undefined, extra: Record<string, any> = {}): string {
    return this.add('virtualservice', {
      name, type: 'VS_TYPE_NORMAL', enabled: true,
      vsvip_ref: this.vsvip(addr),
      application_profile_ref: this.l4Profile,
      network_profile_ref: extra.udp ? this.udpProfile : this.tcpProfile,
      services: ports.map((p) => ({ port: p, port_range_end: p })),
      ...(pool ? { pool_ref: pool } : {}),
      ...extra,
    });
  }

  /** A copy with a new version (each call bumps it). */
  build(): Snapshot {
    return JSON.parse(JSON.stringify({ version: this.version++, objects: this.objects, dns: this.dns }));
  }
}

/** Whether `addr/32` is on `lo` (L2 VIP mode tests run on lo). */
export const onLo = (addr: string) => execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(`${addr}/32`);

/** L2 VIP mode tests change lo's addresses: they need root and iproute2. */
export const canAdminLo = (() => {
  try {
    execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo']);
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();
