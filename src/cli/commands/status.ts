import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerStatus(program: Command): void {
  program.command('status').description('(status: not built yet)').action(() => {
    console.error('portico status: not built yet');
    process.exitCode = 2;
  });
}
