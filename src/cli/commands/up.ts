import type { Command } from 'commander';
import { relative, resolve } from 'node:path';
import { startUp, type RunningUp } from '../../up/up.js';
import { onStopSignal } from '../stop-signal.js';
import { fetchStatus, formatTable, StatusReporter } from '../../up/report.js';
import { startQuickstartBackends, writeQuickstartSecret } from '../../up/quickstart.js';
import { DataDirInUse } from '../../up/lock.js';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run the controller, local service engines and the operator on a manifest folder, supervised')
    .option('--manifests <dir>', 'manifest folder to serve (watched)', 'examples/quickstart')
    .option('--data <dir>', 'data directory', '.portico')
    .option('--listen <host:port>', 'controller API and console address', '127.0.0.1:9080')
    .option('--engines <n>', 'number of local service engines', (v) => Number.parseInt(v, 10), 1)
    .option('--vip-cidr <cidr>', 'VIP network (loopback addresses)', '127.77.0.0/24')
    .option('--values <file>', 'AKO Helm values file for the operator')
    .option('--operator-listen <host:port>', 'operator status/metrics address', '127.0.0.1:0')
    .option('--quickstart-backends', 'also serve the backends examples/quickstart points at')
    .action(async (o) => {
      let up: RunningUp | undefined;
      let poll: NodeJS.Timeout | undefined;
      let stopBackends = async () => {};
      // Installed before anything starts: a signal during start-up stops what has started.
      const stopped = onStopSignal(async () => {
        clearInterval(poll);
        console.log('Stopping Portico…');
        await up?.stop();
        await stopBackends();
      });
      if (o.quickstartBackends) await writeQuickstartSecret(o.manifests);
      if (o.quickstartBackends) stopBackends = await startQuickstartBackends();
      try {
        up = await startUp({
          manifests: o.manifests, data: o.data, listen: o.listen, engines: o.engines, vipCidr: o.vipCidr,
          values: o.values, operatorListen: o.operatorListen,
        });
      } catch (err) {
        await stopBackends();
        console.error(`portico up: ${(err as Error).message}`);
        process.exit(err instanceof DataDirInUse ? 3 : 1);
      }
      const pwFile = resolve(o.data, 'admin-password');
      const rel = relative(process.cwd(), pwFile);
      const dataRel = rel.startsWith('..') ? pwFile : rel;
      const reporter = new StatusReporter();
      let items = await fetchStatus(up.operatorUrl).catch(() => []);
      reporter.diff(items);
      console.log(`Portico is up: console ${up.controllerUrl}/ (admin password in ${dataRel})`);
      console.log(formatTable(items));
      const running = up;
      poll = setInterval(async () => {
        try {
          items = await fetchStatus(running.operatorUrl);
          for (const line of reporter.diff(items)) console.log(line);
        } catch { /* operator restarting: the supervisor says so */ }
      }, 500);
      stopped.ready();
      if (stopped.requested) await stopped.run();
    });
}
