import type { Command } from 'commander';
import { runDemo, type RunningDemo } from '../../demo/demo.js';
import { DataDirInUse } from '../../up/lock.js';
import { onStopSignal } from '../stop-signal.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("the AKO documentation's lab on this machine: controller, SE groups, DNS VS, operator, workload, live checks")
    .option('--data <dir>', 'data directory', '.portico-demo')
    .option('--listen <host:port>', 'controller API and console address', '127.0.0.1:9080')
    .action(async (o) => {
      let demo: RunningDemo | undefined;
      // Installed before anything starts: a Ctrl-C during start-up stops what has started.
      const stopped = onStopSignal(async () => {
        console.log('Stopping Portico…');
        await demo?.stop();
      });
      try {
        demo = await runDemo({ data: o.data, listen: o.listen });
      } catch (err) {
        console.error(`portico demo: ${(err as Error).message}`);
        process.exit(err instanceof DataDirInUse ? 3 : 1);
      }
      stopped.ready();
      if (stopped.requested) await stopped.run();
    });
}
