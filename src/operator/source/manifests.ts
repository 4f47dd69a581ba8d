// The manifest-folder source (`--manifests DIR`, standalone mode): every *.yaml / *.yml / *.json file
// under DIR, watched. Files are re-read only when their stat signature changes; a file that does
// not parse is reported (file:line) and only its broken documents are left out. Events of a
// non-recursive fs.watch on every directory (Node 20's recursive mode on Linux loses files replaced
// by rename) and a slower poll (in case a watch cannot start) trigger a debounced rescan; rescanning
// the whole folder makes editors' rename-writes and ConfigMap symlink swaps harmless.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import type { V1IngressClass, V1Namespace } from '@kubernetes/client-node';
import { debounce } from './debounce.js';
import { endpointsToSlices, ingressV1beta1ToV1, normalizeSecret } from './convert.js';
import { summarizePod } from './pods.js';
import { parseManifest, type ManifestObject, type ParsedFile } from './manifest-parse.js';
import { AKO_CRD_GROUP, AKO_CRD_KINDS, type SourceLogger } from './kubernetes.js';
import { CNI_API_VERSIONS } from '../sync/cni-cidrs.js';
import { emptySnapshot, type ClusterSnapshot, type CustomObject, type SnapshotProvider, type SourceProblem } from './types.js';

export interface ManifestProviderOptions {
  /** L7Settings.defaultIngController: whether the added `avi-lb` IngressClass is the default class (default true). */
  defaultIngController?: boolean;
  /** Read Pods (L7Settings.serviceType NodePortLocal); left out otherwise. */
  pods?: boolean;
  /** Quiet time after a file event before rescanning (default 100 ms). */
  debounceMs?: number;
  /** Safety-net rescan interval while fs.watch works (default 5 s); 1 s while it does not. */
  pollMs?: number;
  logger?: SourceLogger;
}

export const AVI_INGRESS_CLASS = 'avi-lb';
export const AVI_INGRESS_CONTROLLER = 'ako.vmware.com/avi-lb';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const MAX_DEPTH = 8;
/** ako.vmware.com kinds that are cluster-scoped (the others are namespaced). */
const CLUSTER_SCOPED_CRDS = new Set(['AviInfraSetting']);

type SnapshotMapName = Exclude<keyof ClusterSnapshot, 'custom'>;

interface KindRule {
  map: SnapshotMapName;
  namespaced: boolean;
  /** apiVersions taken as they are. */
  versions: string[];
  /** apiVersions converted to the current one. */
  convert?: Record<string, (o: ManifestObject) => ManifestObject[]>;
}

const asList = <T>(f: (o: Record<string, unknown>) => T | T[]) => (o: ManifestObject): ManifestObject[] => ([] as unknown[]).concat(f(o)) as ManifestObject[];

const KINDS: Record<string, KindRule> = {
  Service: { map: 'services', namespaced: true, versions: ['v1'] },
  EndpointSlice: { map: 'endpointSlices', namespaced: true, versions: ['discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1'] },
  Endpoints: { map: 'endpointSlices', namespaced: true, versions: [], convert: { v1: asList(endpointsToSlices) } },
  Ingress: {
    map: 'ingresses', namespaced: true, versions: ['networking.k8s.io/v1'],
    convert: { 'networking.k8s.io/v1beta1': asList(ingressV1beta1ToV1), 'extensions/v1beta1': asList(ingressV1beta1ToV1) },
  },
  IngressClass: { map: 'ingressClasses', namespaced: false, versions: ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1'] },
  Secret: { map: 'secrets', namespaced: true, versions: [], convert: { v1: asList(normalizeSecret) } },
  Namespace: { map: 'namespaces', namespaced: false, versions: ['v1'] },
  Node: { map: 'nodes', namespaced: false, versions: ['v1'] },
  Pod: { map: 'pods', namespaced: true, versions: [], convert: { v1: asList(summarizePod) } },
};

/**
 * One object of a file, converted and scoped once when the file is read. Snapshots share these
 * objects (consumers only read them); stamping sets the same metadata again while nothing changed.
 */
interface Placed {
  /** `Kind/namespace/name` after conversion (Endpoints → EndpointSlice). */
  id: string;
  kind: string;
  /** The snapshot map, or `custom` for ako.vmware.com kinds. */
  map?: SnapshotMapName;
  custom?: boolean;
  key: string;
  object: ManifestObject;
  /** The object as written (before stamping): a change of it bumps the resourceVersion. */
  json: string;
  where: string;
  givenUid?: boolean;
  created?: Date;
}

interface FileState { signature: string; placed: Placed[]; problems: SourceProblem[] }
interface Seen { json: string; resourceVersion: number; created: Date; uid: string }

/** A stable uid for a manifest object (there is no API server to assign one). */
function uidOf(id: string): string {
  const h = createHash('sha1').update(id).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

class ManifestProvider implements SnapshotProvider {
  private readonly files = new Map<string, FileState>();
  private readonly seen = new Map<string, Seen>();
  private versionCounter = 0;
  private fingerprint = '';
  /** One watch per directory of the folder, kept in step with the directories found by each scan. */
  private readonly watchers = new Map<string, { inode: number; watcher: FSWatcher }>();
  private pollTimer: NodeJS.Timeout | undefined;
  private onChange: ((s: ClusterSnapshot, p: SourceProblem[]) => void) | undefined;
  private scanning: Promise<void> | undefined;
  private rescanAgain = false;
  private stopped = false;
  private folderProblem: SourceProblem | undefined;
  private readonly rescan;

  constructor(private readonly dir: string, private readonly opts: ManifestProviderOptions) {
    this.rescan = debounce(() => { void this.scan(); }, opts.debounceMs ?? 100, 1000);
  }

  async start(onChange: (snapshot: ClusterSnapshot, problems: SourceProblem[]) => void): Promise<void> {
    this.onChange = onChange;
    await this.scan();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.rescan.cancel();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.scanning;
    for (const w of this.watchers.values()) w.watcher.close();
    this.watchers.clear();
  }

  /** Watches exactly `dirs` (path → inode): new or re-created directories get a watch, vanished ones lose theirs. */
  private syncWatches(dirs: Map<string, number>): void {
    for (const [dir, w] of this.watchers) {
      if (dirs.get(dir) !== w.inode) { w.watcher.close(); this.watchers.delete(dir); }
    }
    for (const [dir, inode] of dirs) {
      if (this.watchers.has(dir) || this.stopped) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.rescan.poke());
        watcher.on('error', () => {
          watcher.close();
          if (this.watchers.get(dir)?.watcher === watcher) this.watchers.delete(dir);
          this.rescan.poke();
        });
        this.watchers.set(dir, { inode, watcher });
      } catch {
        // vanished since the walk: the next scan sorts it out
      }
    }
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    const every = this.watchers.has(this.dir) ? this.opts.pollMs ?? 5000 : Math.min(this.opts.pollMs ?? 1000, 1000);
    this.pollTimer = setTimeout(() => { void this.scan().finally(() => this.schedulePoll()); }, every);
  }

  /** Rescans the folder; a scan asked for while one runs is done right after it. */
  private scan(): Promise<void> {
    if (this.scanning) {
      this.rescanAgain = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanAgain = false;
        await this.scanOnce();
      } while (this.rescanAgain && !this.stopped);
    })().catch((err) => {
      this.opts.logger?.warn(`scanning ${this.dir} failed: ${(err as Error).message}`);
    }).finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const found = new Map<string, string>(); // relative path → signature
    const dirs = new Map<string, number>();
    try {
      await this.walk(this.dir, 0, found, dirs);
      this.folderProblem = undefined;
    } catch (err) {
      // The folder cannot be read (gone, replaced, out of file handles): keep serving what was read
      // last rather than taking everything down, and say so.
      this.folderProblem = { where: this.dir, message: `cannot read the manifest folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); serving what was read before` };
      if (!this.stopped) { this.syncWatches(dirs); this.publish(); }
      return;
    }
    if (!this.stopped) this.syncWatches(dirs);
    for (const path of [...this.files.keys()]) if (!found.has(path)) this.files.delete(path);
    for (const [path, signature] of found) {
      const before = this.files.get(path);
      if (before?.signature === signature) continue;
      let text: string;
      try {
        text = await readFile(join(this.dir, path), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Gone between readdir and read (a rename-write): the next event brings it back.
        if (code === 'ENOENT') this.files.delete(path);
        // Unreadable: its last objects stay; an empty signature makes the next scan try again.
        else this.files.set(path, { signature: '', placed: before?.placed ?? [], problems: [{ where: path, message: `cannot read the file (${code ?? (err as Error).message})` }] });
        continue;
      }
      this.files.set(path, { signature, ...prepare(parseManifest(path, text)) });
    }
    if (!this.stopped) this.publish();
  }

  private async walk(dir: string, depth: number, out: Map<string, string>, dirs: Map<string, number>): Promise<void> {
    const names = await readdir(dir);
    dirs.set(dir, (await stat(dir)).ino);
    for (const name of names) {
      if (name.startsWith('.') || name.endsWith('~')) continue; // dotfiles, editor swap/backup files, ConfigMap ..data
      const full = join(dir, name);
      let st;
      try {
        st = await stat(full); // follows symlinks (ConfigMap-mounted folders are made of them)
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (depth < MAX_DEPTH) await this.walk(full, depth + 1, out, dirs).catch(() => undefined);
      } else if (st.isFile() && MANIFEST_FILE.test(name)) {
        out.set(relative(this.dir, full).split(sep).join('/'), `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`);
      }
    }
  }

  private publish(): void {
    const { snapshot, problems } = this.build();
    const versions: string[] = [];
    for (const [id, s] of this.seen) versions.push(`${id}@${s.resourceVersion}`);
    const fingerprint = JSON.stringify([versions, problems]);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    try {
      this.onChange?.(snapshot, problems);
    } catch (err) {
      this.opts.logger?.warn(`snapshot consumer failed: ${(err as Error).message}`);
    }
  }

  private build(): { snapshot: ClusterSnapshot; problems: SourceProblem[] } {
    const snapshot = emptySnapshot();
    for (const kind of AKO_CRD_KINDS) snapshot.custom.set(kind, new Map());
    const problems: SourceProblem[] = this.folderProblem ? [this.folderProblem] : [];
    const first = new Map<string, string>(); // object id → where it was first defined
    const present = new Set<string>();
    for (const path of [...this.files.keys()].sort()) {
      const file = this.files.get(path)!;
      problems.push(...file.problems);
      for (const p of file.placed) {
        if (p.map === 'pods' && !this.opts.pods) continue;
        const earlier = first.get(p.id);
        if (earlier) {
          problems.push({ where: p.where, message: `${p.id.replace('/', ' ')} is also defined at ${earlier}; this definition is ignored` });
          continue;
        }
        first.set(p.id, p.where);
        let map: Map<string, unknown> | undefined = p.custom ? snapshot.custom.get(p.kind) : snapshot[p.map!] as Map<string, unknown>;
        if (!map) { map = new Map(); snapshot.custom.set(p.kind, map as Map<string, CustomObject>); }
        map.set(p.key, this.stamp(p, present));
      }
    }
    this.addImplicitNamespaces(snapshot, present);
    this.addDefaultIngressClass(snapshot, present);
    for (const id of [...this.seen.keys()]) if (!present.has(id)) this.seen.delete(id);
    return { snapshot, problems };
  }

  private implicit(kind: string, map: SnapshotMapName, object: ManifestObject): Placed {
    return { id: `${kind}/${object.metadata.name}`, kind, map, key: object.metadata.name, object, json: JSON.stringify(object), where: '' };
  }

  /** What an API server would add: uid, resourceVersion (bumped when the object changes), creationTimestamp (first seen). */
  private stamp(p: Placed, present: Set<string>): ManifestObject {
    present.add(p.id);
    let s = this.seen.get(p.id);
    if (!s) {
      s = { json: p.json, resourceVersion: ++this.versionCounter, created: p.created ?? new Date(), uid: uidOf(p.id) };
      this.seen.set(p.id, s);
    } else if (s.json !== p.json) {
      s.json = p.json;
      s.resourceVersion = ++this.versionCounter;
    }
    const meta = p.object.metadata;
    if (!p.givenUid) meta.uid = s.uid;
    meta.resourceVersion = String(s.resourceVersion);
    meta.creationTimestamp = s.created;
    return p.object;
  }

  /** Namespaces need not be declared: every namespace an object lives in exists. */
  private addImplicitNamespaces(snapshot: ClusterSnapshot, present: Set<string>): void {
    const used = new Set<string>();
    const collect = (m: Map<string, { metadata?: { namespace?: string } }>): void => { for (const o of m.values()) if (o.metadata?.namespace) used.add(o.metadata.namespace); };
    collect(snapshot.services); collect(snapshot.endpointSlices); collect(snapshot.ingresses); collect(snapshot.secrets);
    for (const m of snapshot.custom.values()) collect(m);
    for (const name of [...used].sort()) {
      if (snapshot.namespaces.has(name)) continue;
      const ns: V1Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
      snapshot.namespaces.set(name, this.stamp(this.implicit('Namespace', 'namespaces', ns as ManifestObject), present) as V1Namespace);
    }
  }

  /** As after AKO's Helm install: the `avi-lb` class exists unless the folder defines it. */
  private addDefaultIngressClass(snapshot: ClusterSnapshot, present: Set<string>): void {
    if (snapshot.ingressClasses.has(AVI_INGRESS_CLASS)) return;
    const annotations = this.opts.defaultIngController === false ? undefined : { [DEFAULT_CLASS_ANNOTATION]: 'true' };
    const cls: V1IngressClass = {
      apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: { name: AVI_INGRESS_CLASS, annotations },
      spec: { controller: AVI_INGRESS_CONTROLLER },
    };
    snapshot.ingressClasses.set(AVI_INGRESS_CLASS, this.stamp(this.implicit('IngressClass', 'ingressClasses', cls as ManifestObject), present) as V1IngressClass);
  }
}

/** A parsed file's objects, converted to the snapshot's API versions and scoped; wrong versions are problems. */
function prepare(parsed: ParsedFile): { placed: Placed[]; problems: SourceProblem[] } {
  const placed: Placed[] = [];
  const problems = [...parsed.problems];
  for (const { object, where } of parsed.objects) {
    const { apiVersion, kind } = object;
    if (apiVersion.startsWith(`${AKO_CRD_GROUP}/`)) {
      placed.push(placedOf(kind, { custom: true }, scoped(object, !CLUSTER_SCOPED_CRDS.has(kind)), where));
      continue;
    }
    // The CNI's Pod CIDR objects (Calico BlockAffinity, CiliumNode, HostSubnet), for static routes.
    if (CNI_API_VERSIONS[kind] === apiVersion) {
      placed.push(placedOf(kind, { custom: true }, scoped(object, false), where));
      continue;
    }
    const rule = KINDS[kind];
    if (!rule) continue; // Deployments, ConfigMaps…: not the operator's business
    const convert = rule.convert?.[apiVersion];
    if (!convert && !rule.versions.includes(apiVersion)) {
      const accepted = [...rule.versions, ...Object.keys(rule.convert ?? {})].join(', ');
      problems.push({ where, message: `${kind} ${object.metadata.name}: apiVersion ${apiVersion} is not supported (use ${accepted})` });
      continue;
    }
    const input = scoped(object, rule.namespaced);
    const targetKind = kind === 'Endpoints' ? 'EndpointSlice' : kind;
    for (const o of convert ? convert(input) : [input]) placed.push(placedOf(targetKind, { map: rule.map }, o, where));
  }
  return { placed, problems };
}

function scoped(o: ManifestObject, namespaced: boolean): ManifestObject {
  if (namespaced) o.metadata.namespace = o.metadata.namespace ?? 'default';
  else delete o.metadata.namespace;
  return o;
}

function placedOf(kind: string, target: { map?: SnapshotMapName; custom?: boolean }, object: ManifestObject, where: string): Placed {
  const meta = object.metadata;
  const key = meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
  const given = meta.creationTimestamp;
  const created = given === undefined ? undefined : new Date(given instanceof Date ? given.getTime() : String(given));
  return {
    id: `${kind}/${key}`, kind, ...target, key, object, json: JSON.stringify(object), where,
    givenUid: typeof meta.uid === 'string', created: created && !Number.isNaN(created.getTime()) ? created : undefined,
  };
}

/** A SnapshotProvider over a folder of manifests (`--manifests DIR`). */
export function createManifestProvider(dir: string, opts: ManifestProviderOptions = {}): SnapshotProvider {
  return new ManifestProvider(dir, opts);
}
