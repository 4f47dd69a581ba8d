import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerController(program: Command): void {
  program.command('controller').description('(controller: not built yet)').action(() => {
    console.error('portico controller: not built yet');
    process.exitCode = 2;
  });
}
