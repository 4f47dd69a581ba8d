import type { Command } from 'commander';

// Placeholder until the owning work lands; replaced by the real command.
export function registerEngine(program: Command): void {
  program.command('engine').description('(engine: not built yet)').action(() => {
    console.error('portico engine: not built yet');
    process.exitCode = 2;
  });
}
