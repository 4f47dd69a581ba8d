// Runs the Kubernetes API double as a process:
//   node dist/test/support/kube-api-double/main.js --port 0 [--host 127.0.0.1] [--kubeconfig FILE] [--max-history N] [--ako-crds] [--tls]
// Prints the URL on the first stdout line; SIGTERM/SIGINT stop it (exit 0).
import { Command } from 'commander';
import { akoCrds, KubeApiDouble } from './index.js';

const program = new Command('kube-api-double')
  .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 picks a free one)', '0')
  .option('--kubeconfig <file>', 'also write a kubeconfig pointing at the double to FILE')
  .option('--max-history <n>', 'changes kept for watch resumption (older → 410 Gone)', '1000')
  .option('--token <token>', 'require this bearer token')
  .option('--ako-crds', 'install the ako.vmware.com CRDs at start', false)
  .option('--tls', 'serve HTTPS with a fresh self-signed certificate (the kubeconfig carries it as the CA)', false)
  .parse();

const opts = program.opts<{ host: string; port: string; kubeconfig?: string; maxHistory: string; token?: string; akoCrds: boolean; tls: boolean }>();
const port = Number(opts.port);
const maxHistory = Number(opts.maxHistory);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: "${opts.port}" is not a port number`);
  process.exit(2);
}
if (!Number.isInteger(maxHistory) || maxHistory < 1) {
  console.error(`--max-history: "${opts.maxHistory}" must be a positive integer`);
  process.exit(2);
}

const double = await KubeApiDouble.start({ host: opts.host, port, maxHistory, token: opts.token, tls: opts.tls });
if (opts.akoCrds) for (const crd of akoCrds()) double.create(crd);
if (opts.kubeconfig) double.writeKubeconfig(opts.kubeconfig);
process.stdout.write(`${double.url}\n`);

const shutdown = (): void => { void double.stop().then(() => process.exit(0)); };
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
