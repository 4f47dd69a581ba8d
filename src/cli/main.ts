// The `portico` command: one subcommand per program (see shared/design/INTERFACES.md).
// Only the module of the subcommand being run is loaded: an engine restarted by the supervisor
// starts faster, and no program depends on the others' code loading.
import { Command } from 'commander';

type Register = (program: Command) => void;
const commands: Record<string, () => Promise<Register>> = {
  up: async () => (await import('./commands/up.js')).registerUp,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  status: async () => (await import('./commands/status.js')).registerStatus,
  controller: async () => (await import('./commands/controller.js')).registerController,
  engine: async () => (await import('./commands/engine.js')).registerEngine,
  operator: async () => (await import('./commands/operator.js')).registerOperator,
  token: async () => (await import('./commands/token.js')).registerToken,
  store: async () => (await import('./commands/store.js')).registerStore,
};

const program = new Command();
program.name('portico').description('Software load balancer and ingress platform for Kubernetes').version('0.1.0');
const sub = process.argv[2];
const wanted = sub && Object.hasOwn(commands, sub) ? [sub] : Object.keys(commands);
for (const name of wanted) (await commands[name]!())(program);
await program.parseAsync(process.argv);
