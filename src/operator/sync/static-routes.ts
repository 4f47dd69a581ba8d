// AKO's static route sync (ako-behaviour.md §1, "Static routes"): the VRF context gets one
// static route per node Pod CIDR → node InternalIP, labelled clustername=<clusterName>, so SEs
// reach pod IPs in ClusterIP mode. Only routes carrying this cluster's label are ever changed:
// other clusters' and the user's routes stay as they are. The vrfcontext is a shared admin
// object: written with GET → modify → PUT carrying `_last_modified`, again on 412, as AKO does.
// Also the SE group cluster label check (§1.6) that goes with it.
import net from 'node:net';
import type { V1Node } from '@kubernetes/client-node';
import type { ControllerClient } from '../controller-client/client.js';
import { ControllerError } from '../controller-client/errors.js';
import type { OperatorSettings } from '../settings/types.js';
import { cniPodCidrs, ovnNodeSubnets, OVN_SUBNETS_ANNOTATION } from './cni-cidrs.js';

export const POD_CIDRS_ANNOTATION = 'ako.vmware.com/pod-cidrs';
const NO_CUSTOM: ReadonlyMap<string, ReadonlyMap<string, unknown>> = new Map();
export const CLUSTER_LABEL = 'clustername';

export interface StaticRoute {
  route_id: string;
  prefix: { ip_addr: { addr: string; type: 'V4' | 'V6' }; mask: number };
  next_hop: { addr: string; type: 'V4' | 'V6' };
  labels?: Array<{ key: string; value?: string }>;
  [other: string]: unknown;
}

export interface NodeRouteProblem { node: string; message: string }

/** Whether AKO would sync static routes with these settings (off in NodePort/NPL mode and with NCP). */
export function staticRouteSyncOn(s: OperatorSettings): boolean {
  return !s.disableStaticRouteSync && s.l7.serviceType === 'ClusterIP' && s.cniPlugin.toLowerCase() !== 'ncp';
}

export function clusterLabels(clusterName: string): Array<{ key: string; value: string }> {
  return [{ key: CLUSTER_LABEL, value: clusterName }];
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** `10.244.1.0/24` → prefix, or undefined when it is not an IPv4 CIDR (AKO's ipFamily V4). */
function v4Prefix(cidr: string): StaticRoute['prefix'] | undefined {
  const m = IPV4_CIDR.exec(cidr);
  if (!m || !net.isIPv4(cidr.slice(0, cidr.indexOf('/'))) || Number(m[5]) > 32) return undefined;
  return { ip_addr: { addr: cidr.slice(0, cidr.indexOf('/')), type: 'V4' }, mask: Number(m[5]) };
}

/** Where Pod CIDRs come from besides the node: the CNI (`cniPlugin`) and what its objects hold per node. */
export interface CniCidrs {
  plugin: string;
  /** Node name → CIDRs from the CNI's objects (Calico, Cilium, OpenShift SDN); undefined: the CNI uses the node's. */
  byNode?: ReadonlyMap<string, string[]>;
}

/**
 * The node's Pod CIDRs: the ako.vmware.com/pod-cidrs annotation when present (comma-separated),
 * else the CNI's own objects or OVN's node annotation, else spec.podCIDRs (spec.podCIDR).
 */
function podCidrs(node: V1Node, cni: CniCidrs | undefined): { cidrs: string[]; problem?: string } {
  const annotation = node.metadata?.annotations?.[POD_CIDRS_ANNOTATION];
  if (annotation !== undefined) {
    const cidrs = annotation.split(',').map((c) => c.trim()).filter(Boolean);
    const bad = cidrs.find((c) => !v4Prefix(c));
    if (bad) return { cidrs: [], problem: `annotation ${POD_CIDRS_ANNOTATION}: ${JSON.stringify(bad)} is not an IPv4 CIDR` };
    return { cidrs };
  }
  // A node the CNI allocated nothing to yet (a Calico node without pods) has no route: not a problem.
  if (cni?.byNode) return { cidrs: cni.byNode.get(node.metadata?.name ?? '') ?? [] };
  if (cni?.plugin === 'ovn-kubernetes') {
    const ovn = ovnNodeSubnets(node);
    if (!ovn) return { cidrs: [], problem: `no readable ${OVN_SUBNETS_ANNOTATION} annotation (cniPlugin ovn-kubernetes)` };
    return { cidrs: ovn };
  }
  const spec = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  if (!spec.length) return { cidrs: [], problem: `no Pod CIDR (spec.podCIDRs is empty and there is no ${POD_CIDRS_ANNOTATION} annotation)` };
  return { cidrs: spec };
}

/** What one node gives: its IPv4 InternalIP and IPv4 Pod CIDR prefixes, or why it gives none. */
interface NodeRoutes { ip?: string; prefixes: StaticRoute['prefix'][]; problem?: string }

function nodeRoutes(node: V1Node, cni: CniCidrs | undefined): NodeRoutes {
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP' && net.isIPv4(a.address))?.address;
  if (!ip) return { prefixes: [], problem: 'no IPv4 InternalIP in status.addresses' };
  const { cidrs, problem } = podCidrs(node, cni);
  if (problem) return { prefixes: [], problem };
  // IPv6 Pod CIDRs of a dual-stack node are left out (v4Prefix → undefined).
  return { ip, prefixes: cidrs.map(v4Prefix).filter((p): p is StaticRoute['prefix'] => !!p) };
}

/**
 * This cluster's routes for a set of nodes (pure). Numbered as AKO numbers them at start:
 * nodes by name, each node's Pod CIDRs in order, route_id `<clusterName>-1`, `-2`, …. IPv6 Pod
 * CIDRs are skipped (ipFamily V4, as AKO's default), as are a prefix already routed by an
 * earlier node (AKO: "static route prefix already exists"). `cache` keeps each node object's
 * reading, so a pass after one node changed reads only that one (not used when the CIDRs come
 * from the CNI's objects, which change apart from the node).
 */
export function desiredStaticRoutes(nodes: Iterable<V1Node>, clusterName: string, cache?: WeakMap<V1Node, NodeRoutes>, cni?: CniCidrs): { routes: StaticRoute[]; problems: NodeRouteProblem[] } {
  const routes: StaticRoute[] = [];
  const problems: NodeRouteProblem[] = [];
  const seen = new Set<string>();
  const labels = clusterLabels(clusterName);
  const sorted = [...nodes].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  for (const node of sorted) {
    const name = node.metadata?.name ?? '';
    let r = cni?.byNode ? undefined : cache?.get(node);
    if (!r) { r = nodeRoutes(node, cni); if (!cni?.byNode) cache?.set(node, r); }
    if (r.problem) { problems.push({ node: name, message: r.problem }); continue; }
    for (const prefix of r.prefixes) {
      const key = `${prefix.ip_addr.addr}/${prefix.mask}`;
      if (seen.has(key)) { problems.push({ node: name, message: `Pod CIDR ${key} is already routed to another node` }); continue; }
      seen.add(key);
      routes.push({ route_id: `${clusterName}-${routes.length + 1}`, prefix, next_hop: { addr: r.ip!, type: 'V4' }, labels });
    }
  }
  return { routes, problems };
}

const isOurs = (r: { labels?: Array<{ key: string; value?: string }> }, clusterName: string) =>
  (r.labels ?? []).some((l) => l.key === CLUSTER_LABEL && l.value === clusterName);

/** The vrfcontext's routes with ours replaced (others kept, in their order); undefined when nothing changes. */
export function mergeStaticRoutes(existing: StaticRoute[] | undefined, ours: StaticRoute[], clusterName: string): StaticRoute[] | undefined {
  const current = existing ?? [];
  const others = current.filter((r) => !isOurs(r, clusterName));
  const held = current.filter((r) => isOurs(r, clusterName));
  if (held.length === ours.length && held.every((r, i) => sameRoute(r, ours[i]!))) return undefined;
  return [...others, ...ours];
}

function sameRoute(a: StaticRoute, b: StaticRoute): boolean {
  return a.route_id === b.route_id && a.prefix?.ip_addr?.addr === b.prefix.ip_addr.addr && a.prefix?.mask === b.prefix.mask
    && a.next_hop?.addr === b.next_hop.addr && JSON.stringify(a.labels ?? []) === JSON.stringify(b.labels ?? []);
}

/** `/api/tenant/<uuid>#name` → name (include_name refs), else undefined. */
const refName = (r: unknown) => (typeof r === 'string' && r.includes('#') ? r.slice(r.indexOf('#') + 1) : undefined);

const MAX_CONFLICTS = 5;

/**
 * GET → modify → PUT of a shared object with its `_last_modified`; a 412 (someone wrote it in
 * between) reads it again and retries. `modify` returns the new body, or undefined for no write.
 */
export async function readModifyWrite(
  client: ControllerClient, type: string, read: () => Promise<Record<string, any> | undefined>,
  modify: (obj: Record<string, any>) => Record<string, any> | undefined,
): Promise<'written' | 'unchanged' | 'missing'> {
  for (let attempt = 1; ; attempt++) {
    const obj = await read();
    if (!obj) return 'missing';
    const body = modify(obj);
    if (!body) return 'unchanged';
    try {
      await client.replace(type, obj.uuid, body, refName(obj.tenant_ref) ?? 'admin');
      return 'written';
    } catch (err) {
      if (!(err instanceof ControllerError && err.status === 412) || attempt >= MAX_CONFLICTS) throw err;
    }
  }
}

/**
 * The SE group's cluster label: 'ok' (it has exactly clustername=<clusterName>, or had no labels
 * and now has), 'missing' (no such SE group), or the problem, in AKO's words plus what to do.
 */
async function segLabelState(client: ControllerClient, settings: OperatorSettings, seg: string, mayWrite = true): Promise<string> {
  const want = clusterLabels(settings.clusterName);
  let found: unknown;
  const r = await readModifyWrite(client, 'serviceenginegroup', () => client.byName('serviceenginegroup', seg, { 'cloud_ref.name': settings.controller.cloudName }), (obj) => {
    const labels = Array.isArray(obj.labels) ? obj.labels : [];
    if (labels.length === 0) return mayWrite ? { ...obj, labels: want } : undefined;
    found = labels;
    return undefined;
  });
  if (r === 'missing') return 'missing';
  if (found === undefined || JSON.stringify((found as any[]).map((l) => ({ key: l?.key, value: l?.value }))) === JSON.stringify(want)) return 'ok';
  return `Labels does not match with cluster name for SE group ${seg}: it has ${JSON.stringify(found)}, expected ${JSON.stringify(want)}. `
    + 'Another cluster uses it with static routes: give this cluster its own SE group, or set AKOSettings.disableStaticRouteSync: true';
}

/**
 * §1.6, only with static route sync on: the SE group must carry exactly the label
 * clustername=<clusterName>; without labels it gets it; other labels are a start-up problem.
 * A follower (`mayWrite` false) only checks: the leader's first pass puts a missing label.
 */
export async function checkSeGroupLabels(client: ControllerClient, settings: OperatorSettings, mayWrite = true): Promise<string | undefined> {
  if (!staticRouteSyncOn(settings)) return undefined;
  const state = await segLabelState(client, settings, settings.controller.serviceEngineGroupName, mayWrite);
  return state === 'ok' || state === 'missing' ? undefined : state;
}

export interface StaticRouteLog { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }

/**
 * Keeps this cluster's routes on the VRF context and the cluster label on its SE groups (run by
 * the leader only). Routes are computed again only when a node object changed and written only
 * when they differ from the last write; `invalidate` (full sync) reads everything again.
 */
export class StaticRouteSync {
  private lastNodes = new Map<string, V1Node>();
  /** The CNI objects' CIDRs last used (JSON), so a change to them alone recomputes the routes. */
  private lastCni = '';
  private routes: StaticRoute[] = [];
  /** `routes` as JSON (computed with them, compared on every pass). */
  private signature = '[]';
  /** What the vrfcontext holds of ours after the last successful run (JSON), '' before any. */
  private written = '';
  private reported = '';
  /** SE groups whose cluster label was checked (or put). */
  private readonly labelled = new Set<string>();
  private readonly perNode = new WeakMap<V1Node, NodeRoutes>();

  constructor(private readonly client: ControllerClient, private readonly settings: OperatorSettings, private readonly log: StaticRouteLog) {}

  /** The next run reads the vrfcontext and the AviInfraSetting SE groups again (full sync: someone may have edited them). */
  invalidate(): void {
    this.written = '';
    this.labelled.clear();
  }

  /**
   * Writes the routes `nodes` need (none when `deleting`: deleteConfig), and labels the
   * configured SE group (when the start-up check ran as a follower) and those AviInfraSettings
   * name (§1.6). Throws ControllerError to be retried.
   */
  async run(nodes: ReadonlyMap<string, V1Node>, deleting: boolean, infraSettings?: ReadonlyMap<string, { spec?: Record<string, unknown> }>,
    custom?: ReadonlyMap<string, ReadonlyMap<string, unknown>>): Promise<void> {
    if (!staticRouteSyncOn(this.settings)) return;
    if (!deleting) await this.labelSeGroups(infraSettings);
    const clusterName = this.settings.clusterName;
    const cni: CniCidrs = { plugin: this.settings.cniPlugin.toLowerCase(), byNode: cniPodCidrs(this.settings.cniPlugin, custom ?? NO_CUSTOM) };
    const cniText = cni.byNode ? JSON.stringify([...cni.byNode].sort()) : '';
    // Nodes change often (status heartbeats): routes are computed again only then, written only when they differ.
    if (!sameNodes(this.lastNodes, nodes) || cniText !== this.lastCni) {
      const { routes, problems } = desiredStaticRoutes(nodes.values(), clusterName, this.perNode, cni);
      const text = problems.map((p) => `${p.node}: ${p.message}`).join('; ');
      if (text && text !== this.reported) this.log.warn({ nodes: problems }, `static routes: nodes without a route (${text})`);
      this.reported = text;
      this.routes = routes;
      this.signature = JSON.stringify(routes);
      this.lastNodes = new Map(nodes);
      this.lastCni = cniText;
    }
    const routes = deleting ? [] : this.routes;
    const signature = deleting ? '[]' : this.signature;
    if (signature === this.written) return;
    const vrf = this.settings.controller.vrfName || 'global';
    const result = await readModifyWrite(this.client, 'vrfcontext',
      () => this.client.byName('vrfcontext', vrf, { 'cloud_ref.name': this.settings.controller.cloudName }, 'admin'),
      (obj) => {
        const merged = mergeStaticRoutes(obj.static_routes, routes, clusterName);
        return merged ? { ...obj, static_routes: merged } : undefined;
      });
    if (result === 'missing') throw new ControllerError(404, `VrfContext object not found: ${vrf}`, 'GET', '/api/vrfcontext', 'missing-infra');
    if (result === 'written') this.log.info({ vrf, routes: routes.length }, deleting ? 'static routes of this cluster removed' : 'static routes updated');
    this.written = signature;
  }

  /** A mismatch is logged (the AviInfraSetting's own status tells a missing SE group); AKO fails the same way. */
  private async labelSeGroups(infraSettings: ReadonlyMap<string, { spec?: Record<string, unknown> }> | undefined): Promise<void> {
    const groups = new Map<string, string>([[this.settings.controller.serviceEngineGroupName, 'ControllerSettings.serviceEngineGroupName']]);
    for (const [name, o] of infraSettings ?? []) {
      const seg = (o.spec?.seGroup as { name?: unknown } | undefined)?.name;
      if (typeof seg === 'string' && seg && !groups.has(seg)) groups.set(seg, `AviInfraSetting ${name}`);
    }
    for (const [seg, from] of groups) {
      if (this.labelled.has(seg)) continue;
      const state = await segLabelState(this.client, this.settings, seg);
      if (state === 'missing') continue; // looked for again at the next pass
      this.labelled.add(seg);
      if (state !== 'ok') this.log.warn({ seGroup: seg, from }, state);
    }
  }
}

function sameNodes(a: ReadonlyMap<string, V1Node>, b: ReadonlyMap<string, V1Node>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}
