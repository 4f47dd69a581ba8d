import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerToken(program: Command): void {
  program.command('token').description('(token: not built yet)').action(() => {
    console.error('portico token: not built yet');
    process.exitCode = 2;
  });
}
