// The "local" cloud: the controller runs the service engines of its SE groups itself, as child
// processes named `<se_name_prefix>-se-<n>`, keeping each group at what its virtual services
// need plus `buffer_se` (at least `min_se`, at most `max_se`). An engine that dies is replaced
// once its SE is marked down (so its virtual services are placed elsewhere first); idle
// engines beyond the target are stopped and their SE records removed. Other clouds have no
// orchestration: their engines join with a token.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineHost, StoredObject } from '../engines/host.js';
import { hashSecret, newSecret } from '../engines/secrets.js';
import type { PlacementManager } from '../placement/manager.js';

export const PORTICO_BIN = fileURLToPath(new URL('../../../../bin/portico.js', import.meta.url));

export interface LocalCloudOptions {
  dataDir: string;
  /** Names of the clouds whose SEs this controller runs (default: Default-Cloud). */
  clouds?: string[];
  /** Engines a group keeps at least, by group name (`portico up --engines N` for Default-Group). */
  minEngines?: Record<string, number>;
  isLeader?: () => boolean;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Extra arguments for every engine (tests: `--metrics-listen`). */
  engineArgs?: string[];
}

interface Engine { name: string; group: string; index: number; proc: ChildProcess; exited: boolean; stopping: boolean }

const TICK_MS = 1000;
/** SIGTERM, then SIGKILL: short, so the controller stops within a supervisor's 5 s. */
const STOP_GRACE_MS = 2500;

export class LocalCloud {
  private readonly engines = new Map<string, Engine>();
  private readonly tokens = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;
  private url = '';

  constructor(private readonly host: EngineHost, private readonly placement: PlacementManager, private readonly o: LocalCloudOptions) {}

  /** Starts managing engines that talk to the controller at `url`. */
  start(url: string): void {
    this.url = url;
    this.timer = setInterval(() => void this.reconcile(), TICK_MS);
    this.timer.unref();
    void this.reconcile();
  }

  /** PIDs of the running engines by SE name (tests, `portico up`). */
  pids(): Map<string, number> {
    return new Map([...this.engines.values()].filter((e) => !e.exited && e.proc.pid).map((e) => [e.name, e.proc.pid!]));
  }

  async reconcile(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      if (!(this.o.isLeader?.() ?? true)) {
        await Promise.all([...this.engines.values()].map((e) => this.stop(e)));
        return;
      }
      const objects = await this.placement.objects();
      await this.placement.runNow();
      const clouds = new Set(this.o.clouds ?? ['Default-Cloud']);
      const localClouds = new Set([...(objects.get('cloud')?.values() ?? [])].filter((c) => clouds.has(c.name)).map((c) => c.uuid));
      const ses = [...(objects.get('serviceengine')?.values() ?? [])];
      for (const g of objects.get('serviceenginegroup')?.values() ?? []) {
        if (!localClouds.has(String(g.cloud_ref))) continue;
        await this.reconcileGroup(g, ses.filter((s) => s.se_group_ref === g.uuid));
      }
      // Groups that went away: their engines too.
      for (const e of this.engines.values()) if (!objects.get('serviceenginegroup')?.has(e.group)) await this.stop(e);
    } catch (err) {
      this.o.log?.warn({ err: (err as Error).message }, 'local cloud: reconcile failed');
    } finally {
      this.busy = false;
    }
  }

  private async reconcileGroup(g: StoredObject, records: StoredObject[]): Promise<void> {
    // Records removed below leave this list too (a new engine of that name is then a fresh SE).
    const prefix = String(g.se_name_prefix ?? 'Avi');
    const demand = this.placement.demand.get(g.uuid);
    const maxSe = Number(g.max_se ?? 10);
    const floor = Math.max(Number(g.min_se ?? 1), this.o.minEngines?.[g.name] ?? 0);
    const target = Math.min(maxSe, Math.max(floor, (demand?.needed ?? 0) + Number(g.buffer_se ?? 1)));
    const mine = [...this.engines.values()].filter((e) => e.group === g.uuid);
    // Dead engines: once their SE is down (its VSes moved), remove the record and forget them.
    for (const e of mine.filter((x) => x.exited)) {
      const rec = records.find((r) => r.name === e.name);
      if (rec && this.placement.seUp(rec)) continue;
      if (rec) await this.host.remove('serviceengine', rec.uuid).then(() => { records = records.filter((r) => r !== rec); }, (err: Error) => this.o.log?.warn({ err: err.message, se: e.name }, 'local cloud: could not remove SE record'));
      this.engines.delete(e.name);
      this.o.log?.info({ se: e.name }, 'local cloud: engine gone, SE removed');
    }
    const live = [...this.engines.values()].filter((e) => e.group === g.uuid && !e.exited && !e.stopping);
    const waiting = [...this.engines.values()].filter((e) => e.group === g.uuid && e.exited).length;
    if (live.length + waiting < target) {
      const used = new Set([...this.engines.values()].filter((e) => e.group === g.uuid).map((e) => e.index));
      for (let n = 1, started = 0; started < target - live.length - waiting; n++) {
        if (used.has(n)) continue;
        await this.launch(g, prefix, n, !records.some((r) => r.name === `${prefix}-se-${n}`));
        started++;
      }
    } else if (live.length > target) {
      // Idle engines only, highest index first; one that holds a VS stays.
      const idle = live.filter((e) => {
        const rec = records.find((r) => r.name === e.name);
        return !rec || ((rec.placed_vs_uuids as string[] | undefined) ?? []).length === 0;
      }).sort((a, b) => b.index - a.index);
      for (const e of idle.slice(0, live.length - target)) {
        await this.stop(e);
        this.engines.delete(e.name);
        const rec = records.find((r) => r.name === e.name);
        if (rec) await this.host.remove('serviceengine', rec.uuid).catch((err: Error) => this.o.log?.warn({ err: err.message, se: e.name }, 'local cloud: could not remove SE record'));
        this.o.log?.info({ se: e.name, group: g.name }, 'local cloud: idle engine removed');
      }
    }
  }

  private async token(g: StoredObject): Promise<string> {
    let t = this.tokens.get(g.uuid);
    if (!t) {
      t = newSecret();
      await this.host.create('sejointoken', {
        name: `local-cloud-${hashSecret(t).slice(0, 12)}`, se_group_ref: g.uuid, token_hash: hashSecret(t),
        expires_at: new Date(Date.now() + 10 * 365 * 86_400_000).toISOString(), max_uses: 0, uses: 0,
      });
      this.tokens.set(g.uuid, t);
    }
    return t;
  }

  /** `fresh`: no SE record of this name: a new SE, so a data dir left by an earlier one goes (its saved snapshot would serve VSes placed elsewhere now). */
  private async launch(g: StoredObject, prefix: string, index: number, fresh: boolean): Promise<void> {
    if (this.closed) return;
    const name = `${prefix}-se-${index}`;
    const dir = join(this.o.dataDir, 'engines', name);
    const token = await this.token(g);
    if (this.closed) return;
    killStale(dir);
    if (fresh) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const logFd = openSync(join(dir, 'engine.log'), 'a');
    const proc = spawn(process.execPath, [PORTICO_BIN, 'engine', '--controller', this.url, '--join-token', token, '--name', name, '--data', dir, ...(this.o.engineArgs ?? [])], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    if (proc.pid) writeFileSync(join(dir, 'engine.pid'), String(proc.pid));
    const e: Engine = { name, group: g.uuid, index, proc, exited: false, stopping: false };
    proc.once('exit', (code, signal) => {
      e.exited = true;
      // Error level: `portico up` shows it (an engine crash is worth a line).
      if (!e.stopping) this.o.log?.error({ se: name, code, signal }, `local cloud: engine ${name} exited (${signal ?? `code ${code}`}); restarting once its SE is down and its virtual services moved`);
    });
    proc.once('error', (err) => {
      e.exited = true;
      this.o.log?.warn({ se: name, err: err.message }, 'local cloud: engine did not start');
    });
    this.engines.set(name, e);
    this.o.log?.info({ se: name, group: g.name, pid: proc.pid }, 'local cloud: engine started');
  }

  private async stop(e: Engine): Promise<void> {
    e.stopping = true;
    if (e.exited || !e.proc.pid) return;
    const gone = new Promise<void>((r) => e.proc.once('exit', () => r()));
    e.proc.kill('SIGTERM');
    const t = setTimeout(() => { if (!e.exited) e.proc.kill('SIGKILL'); }, STOP_GRACE_MS);
    await gone;
    clearTimeout(t);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    // A reconcile in flight may still start one: wait for it, then stop them all.
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([...this.engines.values()].map((e) => this.stop(e)));
  }
}

/** An engine of a previous controller run (killed without stopping its children) still on this data dir: end it. */
function killStale(dir: string): void {
  let pid: number;
  try { pid = Number(readFileSync(join(dir, 'engine.pid'), 'utf8')); } catch { return; }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes(dir)) process.kill(pid, 'SIGKILL');
  } catch { /* gone already */ }
}
