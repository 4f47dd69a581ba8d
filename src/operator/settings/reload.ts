// The values file changed while the operator runs (`--values`; a ConfigMap volume is updated by
// the kubelet in place): what can take effect at once is applied to the running settings, and the
// keys that only take effect after a restart are named. AKO reads logLevel, enableEvents and
// deleteConfig live; Portico also applies every key that only steers translation (namespaces,
// classes, shard size, service type, FQDNs, …), since each pass translates afresh from `settings`.
import { readFileSync, watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { OperatorSettings } from './types.js';

/** Settings paths applied live (see the module comment); all others need a restart. */
const LIVE = new Set([
  'logLevel', 'enableEvents', 'deleteConfig', 'layer7Only', 'blockedNamespaceList', 'namespaceSelector.labelKey', 'namespaceSelector.labelValue',
  'l7.serviceType', 'l7.shardVSSize', 'l7.passthroughShardSize', 'l7.noPGForSNI', 'l7.shardScheme',
  'l4.defaultLBController', 'l4.autoFQDN', 'nodePortSelector.key', 'nodePortSelector.value',
  'network.enableRHI', 'network.bgpPeerLabels',
]);

/** Settings path → the key users write (values file, or the env var). */
const SECTION: Record<string, string> = {
  network: 'NetworkSettings', l7: 'L7Settings', l4: 'L4Settings', controller: 'ControllerSettings', nodePortSelector: 'nodePortSelector',
  namespaceSelector: 'AKOSettings.namespaceSelector', credentials: 'avicredentials',
};
const RENAMED: Record<string, string> = { akoNamespace: 'POD_NAMESPACE', 'l7.shardScheme': 'L7Settings.l7ShardingScheme', 'network.defaultDomain': 'NetworkSettings.defaultDomain' };

export function valuesKey(path: string): string {
  if (RENAMED[path]) return RENAMED[path]!;
  const dot = path.indexOf('.');
  return dot < 0 ? `AKOSettings.${path}` : `${SECTION[path.slice(0, dot)] ?? path.slice(0, dot)}${path.slice(dot)}`;
}

/** Leaf paths (`l7.shardVSSize`) whose value differs; lists and scalars compared as a whole. */
export function changedSettings(a: OperatorSettings, b: OperatorSettings): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    const nested = x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y);
    if (nested) {
      const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
      for (const k of [...keys].sort()) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(path);
  };
  walk(a, b, '');
  return out;
}

export interface Reconfiguration {
  /** Applied to the running settings (values-file key names). */
  applied: string[];
  /** Changed in the file, left as they were until a restart (values-file key names). */
  restart: string[];
  /** Settings paths applied (`logLevel`, `deleteConfig`, …), for the caller's own follow-up. */
  appliedPaths: string[];
}

function setPath(target: Record<string, any>, source: Record<string, any>, path: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const parts = path.split('.');
  const last = parts.pop()!;
  for (const p of parts) { target = target[p]; source = source[p]; }
  target[last] = structuredClone(source[last]);
}

/** Pods are watched only with NodePortLocal (chosen at start, as AKO chooses its informers): switching to or from it needs a restart. */
function switchesNpl(a: OperatorSettings, b: OperatorSettings): boolean {
  return (a.l7.serviceType === 'NodePortLocal') !== (b.l7.serviceType === 'NodePortLocal');
}

/**
 * Copies the live keys that changed from `next` into `running` (in place: the operator holds that
 * object) and lists the rest. Credentials are named, never shown.
 */
export function applyLiveSettings(running: OperatorSettings, next: OperatorSettings): Reconfiguration {
  const r: Reconfiguration = { applied: [], restart: [], appliedPaths: [] };
  for (const path of changedSettings(running, next)) {
    if (LIVE.has(path) && !(path === 'l7.serviceType' && switchesNpl(running, next))) {
      setPath(running as never, next as never, path);
      r.applied.push(valuesKey(path));
      r.appliedPaths.push(path);
    } else r.restart.push(valuesKey(path));
  }
  return r;
}

/**
 * Calls `onChange` when the file's content changes. The folder is watched, not the file: a
 * ConfigMap volume is updated by swapping a symlink in it, which a watch on the file misses.
 * Bursts of events are folded (`debounceMs`); unchanged content is no change.
 */
export function watchValuesFile(file: string, onChange: () => void, opts: { debounceMs?: number; onError?: (err: Error) => void } = {}): () => void {
  const read = () => { try { return readFileSync(file, 'utf8'); } catch { return undefined; } };
  let last = read();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    timer = undefined;
    const now = read();
    if (now === undefined || now === last) return;
    last = now;
    onChange();
  };
  const poke = () => { if (!timer) timer = setTimeout(check, opts.debounceMs ?? 200); };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => { if (!name || name === basename(file) || name.startsWith('..')) poke(); });
    watcher.on('error', (err) => opts.onError?.(err));
  } catch (err) {
    // No inotify (or no permission on the folder): poll the file instead.
    opts.onError?.(err as Error);
    watchFile(file, { interval: 1000, persistent: false }, poke);
  }
  return () => {
    clearTimeout(timer);
    if (watcher) watcher.close();
    else unwatchFile(file);
  };
}
