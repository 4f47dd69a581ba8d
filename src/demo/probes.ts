// Real clients for the demo's checks and for tests: HTTP(S) with a chosen Host/SNI to a VIP, and
// DNS over UDP to the DNS virtual service.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSocket } from 'node:dgram';
import { TLSSocket } from 'node:tls';
import dnsPacket from 'dns-packet';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** TLS only: the certificate's subject CN and SANs the server presented. */
  peerCert?: { subjectCN?: string; subjectaltname?: string };
}

/** GET `path` from vip:port with the Host header (and SNI) set to `host`. */
export function httpGet(opts: { vip: string; port: number; host?: string; path?: string; tls?: boolean; timeoutMs?: number }): Promise<HttpResult> {
  const { vip, port, host, path = '/', tls = false, timeoutMs = 5000 } = opts;
  return new Promise((resolve, reject) => {
    const headers = host ? { host: port === (tls ? 443 : 80) ? host : `${host}:${port}` } : undefined;
    const common = { host: vip, port, path, method: 'GET', headers, agent: false as const, timeout: timeoutMs };
    const req = tls
      ? httpsRequest({ ...common, servername: host, rejectUnauthorized: false })
      : httpRequest(common);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const result: HttpResult = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
        const sock = res.socket;
        if (sock instanceof TLSSocket) {
          const cert = sock.getPeerCertificate();
          result.peerCert = { subjectCN: cert?.subject?.CN as string | undefined, subjectaltname: cert?.subjectaltname };
        }
        resolve(result);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${vip}:${port} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Asks the DNS server at `server:53` (UDP) for `name`; resolves to the rcode and the A records. */
export function dnsQuery(server: string, name: string, type: 'A' | 'AAAA' = 'A', port = 53, timeoutMs = 3000): Promise<{ rcode: string; addresses: string[] }> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const id = Math.floor(Math.random() * 65535);
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no DNS answer from ${server}:${port} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      try {
        const p = dnsPacket.decode(msg);
        const rcode = (p as any).rcode ?? 'NOERROR';
        resolve({ rcode, addresses: (p.answers ?? []).filter((a) => a.type === type).map((a) => String((a as any).data)) });
      } catch (err) {
        reject(err);
      }
    });
    sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
    const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
    sock.send(q, port, server);
  });
}
