import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerUp(program: Command): void {
  program.command('up').description('(up: not built yet)').action(() => {
    console.error('portico up: not built yet');
    process.exitCode = 2;
  });
}
