// Without a Docker engine, the runtime images are assembled as their Dockerfile says (the files of
// every COPY --from=build, production node_modules) in a temporary folder, and each target's
// ENTRYPOINT/CMD is run from there: the image holds everything its program needs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile, stageChain } from './dockerfile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { stages } = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));

/** Builds /app (and any other COPY target) of `target` under `dir`; returns the exec form command. */
function assemble(target: string, dir: string): { entrypoint: string[]; cmd: string[]; workdir: string } {
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let workdir = '/';
  for (const stage of stageChain(stages, target)) {
    for (const x of stage.ins) {
      if (x.op === 'WORKDIR') workdir = x.args;
      if (x.op === 'ENTRYPOINT') { entrypoint = JSON.parse(x.args) as string[]; cmd = []; }
      if (x.op === 'CMD') cmd = JSON.parse(x.args) as string[];
      if (x.op !== 'COPY') continue;
      const parts = x.args.split(/\s+/).filter((p) => !p.startsWith('--chown'));
      const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
      const [src, dest] = parts.filter((p) => !p.startsWith('--')) as [string, string];
      const to = join(dir, dest.startsWith('/') ? dest : join(workdir, dest));
      if (from === 'deps') { mkdirSync(dirname(to), { recursive: true }); if (!existsSync(to)) symlinkSync(join(root, 'node_modules'), to); continue; }
      assert.equal(from, 'build', `line ${x.line}: copies come from the build stage`);
      if (src === '/out/empty') { mkdirSync(to, { recursive: true }); continue; }
      const repoPath = join(root, src.replace(/^\/src\/?/, ''));
      assert.ok(existsSync(repoPath), `line ${x.line}: ${src} is built (${repoPath})`);
      cpSync(repoPath, to, { recursive: true });
    }
  }
  return { entrypoint, cmd, workdir };
}

/** The image's command run from the assembled tree (the node binary stands in for /nodejs/bin/node). */
function command(target: string, dir: string, args?: string[]): string[] {
  const { entrypoint, cmd } = assemble(target, dir);
  return [...entrypoint, ...(args ?? cmd)].map((a) => (a === '/nodejs/bin/node' ? process.execPath : a.startsWith('/app/') || a.startsWith('/var/lib/') ? join(dir, a) : a));
}

describe('runtime images, assembled from the Dockerfile', () => {
  const dirs: string[] = [];
  let child: ChildProcess | undefined;
  const fresh = () => { const d = mkdtempSync(join(tmpdir(), 'portico-image-')); dirs.push(d); return d; };
  before(() => assert.ok(existsSync(join(root, 'dist/src/cli/main.js')), 'npm run build ran'));
  after(() => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('operator: its default command prints the operator usage', () => {
    const [bin, ...args] = command('operator', fresh());
    const r = spawnSync(bin!, args, { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--in-cluster/);
  });

  it('engine: the entrypoint takes the documented flags', () => {
    const [bin, ...args] = command('engine', fresh());
    const r = spawnSync(bin!, [...args, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--join-token/);
    assert.ok(args.includes('--data'), 'state in the image\'s data volume');
  });

  it('controller: starts from the image files and serves the API and the console', async () => {
    const dir = fresh();
    // the image's CMD with its listen address moved to this test's loopback range
    const { cmd } = assemble('controller', dir);
    assert.deepEqual(cmd, ['--listen', '0.0.0.0:9080', '--data', '/var/lib/portico']);
    const [bin, ...args] = command('controller', dir, ['--listen', '127.60.20.1:0', '--data', '/var/lib/portico', '--log-level', 'warn']);
    child = spawn(bin!, args, { env: { PATH: process.env.PATH, PORTICO_ADMIN_PASSWORD: 'image-test-pw', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    const deadline = Date.now() + 20_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline && child.exitCode === null) {
      url = /listening on (\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `controller started: ${out}`);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const auth = `Basic ${Buffer.from('admin:image-test-pw').toString('base64')}`;
    const rt = await fetch(`${url}/api/cluster/runtime`, { headers: { authorization: auth } });
    assert.equal(rt.status, 200);
    assert.ok(existsSync(join(dir, 'var/lib/portico')), 'data in the volume directory');
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  });
});
