// Builds the configuration snapshot of an SE group (docs/engine-protocol.md): the enabled
// virtual services of the group (SNI children with their parent), everything they refer to,
// transitively, the System-Default-Cert, and the DNS records when a DNS VS is among them.
// A snapshot keeps its version while its content is the same, so SEs are only woken by
// changes that concern them.
import { createHash } from 'node:crypto';
import type { EngineHost, StoredObject } from './host.js';

/** Object types that travel in snapshots. */
export const SNAPSHOT_TYPES = [
  'virtualservice', 'vsvip', 'pool', 'poolgroup', 'healthmonitor', 'httppolicyset', 'l4policyset',
  'sslkeyandcertificate', 'applicationprofile', 'networkprofile', 'applicationpersistenceprofile', 'sslprofile',
  'stringgroup', 'vsdatascriptset', 'pkiprofile',
] as const;
const INCLUDED = new Set<string>(SNAPSHOT_TYPES);
/** Other types whose changes can change a snapshot (DNS domains, group membership). */
export const WATCHED_TYPES = new Set<string>([...SNAPSHOT_TYPES, 'cloud', 'ipamdnsproviderprofile', 'serviceenginegroup', 'serviceengine', 'vrfcontext']);

const UUID_REF = /^([a-z0-9]+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface GroupSnapshot {
  version: number;
  hash: string;
  /** `"objects":…,"dns":…` already serialized, shared by every SE of the group. */
  body: string;
  vsUuids: string[];
}

export type Objects = Map<string, Map<string, StoredObject>>;

/**
 * An in-memory copy of the watched object types, loaded once and then kept current from the
 * host's change events, so a rebuild after one change reads nothing from the store.
 */
export class ObjectMirror {
  readonly objects: Objects = new Map();
  private loaded: Promise<void> | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly host: EngineHost) {}

  private load(): Promise<void> {
    this.loaded ??= Promise.all([...WATCHED_TYPES].map(async (t) => {
      const list = await this.host.list(t);
      this.objects.set(t, new Map(list.map((o) => [o.uuid, o])));
    })).then(() => undefined, (err: Error) => {
      this.loaded = undefined;
      throw err;
    });
    return this.loaded;
  }

  /** One object changed (or went): refresh it, in the order the changes came. */
  changed(type: string, uuid: string): void {
    if (!WATCHED_TYPES.has(type)) return;
    this.pending = this.pending.then(async () => {
      if (!this.loaded) return; // the full load will read it
      await this.loaded;
      const o = await this.host.get(type, uuid);
      let m = this.objects.get(type);
      if (!m) this.objects.set(type, (m = new Map()));
      if (o) m.set(uuid, o);
      else m.delete(uuid);
    }).catch(() => {
      // Could not read it: start over with a full load next time.
      this.loaded = undefined;
    });
  }

  /** Resolves when every change seen so far is in the copy. */
  async settled(): Promise<Objects> {
    await this.load();
    await this.pending;
    if (!this.loaded) await this.load();
    return this.objects;
  }
}

function collect(objects: Objects, root: StoredObject, into: Map<string, StoredObject>): void {
  const stack: unknown[] = [root];
  into.set(root.uuid, root);
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const m = UUID_REF.exec(v);
      if (m && INCLUDED.has(m[1]) && !into.has(v)) {
        const o = objects.get(m[1])?.get(v);
        if (o) {
          into.set(v, o);
          stack.push(o);
        }
      }
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'uuid' && k !== 'tenant_ref') stack.push(x);
  }
}

/** The SE group of a VS: its own, or its cloud's Default-Group. */
export function groupOf(objects: Objects, vs: StoredObject): string | undefined {
  if (typeof vs.se_group_ref === 'string') return vs.se_group_ref;
  // No group given: the cloud's Default-Group.
  for (const g of objects.get('serviceenginegroup')?.values() ?? []) if (g.name === 'Default-Group' && (!vs.cloud_ref || g.cloud_ref === vs.cloud_ref)) return g.uuid;
  return undefined;
}

function dnsFor(objects: Objects, dnsVses: StoredObject[]): { domains: string[]; records: { fqdn: string; addresses: string[]; ttl: number }[] } {
  const clouds = new Set(dnsVses.map((v) => v.cloud_ref as string | undefined));
  const domains = new Set<string>();
  let defaultTtl = 30;
  for (const c of clouds) {
    const cloud = c ? objects.get('cloud')?.get(c) : undefined;
    const prof = typeof cloud?.dns_provider_ref === 'string' ? objects.get('ipamdnsproviderprofile')?.get(cloud.dns_provider_ref) : undefined;
    const internal = (prof?.internal_profile ?? {}) as Record<string, any>;
    for (const d of (internal.dns_service_domain ?? []) as any[]) if (typeof d?.domain_name === 'string') domains.add(d.domain_name);
    if (typeof internal.ttl === 'number') defaultTtl = internal.ttl;
  }
  const records: { fqdn: string; addresses: string[]; ttl: number }[] = [];
  for (const vip of objects.get('vsvip')?.values() ?? []) {
    if (!clouds.has(vip.cloud_ref as string | undefined) && !clouds.has(undefined)) continue;
    const first = ((vip.vip ?? []) as any[]).find((v) => v?.enabled !== false && (v?.ip_address?.addr || v?.ip6_address?.addr));
    if (!first) continue;
    const addresses = [first.ip_address?.addr, first.ip6_address?.addr].filter((a): a is string => typeof a === 'string');
    for (const d of (vip.dns_info ?? []) as any[]) {
      if (typeof d?.fqdn === 'string' && d.fqdn) records.push({ fqdn: d.fqdn, addresses, ttl: typeof d.ttl === 'number' ? d.ttl : defaultTtl });
    }
  }
  records.sort((a, b) => a.fqdn.localeCompare(b.fqdn));
  return { domains: [...domains].sort(), records };
}

/**
 * The content of one snapshot (without version and SE): the group's enabled VSes, or, when
 * placement has run (`placed`, src/controller/placement), only those placed on the SE.
 * `standby` (legacy active/standby): placed VSes the SE holds without serving them; listed as
 * `standby_vs_uuids`, so a switch to active is a new snapshot.
 */
export function buildGroupContent(objects: Objects, groupUuid: string, placed?: ReadonlySet<string>, standby: readonly string[] = []): { body: string; hash: string; vsUuids: string[] } {
  const vses = [...(objects.get('virtualservice')?.values() ?? [])];
  const roots = vses.filter((vs) => vs.enabled !== false && vs.type !== 'VS_TYPE_VH_CHILD' && groupOf(objects, vs) === groupUuid && (!placed || placed.has(vs.uuid)));
  const rootSet = new Set(roots.map((v) => v.uuid));
  for (const vs of vses) if (vs.type === 'VS_TYPE_VH_CHILD' && vs.enabled !== false && rootSet.has(vs.vh_parent_vs_ref as string)) roots.push(vs);
  const picked = new Map<string, StoredObject>();
  for (const vs of roots) collect(objects, vs, picked);
  for (const c of objects.get('sslkeyandcertificate')?.values() ?? []) if (c.name === 'System-Default-Cert' || c.name === 'System-Default-Cert-EC') collect(objects, c, picked);
  const byType: Record<string, StoredObject[]> = {};
  for (const t of SNAPSHOT_TYPES) byType[t] = [];
  for (const o of picked.values()) byType[/^([a-z0-9]+)-/.exec(o.uuid)![1]]?.push(o);
  for (const list of Object.values(byType)) list.sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
  const dnsVses = roots.filter((vs) => objects.get('applicationprofile')?.get(vs.application_profile_ref as string)?.type === 'APPLICATION_PROFILE_TYPE_DNS');
  const dns = dnsVses.length ? dnsFor(objects, dnsVses) : { domains: [], records: [] };
  const vrfs = vrfContextsOf(objects, roots, byType.vsvip!);
  const body = `"objects":${JSON.stringify(byType)},"dns":${JSON.stringify(dns)}${standby.length ? `,"standby_vs_uuids":${JSON.stringify(standby)}` : ''}${vrfs.length ? `,"vrfcontexts":${JSON.stringify(vrfs)}` : ''}`;
  return { body, hash: createHash('sha256').update(body).digest('hex'), vsUuids: roots.map((v) => v.uuid) };
}

/**
 * The VRF contexts of the SE's VSes (their own or their vsvip's vrf_context_ref), with their
 * static routes, which an L2-mode engine installs on its host (src/engine/vip/routes.ts). Kept
 * out of `objects`: a route change must not count as a change of every VS of the VRF.
 */
function vrfContextsOf(objects: Objects, vses: StoredObject[], vsvips: StoredObject[]): Array<{ uuid: string; name: string; static_routes: unknown[] }> {
  const uuids = new Set<string>();
  for (const o of [...vses, ...vsvips]) if (typeof o.vrf_context_ref === 'string') uuids.add(o.vrf_context_ref);
  const out: Array<{ uuid: string; name: string; static_routes: unknown[] }> = [];
  for (const u of [...uuids].sort()) {
    const vrf = objects.get('vrfcontext')?.get(u);
    if (vrf) out.push({ uuid: vrf.uuid, name: String(vrf.name), static_routes: Array.isArray(vrf.static_routes) ? vrf.static_routes : [] });
  }
  return out;
}
