// AviInfraSetting (ako-behaviour.md §5, names §2.3/§2.4): SE group, VIP and node networks, RHI
// and BGP peer labels, public IPs, shard size and listeners for the objects of the Ingresses
// (IngressClass parameters, namespace annotation) and Services (annotation, namespace
// annotation) it is attached to. Attached through the IngressClass, it adds `<name>-` to the
// names of children, pools and policies; every attachment gets its own shared parents
// (`Shared-L7-<name>-N`), since a parent has one SE group and one VIP.
import type { ClusterSnapshot, CustomObject } from '../../source/types.js';
import type { OperatorSettings, ShardSize } from '../../settings/types.js';
import type { DesiredObject, ObjectOutcome, OwnedType } from '../types.js';
import { WRITE_ORDER } from '../types.js';
import { ObjectSet, ref } from '../objects.js';
import { Names } from '../names.js';
import { EndpointIndex } from '../members.js';
import { warn } from '../common.js';
import { buildIngresses } from '../ingress.js';
import { aviClasses } from '../ingress-parse.js';
import { SpecReader } from './fields.js';
import { refKey, type KnownRefs } from './types.js';

export const A_INFRA = 'aviinfrasetting.ako.vmware.com/name';
const SHARD_SIZES = ['SMALL', 'MEDIUM', 'LARGE', 'DEDICATED'] as const;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3})\/(\d{1,2})$/;

/** A network as the CRD names it: `network/<name>` or `network-uuid/<uuid>` in KnownRefs. */
interface NetRef { key: string; label: string; cidrs: string[] }

export interface InfraSpec {
  name: string;
  seGroup?: string;
  vipNetworks: NetRef[];
  nodeNetworks: NetRef[];
  enableRhi?: boolean;
  bgpPeerLabels: string[];
  enablePublicIP?: boolean;
  shardSize?: ShardSize;
  listeners?: Array<{ port: number; enableSSL: boolean; enableHTTP2: boolean }>;
}

export function parseInfraSetting(o: CustomObject): { spec?: InfraSpec; reader: SpecReader } {
  const r = new SpecReader('spec');
  const s = o.spec ?? {};
  const spec: InfraSpec = { name: o.metadata.name, vipNetworks: [], nodeNetworks: [], bgpPeerLabels: [] };
  const seg = r.obj(s.seGroup, 'spec.seGroup');
  if (seg) spec.seGroup = r.ref(seg.name, 'spec.seGroup.name', 'serviceenginegroup');
  const net = r.obj(s.network, 'spec.network') ?? {};
  spec.vipNetworks = r.list(net.vipNetworks, 'spec.network.vipNetworks').map((v, i) => netRef(r, v, `spec.network.vipNetworks[${i}]`, false));
  spec.nodeNetworks = r.list(net.nodeNetworks, 'spec.network.nodeNetworks').map((v, i) => netRef(r, v, `spec.network.nodeNetworks[${i}]`, true));
  const rhi = r.bool(net.enableRhi, 'spec.network.enableRhi');
  if (rhi !== undefined) spec.enableRhi = rhi;
  spec.bgpPeerLabels = r.strings(net.bgpPeerLabels, 'spec.network.bgpPeerLabels');
  if (spec.bgpPeerLabels.length && !rhi) r.problems.push('spec.network.bgpPeerLabels need spec.network.enableRhi: true');
  const pub = r.bool(net.enablePublicIP, 'spec.network.enablePublicIP');
  if (pub !== undefined) spec.enablePublicIP = pub;
  const listeners = r.list(net.listeners, 'spec.network.listeners').map((v, i) => {
    const l = r.obj(v, `spec.network.listeners[${i}]`) ?? {};
    const port = r.int(l.port, `spec.network.listeners[${i}].port`, 1, 65535, true);
    return { port: port ?? 0, enableSSL: r.bool(l.enableSSL, `spec.network.listeners[${i}].enableSSL`) ?? false, enableHTTP2: r.bool(l.enableHTTP2, `spec.network.listeners[${i}].enableHTTP2`) ?? false };
  });
  if (listeners.length) spec.listeners = listeners;
  const l7 = r.obj(s.l7Settings, 'spec.l7Settings');
  if (l7) {
    const size = r.oneOf(l7.shardSize, 'spec.l7Settings.shardSize', SHARD_SIZES);
    if (size) spec.shardSize = size;
    else if (l7.shardSize === undefined) r.problems.push('spec.l7Settings.shardSize is required');
  }
  r.ignore(s.nsxSettings, 'spec.nsxSettings');
  return r.problems.length ? { reader: r } : { spec, reader: r };
}

function netRef(r: SpecReader, v: unknown, at: string, node: boolean): NetRef {
  const n = r.obj(v, at) ?? {};
  const name = r.str(n.networkName, `${at}.networkName`);
  const uuid = r.str(n.networkUUID, `${at}.networkUUID`);
  if (!name && !uuid) r.problems.push(`${at}: networkName or networkUUID is required`);
  if (name && uuid) r.problems.push(`${at}: networkName and networkUUID cannot both be set`);
  const cidrs = node ? r.strings(n.cidrs, `${at}.cidrs`) : [r.str(n.cidr, `${at}.cidr`)].filter((c): c is string => !!c);
  for (const c of cidrs) if (!CIDR.test(c)) r.problems.push(`${at}: ${c} is not an IPv4 CIDR`);
  r.ignore(n.v6cidr, `${at}.v6cidr`);
  if (uuid) { r.refs.push({ type: 'network-uuid', name: uuid, field: `${at}.networkUUID` }); return { key: refKey('network-uuid', uuid), label: uuid, cidrs }; }
  if (name) r.refs.push({ type: 'network', name, field: `${at}.networkName` });
  return { key: refKey('network', name ?? ''), label: name ?? '', cidrs };
}

/** Names with the AviInfraSetting part (§2.3): `[<infra>-]` after the prefix unless namespace-scoped; parents always. */
class InfraNames extends Names {
  override readonly prefix: string;
  constructor(cluster: string, private readonly infra: string, scoped: boolean) {
    super(cluster);
    this.prefix = scoped ? `${cluster}--` : `${cluster}--${infra}-`;
  }
  override sharedL7(n: number): string { return `${this.cluster}--Shared-L7-${this.infra}-${n}`; }
  override sharedPassthrough(n: number): string { return `${this.cluster}--Shared-Passthrough-${this.infra}-${n}`; }
}

/** Where an Ingress's or Service's AviInfraSetting comes from, if anywhere. */
export interface Attachment { name: string; scoped: boolean }

function classInfra(snapshot: ClusterSnapshot, cls: string | undefined): string | undefined {
  const c = cls ? snapshot.ingressClasses.get(cls) : [...snapshot.ingressClasses.values()].find((x) => x.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
  const p = c?.spec?.parameters;
  return p && p.kind === 'AviInfraSetting' && (p.apiGroup ?? 'ako.vmware.com') === 'ako.vmware.com' ? p.name : undefined;
}

function nsInfra(snapshot: ClusterSnapshot, ns: string): string | undefined {
  return snapshot.namespaces.get(ns)?.metadata?.annotations?.[A_INFRA] || undefined;
}

interface Group { attach?: Attachment; infra?: InfraSpec; ingresses: ClusterSnapshot['ingresses'] }

/** Builds the Ingresses once per AviInfraSetting attachment (and once without), then applies each setting to its objects. */
export function buildIngressesByInfra(snapshot: ClusterSnapshot, settings: OperatorSettings, set: ObjectSet, names: Names, endpoints: EndpointIndex,
  outcomes: ObjectOutcome[], infras: Map<string, InfraSpec>, known: KnownRefs | undefined, problems: Map<string, string>): void {
  const groups = new Map<string, Group>();
  const missing = new Map<string, string>();
  const avi = aviClasses(snapshot).names;
  for (const [key, ing] of snapshot.ingresses) {
    const ns = ing.metadata?.namespace ?? 'default';
    const cls = ing.spec?.ingressClassName;
    let attach: Attachment | undefined;
    const byClass = cls === undefined || avi.has(cls) ? classInfra(snapshot, cls) : undefined;
    if (byClass) attach = { name: byClass, scoped: false };
    else { const n = nsInfra(snapshot, ns); if (n) attach = { name: n, scoped: true }; }
    let infra = attach ? infras.get(attach.name) : undefined;
    if (attach && !infra) { missing.set(key, attach.name); attach = undefined; infra = undefined; }
    const gk = attach ? `${attach.name}/${attach.scoped}` : '';
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { ...(attach ? { attach } : {}), ...(infra ? { infra } : {}), ingresses: new Map() }));
    g.ingresses.set(key, ing);
  }
  for (const gk of [...groups.keys()].sort()) {
    const g = groups.get(gk)!;
    const view: ClusterSnapshot = { ...snapshot, ingresses: g.ingresses };
    const shard = g.infra?.shardSize;
    const s = shard ? { ...settings, l7: { ...settings.l7, shardVSSize: shard, passthroughShardSize: shard } } : settings;
    const n = g.attach ? new InfraNames(settings.clusterName, g.attach.name, g.attach.scoped) : names;
    const before = g.infra ? keysOf(set) : undefined;
    buildIngresses(view, s, set, n, endpoints, outcomes);
    if (g.infra) applyInfra(newObjects(set, before!), g.infra, known);
  }
  for (const o of outcomes) {
    if (o.ref.kind !== 'Ingress') continue;
    const name = missing.get(`${o.ref.namespace}/${o.ref.name}`);
    if (name) warn(o, 'AviInfraSettingNotApplied', `AviInfraSetting ${name} ${problems.has(name) ? `is Rejected (${problems.get(name)})` : 'not found'}: defaults used`);
  }
}

/** Applies Services' AviInfraSettings (Service annotation, else namespace annotation) to their L4 objects. */
export function applyInfraToServices(set: ObjectSet, snapshot: ClusterSnapshot, outcomes: ObjectOutcome[], infras: Map<string, InfraSpec>,
  known: KnownRefs | undefined, problems: Map<string, string>): void {
  for (const o of outcomes) {
    if (o.ref.kind !== 'Service') continue;
    const svc = snapshot.services.get(`${o.ref.namespace}/${o.ref.name}`);
    const name = svc?.metadata?.annotations?.[A_INFRA] || nsInfra(snapshot, o.ref.namespace);
    if (!name) continue;
    const infra = infras.get(name);
    if (!infra) {
      warn(o, 'AviInfraSettingNotApplied', `AviInfraSetting ${name} ${problems.has(name) ? `is Rejected (${problems.get(name)})` : 'not found'}: defaults used`);
      continue;
    }
    const objs: DesiredObject[] = [];
    for (const vsName of o.virtualServices) {
      const vs = set.get('virtualservice', vsName);
      if (!vs) continue;
      objs.push(vs);
      for (const d of vs.deps) {
        const [type, ...rest] = d.split('/');
        const dep = set.get(type as OwnedType, rest.join('/'));
        if (dep) objs.push(dep);
      }
    }
    applyInfra(objs, infra, known);
  }
}

function keysOf(set: ObjectSet): Set<DesiredObject> {
  const s = new Set<DesiredObject>();
  for (const t of WRITE_ORDER) for (const o of set.values(t)) s.add(o);
  return s;
}

function newObjects(set: ObjectSet, before: Set<DesiredObject>): DesiredObject[] {
  const out: DesiredObject[] = [];
  for (const t of WRITE_ORDER) for (const o of set.values(t)) if (!before.has(o)) out.push(o);
  return out;
}

function subnetOf(n: NetRef, cidr: string | undefined, known: KnownRefs | undefined): { ip_addr: { type: 'V4'; addr: string }; mask: number } | undefined {
  const m = cidr ? CIDR.exec(cidr) : undefined;
  if (m) return { ip_addr: { type: 'V4', addr: m[1]! }, mask: Number(m[3]) };
  const s = known?.get(n.key)?.subnet;
  return s ? { ip_addr: { type: 'V4', addr: s.addr }, mask: s.mask } : undefined;
}

const netName = (n: NetRef, known: KnownRefs | undefined) => known?.get(n.key)?.name ?? n.label;

function applyInfra(objs: DesiredObject[], infra: InfraSpec, known: KnownRefs | undefined): void {
  for (const o of objs) {
    const b = o.body;
    if (o.type === 'virtualservice') {
      if (infra.seGroup) b.se_group_ref = ref('serviceenginegroup', infra.seGroup);
      if (infra.enableRhi !== undefined) b.enable_rhi = infra.enableRhi;
      if (infra.listeners && b.type === 'VS_TYPE_VH_PARENT') {
        b.services = infra.listeners.map((l) => ({ port: l.port, port_range_end: l.port, enable_ssl: l.enableSSL, enable_http2: l.enableHTTP2 }));
      }
    } else if (o.type === 'vsvip') {
      const vip = (b.vip as Array<Record<string, unknown>>)[0]!;
      const net = infra.vipNetworks[0];
      if (net) {
        const subnet = subnetOf(net, net.cidrs[0], known);
        vip.ipam_network_subnet = { network_ref: ref('network', netName(net, known)), ...(subnet ? { subnet } : {}) };
      }
      if (infra.enablePublicIP) vip.auto_allocate_floating_ip = true;
      if (infra.bgpPeerLabels.length) b.bgp_peer_labels = [...infra.bgpPeerLabels];
    } else if (o.type === 'pool' && infra.nodeNetworks.length) {
      const placements: Array<Record<string, unknown>> = [];
      for (const n of infra.nodeNetworks) {
        for (const c of n.cidrs.length ? n.cidrs : [undefined]) {
          const subnet = subnetOf(n, c, known);
          if (subnet) placements.push({ network_ref: ref('network', netName(n, known)), subnet });
        }
      }
      if (placements.length) b.placement_networks = placements;
    }
  }
}
