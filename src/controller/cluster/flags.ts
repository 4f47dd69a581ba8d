// Command-line flags of a controller replica on etcd (`portico controller --store etcd`) and
// their translation into cluster options. The etcd TLS/auth flags are shared with
// `portico store migrate`. The etcd password comes from a file or PORTICO_ETCD_PASSWORD, never
// from the command line (where `ps` would show it).
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseEndpoints, type EtcdConnection } from '../store/etcd-client.js';
import type { ClusterOptions } from './runtime.js';

export interface EtcdFlags { etcdCa?: string; etcdCert?: string; etcdKey?: string; etcdUser?: string; etcdPasswordFile?: string; etcdTimeout?: string }
export interface ClusterFlags extends EtcdFlags { store: string; etcdEndpoints?: string; nodeName?: string; leaseTtl?: string; listen: string }

export function etcdFlags(cmd: Command): Command {
  return cmd
    .option('--etcd-ca <file>', 'CA certificate (PEM) of the etcd members: connect with TLS')
    .option('--etcd-cert <file>', 'client certificate (PEM) for etcd TLS client auth')
    .option('--etcd-key <file>', 'private key (PEM) of --etcd-cert')
    .option('--etcd-user <name>', 'etcd user (password from --etcd-password-file or PORTICO_ETCD_PASSWORD)')
    .option('--etcd-password-file <file>', 'file holding the etcd password')
    .option('--etcd-timeout <ms>', 'deadline of one etcd call', '5000');
}

export function clusterFlags(cmd: Command): Command {
  return etcdFlags(cmd
    .option('--etcd-endpoints <urls>', 'etcd members, comma-separated (with --store etcd)')
    .option('--node-name <name>', 'this replica\'s name in the cluster (default: host name and listen port)')
    .option('--lease-ttl <seconds>', 'leader lease and member liveness TTL (with --store etcd)', '10'));
}

/** The etcd connection of these flags (endpoints given separately); throws naming the flag. */
export function etcdConnection(endpoints: string, o: EtcdFlags, place = '--etcd-endpoints'): EtcdConnection {
  const timeoutMs = Number(o.etcdTimeout ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new Error(`--etcd-timeout: ${o.etcdTimeout} is not a number of milliseconds (at least 100)`);
  if (!!o.etcdCert !== !!o.etcdKey) throw new Error('--etcd-cert and --etcd-key go together');
  if (o.etcdCert && !o.etcdCa) throw new Error('--etcd-cert needs --etcd-ca (TLS to etcd)');
  let password = process.env.PORTICO_ETCD_PASSWORD;
  if (o.etcdPasswordFile) {
    try { password = readFileSync(o.etcdPasswordFile, 'utf8').trim(); } catch { throw new Error(`--etcd-password-file: cannot read ${o.etcdPasswordFile}`); }
  }
  if (password && !o.etcdUser) throw new Error('an etcd password was given without --etcd-user');
  const endpointsList = parseEndpoints(endpoints, place);
  if (o.etcdCa && endpointsList.some((e) => e.startsWith('http:'))) throw new Error(`${place}: use https:// endpoints with --etcd-ca`);
  return { endpoints: endpointsList, caFile: o.etcdCa, certFile: o.etcdCert, keyFile: o.etcdKey, username: o.etcdUser, password, timeoutMs };
}

/** undefined for --store sqlite; the cluster options for --store etcd. Throws a message naming the flag. */
export function clusterOptions(o: ClusterFlags): Omit<ClusterOptions, 'dataDir'> | undefined {
  if (o.store === 'sqlite') {
    if (o.etcdEndpoints) throw new Error('--etcd-endpoints needs --store etcd');
    return undefined;
  }
  if (o.store !== 'etcd') throw new Error(`--store: ${o.store} is not a store (use sqlite or etcd)`);
  if (!o.etcdEndpoints) throw new Error('--store etcd needs --etcd-endpoints URL[,URL...]');
  const leaseTtlS = Number(o.leaseTtl ?? 10);
  if (!Number.isInteger(leaseTtlS) || leaseTtlS < 1 || leaseTtlS > 300) throw new Error(`--lease-ttl: ${o.leaseTtl} is not a whole number of seconds from 1 to 300`);
  const port = o.listen.slice(o.listen.lastIndexOf(':') + 1);
  return { ...etcdConnection(o.etcdEndpoints, o), nodeName: o.nodeName ?? `${hostname()}-${port === '0' ? process.pid : port}`, leaseTtlS };
}
