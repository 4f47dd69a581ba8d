// One way to open an etcd client for the controller's store, the cluster runtime and
// `portico store migrate`: endpoints, TLS (CA, client cert) and user/password auth, and a
// deadline on every unary call so that a cluster without quorum fails a request instead of
// hanging it (the API then answers 503).
import { Etcd3, type IOptions } from 'etcd3';
import { readFileSync } from 'node:fs';

export interface EtcdConnection {
  /** `http(s)://host:port` of one or more members. */
  endpoints: string[];
  /** PEM files for TLS to etcd: the CA that signed the members, and an optional client pair. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Deadline of one etcd call (default 5000 ms). */
  timeoutMs?: number;
}

/** `a,b` or `etcd:a,b` → endpoint URLs (a bare host:port gets http://). */
export function parseEndpoints(spec: string, place = '--etcd-endpoints'): string[] {
  const list = spec.replace(/^etcd:/, '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new Error(`${place}: give at least one etcd URL (http://host:2379)`);
  return list.map((e) => {
    const url = /^[a-z]+:\/\//i.test(e) ? e : `http://${e}`;
    let u: URL;
    try { u = new URL(url); } catch { throw new Error(`${place}: ${e} is not a URL`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${place}: ${e}: use http:// or https://`);
    if (!u.port) throw new Error(`${place}: ${e}: give the port (etcd listens on 2379 by default)`);
    return `${u.protocol}//${u.host}`;
  });
}

export function connectEtcd(c: EtcdConnection): Etcd3 {
  const timeout = c.timeoutMs ?? 5000;
  const opts: IOptions = {
    hosts: c.endpoints,
    dialTimeout: timeout,
    // Streams (watch, lease keep-alive) live long; every other call gets a deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
  };
  if (c.caFile) {
    opts.credentials = {
      rootCertificate: readFileSync(c.caFile),
      ...(c.certFile ? { certChain: readFileSync(c.certFile) } : {}),
      ...(c.keyFile ? { privateKey: readFileSync(c.keyFile) } : {}),
    };
  }
  if (c.username) opts.auth = { username: c.username, password: c.password ?? '' };
  return new Etcd3(opts);
}
