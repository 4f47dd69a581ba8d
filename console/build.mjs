#!/usr/bin/env node
// Builds the web console into console/dist (served by the controller at `/`).
// One ES module bundle (Preact + htm), one stylesheet and index.html; no runtime dependencies.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: process.env.CONSOLE_DEBUG !== '1',
  sourcemap: true,
  outfile: join(out, 'app.js'),
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'src/styles.css'), join(out, 'styles.css'));
const bytes = result.metafile.outputs['console/dist/app.js']?.bytes
  ?? Object.entries(result.metafile.outputs).find(([k]) => k.endsWith('app.js'))?.[1].bytes;
console.log(`console: built console/dist (app.js ${Math.round((bytes ?? 0) / 1024)} KiB)`);
