import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fetchStatus, formatTable } from '../../up/report.js';
import { upStateFile } from '../../up/up.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what the operator handles and the status it wrote (or would write)')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--data <dir>', 'data directory of a running `portico up`', '.portico')
    .option('--operator <url>', "an operator's --listen address (instead of --data)")
    .action(async (o) => {
      let url: string = o.operator;
      if (!url) {
        try {
          url = JSON.parse(readFileSync(upStateFile(o.data), 'utf8')).operator;
        } catch {
          console.error(`portico status: no running portico up found in ${o.data} (or pass --operator URL)`);
          process.exit(1);
        }
      }
      if (!/^https?:\/\//.test(url)) url = `http://${url}`;
      try {
        const items = await fetchStatus(url.replace(/\/$/, ''));
        if (o.output === 'json') console.log(JSON.stringify({ items }, null, 2));
        else console.log(formatTable(items));
      } catch (err) {
        console.error(`portico status: operator at ${url} did not answer: ${(err as Error).message}`);
        process.exit(1);
      }
    });
}
