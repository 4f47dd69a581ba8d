// The DNS virtual service's sockets: UDP (one datagram per query) and TCP (2-byte length
// framing, several queries per connection), both answering from a shared DnsZone.
import dgram from 'node:dgram';
import net from 'node:net';
import type { DnsZone } from './zone.js';
import type { EngineMetrics } from '../runtime/metrics.js';

const TCP_IDLE_MS = 10_000;
const MAX_TCP_MESSAGE = 65_535;

export class DnsUdpListener {
  private readonly socket: dgram.Socket;
  constructor(readonly address: string, readonly port: number, public zone: DnsZone, public vsUuid: string, private readonly metrics: EngineMetrics) {
    this.socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    this.socket.on('message', this.onMessage);
    this.socket.on('error', () => {});
  }

  private readonly onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const started = Date.now();
    const res = this.zone.answer(msg);
    if (!res) return;
    this.socket.send(res, rinfo.port, rinfo.address);
    this.metrics.request(this.vsUuid, 0, Date.now() - started, msg.length, res.length);
  };

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.address, port: this.port, exclusive: true }, () => {
        this.socket.removeListener('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

export class DnsTcpListener {
  private readonly server: net.Server;
  private readonly conns = new Set<net.Socket>();
  constructor(readonly address: string, readonly port: number, public zone: DnsZone, public vsUuid: string, private readonly metrics: EngineMetrics) {
    this.server = net.createServer(this.onConnection);
    this.server.on('error', () => {});
  }

  private readonly onConnection = (sock: net.Socket): void => {
    this.conns.add(sock);
    this.metrics.connectionOpened(this.vsUuid);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.conns.delete(sock);
      this.metrics.connectionClosed(this.vsUuid);
    });
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len === 0 || len > MAX_TCP_MESSAGE) return void sock.destroy();
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const res = this.zone.answer(msg);
        if (!res) return void sock.destroy();
        const head = Buffer.allocUnsafe(2);
        head.writeUInt16BE(res.length);
        sock.write(Buffer.concat([head, res]));
        this.metrics.request(this.vsUuid, 0, 0, msg.length, res.length);
      }
    });
  };

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting; open connections finish (they are closed by their idle timeout). */
  close(): Promise<void> {
    this.server.close();
    for (const s of this.conns) s.end();
    return Promise.resolve();
  }
}
