// `portico controller`: the control plane alone (REST API, store, SE protocol).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startController } from '../../controller/server.js';
import { clusterFlags, clusterOptions, type ClusterFlags } from '../../controller/cluster/flags.js';

interface Opts extends ClusterFlags { listen: string; data: string; store: string; tlsCert?: string; tlsKey?: string; tls?: string; insecureHttp?: boolean; vipCidr?: string; logLevel: string; localEngines?: boolean; minEngines?: string; seDownTimeout?: string; metricsTokenFile?: string }

export function registerController(program: Command): void {
  const cmd = program.command('controller')
    .description('run the controller (REST API, store, IPAM/DNS, service engine protocol)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:9080')
    .option('--data <dir>', 'data directory (SQLite store, admin password)', '.portico')
    .option('--store <kind>', 'sqlite or etcd', 'sqlite')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls <mode>', 'auto: serve HTTPS with a self-signed certificate generated once into DATA/tls/, even on loopback (beyond loopback that is the default without --tls-cert)')
    .option('--insecure-http', 'serve plain HTTP even when listening beyond loopback (not recommended)')
    .option('--vip-cidr <cidr>', 'subnet of the local VIP network seeded into an empty store', '127.77.0.0/24')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--local-engines', 'run the service engines of the local cloud (Default-Cloud) as child processes (docs/placement.md)')
    .option('--min-engines <n>', 'with --local-engines: engines Default-Group keeps at least')
    .option('--se-down-timeout <seconds>', 'an SE without heartbeat this long is down and its virtual services move', '10')
    .option('--metrics-token-file <file>', 'a bearer token (at least 16 characters) that may read /metrics, for a Prometheus scrape job');
  clusterFlags(cmd);
  cmd.action(async (o: Opts) => {
      let cluster;
      try { cluster = clusterOptions(o); } catch (e) {
        console.error(`portico controller: ${(e as Error).message}`);
        process.exit(2);
      }
      if (!!o.tlsCert !== !!o.tlsKey) {
        console.error('portico controller: --tls-cert and --tls-key go together');
        process.exit(2);
      }
      if (o.tls !== undefined && o.tls !== 'auto') { console.error(`portico controller: --tls: expected auto, got "${o.tls}"`); process.exit(2); }
      if (o.tls && o.tlsCert) { console.error('portico controller: --tls auto generates a certificate; give it or --tls-cert/--tls-key, not both'); process.exit(2); }
      if (o.insecureHttp && (o.tls || o.tlsCert)) { console.error('portico controller: --insecure-http contradicts --tls/--tls-cert'); process.exit(2); }
      const downS = Number(o.seDownTimeout);
      const minEngines = o.minEngines === undefined ? undefined : Number(o.minEngines);
      if (!(downS >= 1 && downS <= 3600)) { console.error('portico controller: --se-down-timeout: seconds from 1 to 3600'); process.exit(2); }
      if (minEngines !== undefined && !(Number.isInteger(minEngines) && minEngines >= 0 && minEngines <= 1000)) { console.error('portico controller: --min-engines: an integer from 0 to 1000'); process.exit(2); }
      let given: { cert: Buffer; key: Buffer } | undefined;
      if (o.tlsCert && o.tlsKey) {
        try { given = { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) }; } catch (e) {
          console.error(`portico controller: --tls-cert/--tls-key: ${(e as Error).message}`);
          process.exit(2);
        }
      }
      let metricsToken: string | undefined;
      if (o.metricsTokenFile) {
        try { metricsToken = readFileSync(o.metricsTokenFile, 'utf8').trim(); } catch (e) {
          console.error(`portico controller: --metrics-token-file: ${(e as Error).message}`);
          process.exit(2);
        }
      }
      const dataDir = resolve(o.data);
      const c = await startController({
        listen: o.listen, dataDir, vipCidr: o.vipCidr,
        adminPassword: process.env.PORTICO_ADMIN_PASSWORD || undefined,
        logger: { level: o.logLevel },
        tls: given ?? (o.tls ? 'self-signed' : undefined),
        insecureHttp: o.insecureHttp,
        metricsToken,
        cluster,
        lifecycle: { seDownTimeoutMs: downS * 1000, localEngines: o.localEngines ? { minEngines: minEngines === undefined ? undefined : { 'Default-Group': minEngines } } : undefined },
      }).catch((e: Error) => { console.error(`portico controller: ${e.message}`); process.exit(1); });
      if (c.generatedPassword) console.log(`Generated admin password (also in ${resolve(dataDir, 'admin-password')}): ${c.generatedPassword}`);
      if (c.generatedCert) {
        const g = c.generatedCert;
        console.log(`TLS: self-signed certificate ${g.created ? 'generated into' : 'from'} ${g.certFile}, SHA-256 fingerprint ${g.fingerprint256}`);
        console.log(`  engines pin it: copy ${g.certFile} to the engine host and run \`portico engine --controller ${c.url} --controller-ca <that file> ...\`; compare the fingerprint with \`openssl x509 -noout -fingerprint -sha256 -in <that file>\``);
      }
      if (c.transport === 'http-insecure') console.warn(`portico controller: WARNING: --insecure-http: the API is plain HTTP on ${o.listen}, beyond loopback; passwords, session cookies and SE secrets cross the network unencrypted`);
      console.log(`Portico controller listening on ${c.url}`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        c.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
