// UDP proxy for one VIP:port: one flow per client address:port, each with its own upstream
// socket to the server the pool picked; replies go back to the client from the VIP socket.
// Flows idle longer than the timeout are closed by a periodic sweep (no timer per packet).
import dgram from 'node:dgram';
import net from 'node:net';
import type { PoolRuntime, Upstream } from '../contracts.js';
import type { EngineMetrics } from '../runtime/metrics.js';
import type { L4Route } from './tcp.js';

class UdpFlow {
  lastSeen = Date.now();
  readonly started = this.lastSeen;
  bytesIn = 0;
  bytesOut = 0;
  readonly socket: dgram.Socket;

  constructor(readonly key: string, readonly clientIp: string, readonly clientPort: number, readonly pool: PoolRuntime, readonly server: Upstream, private readonly owner: UdpListener) {
    this.socket = dgram.createSocket(net.isIPv6(server.ip) ? 'udp6' : 'udp4');
    this.socket.on('message', this.onReply);
    this.socket.on('error', () => owner.endFlow(this));
  }

  private readonly onReply = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (rinfo.port !== this.server.port) return;
    this.lastSeen = Date.now();
    this.bytesOut += msg.length;
    this.owner.reply(msg, this.clientPort, this.clientIp);
  };

  forward(msg: Buffer): void {
    this.lastSeen = Date.now();
    this.bytesIn += msg.length;
    this.socket.send(msg, this.server.port, this.server.ip);
  }
}

export class UdpListener {
  private readonly socket: dgram.Socket;
  private readonly flows = new Map<string, UdpFlow>();
  private sweeper: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(readonly address: string, readonly port: number, public route: L4Route, readonly metrics: EngineMetrics) {
    this.socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket.on('message', this.onMessage);
    this.socket.on('error', () => {});
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.address, port: this.port, exclusive: true }, () => {
        this.socket.removeListener('error', onError);
        const idle = this.idleMs();
        this.sweeper = setInterval(this.sweep, Math.min(1000, Math.max(50, idle / 4)));
        this.sweeper.unref();
        resolve();
      });
    });
  }

  private idleMs(): number {
    return this.route.idleTimeoutMs > 0 ? this.route.idleTimeoutMs : 10_000;
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.closing) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      const route = this.route;
      if (route.maxConnections > 0 && this.metrics.counters(route.vsUuid).open >= route.maxConnections) return this.metrics.noServer(route.vsUuid);
      const pool = route.pool();
      const server = pool?.pick({ clientIp: rinfo.address, clientPort: rinfo.port });
      if (!pool || !server) return this.metrics.noServer(route.vsUuid);
      flow = new UdpFlow(key, rinfo.address, rinfo.port, pool, server, this);
      this.flows.set(key, flow);
      this.metrics.connectionOpened(route.vsUuid);
    }
    flow.forward(msg);
  };

  reply(msg: Buffer, port: number, ip: string): void {
    this.socket.send(msg, port, ip);
  }

  endFlow(flow: UdpFlow): void {
    if (this.flows.get(flow.key) !== flow) return;
    this.flows.delete(flow.key);
    flow.socket.close();
    flow.pool.done(flow.server);
    this.metrics.connectionClosed(this.route.vsUuid);
    this.metrics.request(this.route.vsUuid, 0, flow.lastSeen - flow.started, flow.bytesIn, flow.bytesOut, flow.pool.uuid, flow.server.key);
  }

  private readonly sweep = (): void => {
    const cutoff = Date.now() - this.idleMs();
    for (const flow of this.flows.values()) if (flow.lastSeen < cutoff) this.endFlow(flow);
  };

  get openFlows(): number {
    return this.flows.size;
  }

  /** Stops receiving at once (UDP has no connections to drain); open flows end. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const flow of [...this.flows.values()]) this.endFlow(flow);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
