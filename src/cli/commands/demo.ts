import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerDemo(program: Command): void {
  program.command('demo').description('(demo: not built yet)').action(() => {
    console.error('portico demo: not built yet');
    process.exitCode = 2;
  });
}
