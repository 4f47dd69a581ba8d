import type { Command } from 'commander';
import { runDemo } from '../../demo/demo.js';
import { DataDirInUse } from '../../up/lock.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("the AKO documentation's lab on this machine: controller, SE groups, DNS VS, operator, workload, live checks")
    .option('--data <dir>', 'data directory', '.portico-demo')
    .option('--listen <host:port>', 'controller API and console address', '127.0.0.1:9080')
    .action(async (o) => {
      let demo;
      try {
        demo = await runDemo({ data: o.data, listen: o.listen });
      } catch (err) {
        console.error(`portico demo: ${(err as Error).message}`);
        process.exit(err instanceof DataDirInUse ? 3 : 1);
      }
      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        console.log('Stopping Portico…');
        await demo.stop();
        process.exit(0);
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}
