// The deployment files that cannot run here: the Dockerfile (no Docker engine) is checked for the
// practices hadolint would enforce; the systemd units are checked by systemd-analyze when present.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDockerfile, type Stage } from './dockerfile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const { args, stages } = parseDockerfile(text);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const argDefaults = new Map(args.filter((a) => a.op === 'ARG').map((a) => a.args.split('=') as [string, string]));
  const resolve = (base: string) => base.replace(/\$\{(\w+)\}/g, (_m, k: string) => argDefaults.get(k) ?? '');
  /** Instructions that apply to a target: its own and those of the stages it is built FROM. */
  const chain = (name: string): Stage[] => {
    const s = byName.get(name)!;
    return byName.has(s.base) ? [...chain(s.base), s] : [s];
  };

  it('builds the three images as targets of a multi-stage build', () => {
    for (const t of ['operator', 'controller', 'engine']) assert.ok(byName.has(t), `target ${t}`);
    assert.ok(stages.length >= 4, 'separate build, dependency and runtime stages');
  });

  it('uses small, pinned base images (no latest)', () => {
    for (const s of stages) {
      if (byName.has(s.base)) continue;
      const base = resolve(s.base);
      assert.match(base, /:[^:]+$/, `${s.base} has a tag`);
      assert.doesNotMatch(base, /:latest$/);
      assert.match(base, /^(node:20-slim|gcr\.io\/distroless\/nodejs20-debian12(:nonroot)?)$/, `${base} is node:20-slim or distroless`);
    }
    for (const t of ['operator', 'controller']) {
      assert.match(resolve(chain(t)[0]!.base), /^gcr\.io\/distroless\//, `${t} runs on distroless`);
    }
    assert.equal(resolve(chain('engine')[0]!.base), 'node:20-slim', 'the engine needs ip and arping: slim, not distroless');
  });

  it('gives the engine image the programs the engine runs (src/engine/vip)', () => {
    const vip = readFileSync(join(root, 'src/engine/vip/manager.ts'), 'utf8');
    const programs = [...new Set([...vip.matchAll(/run\('([\w-]+)'/g)].map((m) => m[1]!))];
    assert.deepEqual(programs.sort(), ['arping', 'ip']);
    const packages: Record<string, string> = { ip: 'iproute2', arping: 'iputils-arping' };
    const installs = chain('engine').flatMap((s) => s.ins).filter((x) => x.op === 'RUN').map((x) => x.args).join(' ');
    for (const p of programs) assert.match(installs, new RegExp(`apt-get install[^&]*\\b${packages[p]}\\b`), `${p} comes with ${packages[p]}`);
  });

  it('installs production dependencies only, with npm ci, into the runtime', () => {
    const runtimeDeps = stages.find((s) => s.ins.some((x) => x.op === 'RUN' && /npm ci --omit=dev/.test(x.args)));
    assert.ok(runtimeDeps, 'a stage runs npm ci --omit=dev');
    const copyDeps = byName.get('runtime')!.ins.find((x) => x.op === 'COPY' && x.args.includes('node_modules'));
    assert.match(copyDeps!.args, new RegExp(`--from=${runtimeDeps.name}\\b`), 'node_modules come from the --omit=dev stage');
    for (const s of stages) for (const x of s.ins.filter((i) => i.op === 'RUN')) {
      assert.doesNotMatch(x.args, /npm install\b/, `line ${x.line}: npm ci, not npm install`);
    }
  });

  it('runs as a non-root user in every image', () => {
    for (const t of ['operator', 'controller', 'engine']) {
      const users = chain(t).flatMap((s) => s.ins).filter((x) => x.op === 'USER');
      const last = users[users.length - 1];
      assert.ok(last, `${t} sets USER`);
      const uid = last.args.split(':')[0]!;
      assert.match(uid, /^\d+$/, 'numeric uid (runAsNonRoot can check it)');
      assert.notEqual(Number(uid), 0);
    }
  });

  it('follows hadolint\'s rules for RUN, COPY, ENTRYPOINT and ENV', () => {
    for (const s of stages) for (const x of s.ins) {
      const at = `line ${x.line}`;
      if (x.op === 'ADD') assert.fail(`${at}: COPY instead of ADD (DL3020)`);
      if (x.op === 'WORKDIR') assert.match(x.args, /^\//, `${at}: absolute WORKDIR (DL3000)`);
      if (x.op === 'ENTRYPOINT' || x.op === 'CMD') assert.doesNotThrow(() => JSON.parse(x.args), `${at}: exec form (DL3025)`);
      if (x.op === 'RUN' && /apt-get install/.test(x.args)) {
        assert.match(x.args, /--no-install-recommends/, `${at}: DL3015`);
        assert.match(x.args, /rm -rf \/var\/lib\/apt\/lists/, `${at}: DL3009`);
        assert.match(x.args, /apt-get install -y/, `${at}: DL3014`);
      }
      if (x.op === 'RUN') assert.doesNotMatch(x.args, /\bsudo\b|curl [^|]*\|\s*(ba)?sh/, `${at}: no sudo, no curl | sh`);
      if (x.op === 'ENV' || x.op === 'ARG') assert.doesNotMatch(x.args, /(PASSWORD|SECRET|TOKEN)\s*=/i, `${at}: no secrets baked in`);
    }
  });

  it('keeps the build context small and free of local state', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['.git', 'node_modules', 'dist', '.portico', 'test']) assert.ok(ignore.includes(p), `.dockerignore lists ${p}`);
    // everything the build COPYs from the context must not be ignored
    for (const x of byName.get('build')!.ins.filter((i) => i.op === 'COPY' && !i.args.includes('--from'))) {
      for (const src of x.args.split(/\s+/).slice(0, -1)) assert.ok(!ignore.includes(src), `${src} is in the context`);
    }
  });
});

describe('systemd units', () => {
  const unit = (name: string) => readFileSync(join(root, 'deploy/systemd', name), 'utf8');
  const keys = (text: string) => {
    const m = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
    }
    return m;
  };
  const hardening = ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', 'ProtectKernelTunables=yes', 'ProtectKernelModules=yes', 'ProtectControlGroups=yes', 'RestrictNamespaces=yes', 'RestrictSUIDSGID=yes', 'LockPersonality=yes', 'SystemCallArchitectures=native', 'UMask=0077'];

  for (const [name, sub, caps] of [['portico-controller.service', 'controller', ''], ['portico-engine.service', 'engine', 'CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_NET_RAW']] as const) {
    it(`${name}: runs \`portico ${sub}\` as user portico with the hardening options`, () => {
      const text = unit(name);
      const k = keys(text);
      assert.match(k.get('ExecStart')![0]!, new RegExp(`^/usr/local/bin/portico ${sub} `));
      assert.equal(k.get('User')![0], 'portico');
      for (const h of hardening) assert.ok(text.split('\n').includes(h), `${name} has ${h}`);
      assert.equal(k.get('CapabilityBoundingSet')![0], caps, 'only the capabilities it needs');
      assert.ok(!k.has('MemoryDenyWriteExecute'), 'V8 needs W+X memory');
      assert.match(k.get('StateDirectory')![0]!, /^portico/);
    });
  }

  it('engine flags come from INTERFACES.md (--controller, --data; token from PORTICO_JOIN_TOKEN)', () => {
    const exec = keys(unit('portico-engine.service')).get('ExecStart')![0]!;
    assert.match(exec, /--controller \$\{PORTICO_CONTROLLER\}/);
    assert.match(exec, /--data \/var\/lib\/portico-engine/);
    assert.match(unit('engine.env.example'), /^PORTICO_JOIN_TOKEN=/m);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it('pass systemd-analyze verify and score low on its security exposure', { skip: analyze.status !== 0 ? 'systemd-analyze is not installed' : false }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-units-'));
    try {
      for (const name of ['portico-controller.service', 'portico-engine.service']) {
        // verify checks that ExecStart's program exists: point it at this node binary
        writeFileSync(join(dir, name), unit(name).replace(/\/usr\/local\/bin\/portico/g, process.execPath));
      }
      const files = ['portico-controller.service', 'portico-engine.service'].map((n) => join(dir, n));
      const verify = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'no unknown keys or bad values');
      for (const [f, max] of [[files[0]!, 2.0], [files[1]!, 3.0]] as const) {
        const out = execFileSync('systemd-analyze', ['security', '--offline=yes', f], { encoding: 'utf8' });
        const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(out)?.[1]);
        assert.ok(score <= max, `${f}: exposure ${score} ≤ ${max}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/deploy.md', () => {
  const doc = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
  it('refers only to files that exist and commands of INTERFACES.md', () => {
    const paths = [...doc.matchAll(/(?:\/opt\/portico\/|\s)((?:deploy|charts|src|docs)\/[\w./-]+)/g)].map((m) => m[1]!.replace(/[.,)]$/, ''));
    assert.ok(paths.length >= 5);
    for (const p of new Set(paths)) assert.ok(existsSync(join(root, p)), `${p} exists`);
    assert.match(doc, /portico token create --controller \S+ (--controller-ca \S+ )?--se-group Default-Group/);
    assert.match(doc, /helm install ako \S+ -n avi-system -f values\.yaml/);
  });
});
