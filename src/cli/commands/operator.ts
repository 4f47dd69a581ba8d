import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerOperator(program: Command): void {
  program.command('operator').description('(operator: not built yet)').action(() => {
    console.error('portico operator: not built yet');
    process.exitCode = 2;
  });
}
