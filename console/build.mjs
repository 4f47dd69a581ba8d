#!/usr/bin/env node
// Builds the web console into console/dist (served by the controller at `/`).
// One ES module bundle (Preact + htm), one stylesheet and index.html; no runtime dependencies.
// Each file is replaced atomically (write aside, rename) and the folder is never removed, so a
// controller started during a rebuild still finds index.html and never serves half a file.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });

function replace(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

const result = await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: process.env.CONSOLE_DEBUG !== '1',
  sourcemap: true,
  outfile: join(out, 'app.js'),
  write: false,
  logLevel: 'warning',
});
// The bundle (and its map) before the page that loads it.
for (const f of result.outputFiles) replace(f.path, f.contents);
replace(join(out, 'styles.css'), readFileSync(join(here, 'src/styles.css')));
replace(join(out, 'index.html'), readFileSync(join(here, 'index.html')));
const app = result.outputFiles.find((f) => basename(f.path) === 'app.js');
console.log(`console: built console/dist (app.js ${Math.round((app?.contents.length ?? 0) / 1024)} KiB)`);
