// The `portico` command: one subcommand per program (see shared/design/INTERFACES.md).
import { Command } from 'commander';
import { registerController } from './commands/controller.js';
import { registerEngine } from './commands/engine.js';
import { registerOperator } from './commands/operator.js';
import { registerUp } from './commands/up.js';
import { registerStatus } from './commands/status.js';
import { registerDemo } from './commands/demo.js';
import { registerToken } from './commands/token.js';
import { registerStore } from './commands/store.js';

const program = new Command();
program.name('portico').description('Software load balancer and ingress platform for Kubernetes').version('0.1.0');
registerController(program);
registerEngine(program);
registerOperator(program);
registerUp(program);
registerStatus(program);
registerDemo(program);
registerToken(program);
registerStore(program);
await program.parseAsync(process.argv);
