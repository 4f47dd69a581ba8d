// L7Settings.serviceType NodePortLocal (Antrea NPL), as AKO does it (ako-behaviour.md §3): the
// members of a Service port are the nodeIP:nodePort pairs Antrea publishes in the
// `nodeportlocal.antrea.io` annotation of each selected, ready pod, for the port's target port
// (by number, or by a named container port). A pod without the annotation is no member yet; when
// none has it the Service gets a Warning (NPL not enabled for it). SCTP is not served in NPL mode.
import { isIP } from 'node:net';
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ClusterSnapshot } from '../source/types.js';
import { NPL_POD_ANNOTATION, type PodSummary } from '../source/pods.js';
import type { OperatorSettings } from '../settings/types.js';
import type { ObjectOutcome } from './types.js';
import type { Server } from './members.js';
import { pushTo, warn } from './common.js';

export function nplMode(settings: OperatorSettings): boolean {
  return settings.l7.serviceType === 'NodePortLocal';
}

/** One entry of Antrea's annotation. */
export interface NplMapping {
  podPort: number;
  nodeIP: string;
  nodePort: number;
  /** Lower case (`tcp`, `udp`, `sctp`). */
  protocols: string[];
}

const DIGITS = /^[0-9]+$/;
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;

/** The annotation read: its mappings, or why it is not valid. */
export function parseNplAnnotation(text: string): NplMapping[] | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  if (!Array.isArray(raw)) return { error: 'not a JSON array' };
  const out: NplMapping[] = [];
  for (const [i, e] of raw.entries()) {
    const o = e as Record<string, unknown> | null;
    if (!o || typeof o !== 'object') return { error: `entry ${i} is not an object` };
    if (!isPort(o.podPort)) return { error: `entry ${i}: podPort must be a port number` };
    if (!isPort(o.nodePort)) return { error: `entry ${i}: nodePort must be a port number` };
    if (typeof o.nodeIP !== 'string' || !isIP(o.nodeIP)) return { error: `entry ${i}: nodeIP must be an IP address` };
    // Antrea ≥ 1.7 writes `protocol`; 1.4-1.6 `protocols`; older ones neither (TCP only).
    const list = typeof o.protocol === 'string' ? [o.protocol] : Array.isArray(o.protocols) ? o.protocols : ['tcp'];
    if (!list.every((p) => typeof p === 'string')) return { error: `entry ${i}: protocols must be strings` };
    out.push({ podPort: o.podPort, nodeIP: o.nodeIP, nodePort: o.nodePort, protocols: (list as string[]).map((p) => p.toLowerCase()) });
  }
  return out;
}

/** Parsed once per pod object (a changed pod is a new object). */
const parsedOf = new WeakMap<PodSummary, NplMapping[] | { error: string }>();

function mappingsOf(pod: PodSummary): NplMapping[] | { error: string } | undefined {
  const text = pod.metadata.annotations?.[NPL_POD_ANNOTATION];
  if (text === undefined) return undefined;
  let m = parsedOf.get(pod);
  if (!m) parsedOf.set(pod, (m = parseNplAnnotation(text)));
  return m;
}

function selectorOf(svc: V1Service): Array<[string, string]> {
  return Object.entries(svc.spec?.selector ?? {});
}

function matches(labels: Record<string, string> | undefined, selector: Array<[string, string]>): boolean {
  for (const [k, v] of selector) if (labels?.[k] !== v) return false;
  return true;
}

/** The pod port a Service port sends to: targetPort by number, by name (the pod's container port), or the port itself. */
function podPortOf(port: V1ServicePort, pod: PodSummary): number | undefined {
  const t = port.targetPort;
  if (t === undefined || t === '') return port.port;
  if (typeof t === 'number') return t;
  if (DIGITS.test(t)) return Number(t);
  const protocol = (port.protocol || 'TCP').toUpperCase();
  return pod.namedPorts?.find((p) => p.name === t && p.protocol === protocol)?.port;
}

const byUuid = (a: Server, b: Server) => (a.external_uuid < b.external_uuid ? -1 : a.external_uuid > b.external_uuid ? 1 : 0);

/** The index slot of one label in one namespace. */
const labelSlot = (ns: string, key: string, value: string) => `${ns}\0${key}\0${value}`;

const keyOfPod = (p: PodSummary) => `${p.metadata.namespace}/${p.metadata.name}`;

/**
 * Pods indexed by namespace and label, each list in pod-key order (deterministic warnings). Built
 * once per translation; the incremental translator moves the changed pods instead of indexing all.
 */
export class NplIndex {
  /** labelSlot → pods with that label. */
  private readonly byLabel = new Map<string, PodSummary[]>();

  constructor(pods: Map<string, PodSummary>) {
    // In key order, so each list is sorted as it is filled.
    for (const k of [...pods.keys()].sort()) {
      const pod = pods.get(k)!;
      for (const [lk, lv] of Object.entries(pod.metadata.labels ?? {})) {
        const slot = labelSlot(pod.metadata.namespace, lk, lv);
        pushTo(this.byLabel, slot, pod);
      }
    }
  }

  /** Follows changed pods (`keys`) from `prev` to `now`. */
  update(prev: Map<string, PodSummary>, now: Map<string, PodSummary>, keys: string[]): void {
    for (const k of keys) {
      const was = prev.get(k);
      const is = now.get(k);
      if (was === is) continue;
      if (was) this.file(was, false);
      if (is) this.file(is, true);
    }
  }

  /** Adds (in key order) or removes a pod under each of its labels. */
  private file(pod: PodSummary, add: boolean): void {
    const ns = pod.metadata.namespace;
    const key = keyOfPod(pod);
    for (const [lk, lv] of Object.entries(pod.metadata.labels ?? {})) {
      const slot = labelSlot(ns, lk, lv);
      let list = this.byLabel.get(slot);
      if (!list) {
        if (!add) continue;
        this.byLabel.set(slot, (list = []));
      }
      // Binary search for the pod's place by key.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keyOfPod(list[mid]!) < key) lo = mid + 1; else hi = mid;
      }
      if (add) list.splice(lo, 0, pod);
      else if (list[lo] === pod) {
        list.splice(lo, 1);
        if (list.length === 0) this.byLabel.delete(slot);
      }
    }
  }

  /** The Service's pods: its selector's first label picks the candidates, the rest filter them. A Service without selector has none. */
  selected(svc: V1Service): PodSummary[] {
    const selector = selectorOf(svc);
    if (selector.length === 0) return [];
    const [k, v] = selector[0]!;
    const candidates = this.byLabel.get(labelSlot(svc.metadata?.namespace ?? 'default', k, v)) ?? [];
    return selector.length === 1 ? candidates : candidates.filter((p) => matches(p.metadata.labels, selector));
  }

  /** Members of one Service port; problems go to `out` as Warnings (deduplicated there). */
  servers(svc: V1Service, port: V1ServicePort, out?: ObjectOutcome): Server[] {
    const protocol = (port.protocol || 'TCP').toLowerCase();
    const servers: Server[] = [];
    const seen = new Set<string>();
    let ready = 0;
    let annotated = 0;
    for (const pod of this.selected(svc)) {
      if (!pod.ready) continue;
      ready++;
      const m = mappingsOf(pod);
      if (m === undefined) continue;
      if (!Array.isArray(m)) {
        if (out) warn(out, 'InvalidNPLAnnotation', `pod ${pod.metadata.namespace}/${pod.metadata.name}: annotation ${NPL_POD_ANNOTATION} is not valid (${m.error}); the pod is not a member`);
        continue;
      }
      annotated++;
      const podPort = podPortOf(port, pod);
      if (podPort === undefined) continue;
      for (const e of m) {
        if (e.podPort !== podPort || !e.protocols.includes(protocol)) continue;
        const uuid = `${e.nodeIP}:${e.nodePort}`;
        if (seen.has(uuid)) continue;
        seen.add(uuid);
        servers.push({ ip: { type: e.nodeIP.includes(':') ? 'V6' : 'V4', addr: e.nodeIP }, port: e.nodePort, external_uuid: uuid });
      }
    }
    if (ready > 0 && annotated === 0 && out) {
      const name = `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
      warn(out, 'NPLNotEnabled', `service ${name}: NodePortLocal is not enabled for it: none of its ${ready} ready pod(s) has Antrea's ${NPL_POD_ANNOTATION} annotation (is Antrea's NodePortLocal feature on?); no pool members until it has`);
    }
    return servers.sort(byUuid);
  }
}

/** SCTP with NodePortLocal: no VS is built (as AKO); true when the group is refused, each Service told why. */
export function nplRefusesSctp(services: V1Service[], outs: ObjectOutcome[], settings: OperatorSettings): boolean {
  if (!nplMode(settings)) return false;
  const sctp = services.filter((s) => (s.spec?.ports ?? []).some((p) => (p.protocol ?? '').toUpperCase() === 'SCTP'));
  if (sctp.length === 0) return false;
  const names = sctp.map((s) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`).join(', ');
  for (const o of outs) warn(o, 'UnsupportedProtocol', `SCTP is not supported with serviceType NodePortLocal (service ${names}): no virtual service is built`);
  return true;
}

/**
 * Services whose NPL members a pod change can move (incremental translation): in NPL mode, those
 * of the pod's namespace whose selector matches its labels before or after the change.
 */
export function servicesOfPods(prev: ClusterSnapshot, now: ClusterSnapshot, podKeys: string[], settings: OperatorSettings): string[] {
  if (!nplMode(settings) || podKeys.length === 0) return [];
  const byNs = new Map<string, Array<[string, Array<[string, string]>]>>();
  for (const [key, svc] of now.services) {
    const selector = selectorOf(svc);
    if (selector.length === 0) continue;
    const ns = svc.metadata?.namespace ?? 'default';
    pushTo(byNs, ns, [key, selector]);
  }
  const out = new Set<string>();
  for (const k of podKeys) {
    for (const pod of [prev.pods.get(k), now.pods.get(k)]) {
      if (!pod) continue;
      for (const [key, selector] of byNs.get(pod.metadata.namespace) ?? []) if (matches(pod.metadata.labels, selector)) out.add(key);
    }
  }
  return [...out];
}
