// Helpers of the SNI passthrough tests (engine and end to end): TLS backends with their own
// certificates, and a TLS client that reports which certificate it saw and what came back.
import net from 'node:net';
import tls from 'node:tls';
import { selfSigned } from '../../src/controller/certs/selfsigned.js';

export interface TlsBackend { ip: string; port: number; cert: string; close(): Promise<void> }

/** A TLS server with its own certificate for `host`, answering `<name>:<line>`. */
export async function startTlsBackend(ip: string, host: string, name: string): Promise<TlsBackend> {
  const { cert, key } = selfSigned({ commonName: host, keyType: 'ec' });
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert, key }, (s) => {
    s.on('error', () => {});
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, ip, r));
  const close = () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); });
  return { ip, port: (server.address() as net.AddressInfo).port, cert, close };
}

/** A TLS exchange: the server's certificate subject and its answer to `line`; or the error that closed it. */
export function tlsExchange(ip: string, port: number, servername: string | undefined, ca: string | undefined, line = 'hi'): Promise<{ cn?: string; reply?: string; error?: string }> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: ip, port, ...(servername !== undefined ? { servername } : {}), ...(ca ? { ca } : { rejectUnauthorized: false }) });
    let cn: string | undefined;
    c.once('secureConnect', () => {
      cn = c.getPeerCertificate().subject?.CN as string | undefined;
      c.write(line);
    });
    c.once('data', (d) => { c.destroy(); resolve({ cn, reply: d.toString() }); });
    c.once('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    c.once('close', () => resolve({ error: 'closed' }));
  });
}
