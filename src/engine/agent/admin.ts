// The SE's admin server: GET /metrics (Prometheus) and GET /healthz, on --metrics-listen.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineRuntime } from '../runtime/runtime.js';

export interface AdminServer { url: string; close(): Promise<void> }

export function parseHostPort(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${what}: expected HOST:PORT, got "${value}"`);
  return { host: m[1] ?? m[2], port };
}

export async function startAdminServer(listen: string, runtime: EngineRuntime): Promise<AdminServer> {
  const { host, port } = parseHostPort(listen, '--metrics-listen');
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      runtime.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': runtime.metrics.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version: runtime.version, virtualservices: runtime.vsStates(), servers: runtime.serverStates() }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no such path: ${path}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${h}:${addr.port}`,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}
