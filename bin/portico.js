#!/usr/bin/env node
// The package's command. The TypeScript is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('portico: dist/ is missing; run `npm run build` (npm install does it) first');
  process.exit(1);
}
await import(main.href);
