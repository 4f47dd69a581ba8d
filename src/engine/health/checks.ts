// One health check of one server, by monitor type. Each resolves {ok, reason} within the
// monitor's receive_timeout and never throws.
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface CheckResult { ok: boolean; reason?: string }
export interface MonitorSpec {
  uuid: string;
  name: string;
  type: string;
  sendIntervalMs: number;
  timeoutMs: number;
  successfulChecks: number;
  failedChecks: number;
  port?: number;
  /** HTTP(S): the request line, and the status classes/codes that count as up. */
  httpRequest: string;
  httpCodes: string[];
  httpResponse?: string;
  /** TCP/UDP: optional payload to send and substring expected back. */
  request?: string;
  response?: string;
  /** DNS: the name queried and the record type. */
  queryName: string;
  qtype: string;
}

/** Reads a stored healthmonitor object (Avi field names, Avi defaults). */
export function monitorSpecFrom(m: Record<string, any>): MonitorSpec {
  const http = m.https_monitor ?? m.http_monitor ?? {};
  const tcp = m.tcp_monitor ?? {};
  const udp = m.udp_monitor ?? {};
  const dns = m.dns_monitor ?? {};
  const num = (v: unknown, d: number) => (typeof v === 'number' && v > 0 ? v : d);
  return {
    uuid: m.uuid,
    name: m.name,
    type: String(m.type ?? 'HEALTH_MONITOR_TCP'),
    sendIntervalMs: num(m.send_interval, 10) * 1000,
    timeoutMs: num(m.receive_timeout, 4) * 1000,
    successfulChecks: num(m.successful_checks, 2),
    failedChecks: num(m.failed_checks, 2),
    port: typeof m.monitor_port === 'number' && m.monitor_port > 0 ? m.monitor_port : undefined,
    httpRequest: typeof http.http_request === 'string' && http.http_request ? http.http_request : 'GET / HTTP/1.0',
    httpCodes: Array.isArray(http.http_response_code) && http.http_response_code.length ? http.http_response_code : ['HTTP_2XX', 'HTTP_3XX'],
    httpResponse: typeof http.http_response === 'string' && http.http_response ? http.http_response : undefined,
    request: (m.type === 'HEALTH_MONITOR_UDP' ? udp.udp_request : tcp.tcp_request) || undefined,
    response: (m.type === 'HEALTH_MONITOR_UDP' ? udp.udp_response : tcp.tcp_response) || undefined,
    queryName: typeof dns.query_name === 'string' && dns.query_name ? dns.query_name : 'www.google.com',
    qtype: dns.qtype === 'DNS_QUERY_TYPE_AAAA' ? 'AAAA' : 'A',
  };
}

export function runCheck(spec: MonitorSpec, ip: string, serverPort: number): Promise<CheckResult> {
  const port = spec.port ?? serverPort;
  switch (spec.type) {
    case 'HEALTH_MONITOR_HTTP':
      return httpCheck(spec, ip, port, false);
    case 'HEALTH_MONITOR_HTTPS':
      return httpCheck(spec, ip, port, true);
    case 'HEALTH_MONITOR_UDP':
      return udpCheck(spec, ip, port);
    case 'HEALTH_MONITOR_DNS':
      return dnsCheck(spec, ip, port);
    default:
      return tcpCheck(spec, ip, port);
  }
}

/** Runs `start` with a deadline; `finish` may be called once, later calls are ignored. */
function withDeadline(timeoutMs: number, start: (finish: (r: CheckResult) => void) => () => void): Promise<CheckResult> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const finish = (r: CheckResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cleanup();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      cleanup = start(finish);
    } catch (err) {
      finish({ ok: false, reason: (err as Error).message });
    }
  });
}

function tcpCheck(spec: MonitorSpec, ip: string, port: number): Promise<CheckResult> {
  return withDeadline(spec.timeoutMs, (finish) => {
    const sock = net.connect({ host: ip, port });
    let got = '';
    sock.on('connect', () => {
      if (!spec.request && !spec.response) return finish({ ok: true });
      if (spec.request) sock.write(spec.request);
      if (!spec.response) finish({ ok: true });
    });
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (spec.response && got.includes(spec.response)) finish({ ok: true });
    });
    sock.on('end', () => finish({ ok: false, reason: 'connection closed before the expected response' }));
    sock.on('error', (e) => finish({ ok: false, reason: `connect: ${e.message}` }));
    return () => sock.destroy();
  });
}

/** Status code class matching: HTTP_2XX … or HTTP_ANY. */
export function codeMatches(status: number, codes: string[]): boolean {
  for (const c of codes) {
    if (c === 'HTTP_ANY') return true;
    const m = /^HTTP_(\d)XX$/.exec(c);
    if (m && Math.floor(status / 100) === Number(m[1])) return true;
  }
  return false;
}

function httpCheck(spec: MonitorSpec, ip: string, port: number, secure: boolean): Promise<CheckResult> {
  return withDeadline(spec.timeoutMs, (finish) => {
    // The configured request is a request line (`GET /path HTTP/1.0`), optionally with headers after \r\n.
    const req = spec.httpRequest.replace(/\r?\n/g, '\r\n');
    const hasHost = /\r\nhost:/i.test(req);
    const payload = `${req}${hasHost ? '' : `\r\nHost: ${ip.includes(':') ? `[${ip}]` : ip}`}\r\nConnection: close\r\nUser-Agent: portico-health\r\n\r\n`;
    const sock = secure
      ? tls.connect({ host: ip, port, rejectUnauthorized: false, servername: net.isIP(ip) ? undefined : ip })
      : net.connect({ host: ip, port });
    let got = '';
    let status = 0;
    sock.once(secure ? 'secureConnect' : 'connect', () => sock.write(payload));
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (!status) {
        const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(got);
        if (m) status = Number(m[1]);
        else if (got.length > 16 && !got.startsWith('HTTP/')) return finish({ ok: false, reason: 'not an HTTP response' });
      }
      if (status && !codeMatches(status, spec.httpCodes)) return finish({ ok: false, reason: `HTTP status ${status}` });
      if (status && (!spec.httpResponse || got.includes(spec.httpResponse))) finish({ ok: true });
    });
    sock.on('end', () => finish(status ? { ok: false, reason: 'response did not contain the expected text' } : { ok: false, reason: 'connection closed without a response' }));
    sock.on('error', (e) => finish({ ok: false, reason: `${secure ? 'https' : 'http'}: ${e.message}` }));
    return () => sock.destroy();
  });
}

function udpCheck(spec: MonitorSpec, ip: string, port: number): Promise<CheckResult> {
  return withDeadline(spec.timeoutMs, (finish) => {
    const sock = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
    sock.on('error', (e) => finish({ ok: false, reason: `udp: ${e.message}` }));
    sock.on('message', (msg) => {
      if (!spec.response || msg.toString('latin1').includes(spec.response)) finish({ ok: true });
    });
    // A connected socket reports ICMP port unreachable as an error (ECONNREFUSED).
    sock.connect(port, ip, () => sock.send(Buffer.from(spec.request ?? 'portico-health')));
    return () => sock.close();
  });
}

function dnsCheck(spec: MonitorSpec, ip: string, port: number): Promise<CheckResult> {
  return withDeadline(spec.timeoutMs, (finish) => {
    const sock = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
    const id = Math.floor(Math.random() * 65535);
    sock.on('error', (e) => finish({ ok: false, reason: `dns: ${e.message}` }));
    sock.on('message', (msg) => {
      try {
        const p = dnsPacket.decode(msg) as { id?: number; rcode?: string };
        if (p.id !== id) return;
        finish(p.rcode === 'NOERROR' ? { ok: true } : { ok: false, reason: `DNS rcode ${p.rcode}` });
      } catch {
        finish({ ok: false, reason: 'malformed DNS answer' });
      }
    });
    const q = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: spec.qtype as 'A', name: spec.queryName }] });
    sock.connect(port, ip, () => sock.send(q));
    return () => sock.close();
  });
}
