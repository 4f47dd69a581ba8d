// IPAM: networks' static ranges, VIP allocation for vsvips, and the rules around them.
// Allocations are claims `ip/<vrf uuid>/<address>` owned by the vsvip, taken inside the write
// transaction, so an address is never handed out twice, even to concurrent requests.
import type { WriteContext } from '../hooks.js';
import type { ObjectRecord, StoreReader } from '../store/types.js';
import { badRequest, conflict } from '../errors.js';
import { ADMIN } from '../api/refs.js';
import { parseAddr, formatAddr, prefixOf, inPrefix, type Addr, type Prefix } from './addr.js';

export interface Range { begin: Addr; end: Addr; forVip: boolean; at: string; subnet: Prefix; subnetIndex: number }

const ipClaim = (vrf: string, a: Addr) => `ip/${vrf}/${formatAddr(a)}`;

function addrAt(ip: any, at: string): Addr {
  const a = parseAddr(String(ip?.addr ?? ''));
  if (!a) throw badRequest(`${at}.addr: ${JSON.stringify(ip?.addr)} is not an IP address`);
  return a;
}

/** Parses and checks a network's subnets and ranges (within their subnet, begin ≤ end, no overlaps inside the network). */
export function networkRanges(body: Record<string, any>): Range[] {
  const out: Range[] = [];
  (body.configured_subnets ?? []).forEach((s: any, i: number) => {
    const at = `configured_subnets[${i}]`;
    const base = addrAt(s.prefix.ip_addr, `${at}.prefix.ip_addr`);
    if (s.prefix.mask > (base.family === 4 ? 32 : 128)) throw badRequest(`${at}.prefix.mask: ${s.prefix.mask} is too long for an IPv${base.family} prefix`);
    const subnet = prefixOf(base, s.prefix.mask);
    (s.static_ip_ranges ?? []).forEach((r: any, j: number) => {
      const rat = `${at}.static_ip_ranges[${j}]`;
      const begin = addrAt(r.range.begin, `${rat}.range.begin`);
      const end = addrAt(r.range.end, `${rat}.range.end`);
      if (!inPrefix(begin, subnet)) throw badRequest(`${rat}.range.begin: ${formatAddr(begin)} is outside the subnet ${formatAddr({ family: subnet.family, value: subnet.base })}/${subnet.mask}`);
      if (!inPrefix(end, subnet)) throw badRequest(`${rat}.range.end: ${formatAddr(end)} is outside the subnet ${formatAddr({ family: subnet.family, value: subnet.base })}/${subnet.mask}`);
      if (begin.value > end.value) throw badRequest(`${rat}.range: begin ${formatAddr(begin)} is after end ${formatAddr(end)}`);
      out.push({ begin, end, forVip: (r.type ?? 'STATIC_IPS_FOR_VIP_AND_SE') !== 'STATIC_IPS_FOR_SE', at: rat, subnet, subnetIndex: i });
    });
  });
  for (let i = 0; i < out.length; i++) for (let j = i + 1; j < out.length; j++) {
    if (overlap(out[i]!, out[j]!)) throw badRequest(`${out[j]!.at}.range: overlaps ${out[i]!.at}`);
  }
  return out;
}

const overlap = (a: Range, b: Range) => a.begin.family === b.begin.family && a.begin.value <= b.end.value && b.begin.value <= a.end.value;
const show = (r: Range) => `${formatAddr(r.begin)}–${formatAddr(r.end)}`;
const inRange = (a: Addr, r: Range) => a.family === r.begin.family && a.value >= r.begin.value && a.value <= r.end.value;

/** The cloud's VRF named `name` (VRFs live in the admin tenant). */
export async function cloudVrf(r: StoreReader, cloud: string, name = 'global'): Promise<string | undefined> {
  return (await r.byName('vrfcontext', ADMIN, name, cloud))[0]?.uuid;
}

async function defaultVrf(c: WriteContext, field: string): Promise<void> {
  if (c.body[field]) return;
  const vrf = await cloudVrf(c.tx, c.cloud);
  if (!vrf) throw badRequest(`${field}: the cloud has no VRF context named global; give one`);
  c.body[field] = vrf;
  c.refs.add(vrf);
}

/** Network write: ranges valid, no overlap with other networks of the VRF, no allocated address left outside. */
export async function writeNetwork(c: WriteContext): Promise<void> {
  await defaultVrf(c, 'vrf_context_ref');
  const ranges = networkRanges(c.body);
  const vrf = c.body.vrf_context_ref as string;
  for (const other of await c.tx.all('network')) {
    if (other.uuid === c.uuid || other.body.vrf_context_ref !== vrf) continue;
    const theirs = networkRanges(other.body);
    for (const mine of ranges) for (const t of theirs) {
      if (overlap(mine, t)) throw badRequest(`${mine.at}.range: ${show(mine)} overlaps range ${show(t)} of network ${other.name} in the same VRF`);
    }
  }
  if (!c.old) return;
  for (const ref of await c.tx.referrers(c.uuid)) {
    if (ref.type !== 'vsvip') continue;
    const vsvip = await c.tx.get(ref.uuid);
    for (const vip of (vsvip?.body.vip as any[] | undefined) ?? []) {
      if (vip.ipam_network_subnet?.network_ref !== c.uuid) continue;
      for (const f of ['ip_address', 'ip6_address']) {
        const a = vip[f] && parseAddr(vip[f].addr);
        if (!a) continue;
        if (c.old.body.vrf_context_ref !== vrf) throw badRequest(`vrf_context_ref: cannot change the VRF while vsvip ${ref.name} holds ${formatAddr(a)} from this network`);
        if (!ranges.some((r) => r.forVip && inRange(a, r))) throw badRequest(`configured_subnets: ${formatAddr(a)} of vsvip ${ref.name} would fall outside the network's VIP ranges; release it first`);
      }
    }
  }
}

interface NetworkChoice { rec: ObjectRecord; ranges: Range[] }

async function usableNetworks(c: WriteContext): Promise<NetworkChoice[]> {
  const cloud = await c.tx.get(c.cloud);
  const ipamRef = cloud?.body.ipam_provider_ref as string | undefined;
  const ipam = ipamRef ? await c.tx.get(ipamRef) : undefined;
  const out: NetworkChoice[] = [];
  for (const u of ((ipam?.body.internal_profile as any)?.usable_networks ?? []) as any[]) {
    const rec = await c.tx.get(u.nw_ref);
    if (rec) out.push({ rec, ranges: networkRanges(rec.body) });
  }
  return out;
}

async function network(c: WriteContext, uuid: string): Promise<NetworkChoice> {
  const rec = (await c.tx.get(uuid))!;
  return { rec, ranges: networkRanges(rec.body) };
}

function subnetFilter(vip: any, family: 4 | 6): (r: Range) => boolean {
  const want = family === 4 ? vip.ipam_network_subnet?.subnet : vip.ipam_network_subnet?.subnet6;
  const a = want && parseAddr(want.ip_addr?.addr ?? '');
  if (!a) return (r) => r.forVip && r.begin.family === family;
  const p = prefixOf(a, want.mask);
  return (r) => r.forVip && r.begin.family === family && r.subnet.base === p.base && r.subnet.mask === p.mask;
}

/**
 * Per VRF and VIP range, a floor below which every address was claimed when last looked at, so
 * an allocation probes from there instead of reading every claim of the VRF (O(VIPs) per write,
 * quadratic over a sync). Releases lower it again, so the lowest free address is still the one
 * handed out. A floor that is too high after a rollback or another replica's release only costs
 * first-fit, never uniqueness: every candidate is checked against the claims in the transaction.
 */
const floors = new Map<string, Map<string, { range: Range; floor: bigint }>>();

function floorOf(vrf: string, r: Range): { range: Range; floor: bigint } {
  let m = floors.get(vrf);
  if (!m) floors.set(vrf, (m = new Map()));
  const key = `${r.begin.family}/${r.begin.value}/${r.end.value}`;
  let f = m.get(key);
  if (!f) m.set(key, (f = { range: r, floor: r.begin.value }));
  return f;
}

/** An address went back to the pool: later allocations probe from it again (in any VRF holding it: cheap, and safe). */
function released(a: Addr): void {
  for (const m of floors.values()) for (const f of m.values()) {
    if (f.range.begin.family === a.family && inRange(a, f.range) && a.value < f.floor) f.floor = a.value;
  }
}

/** The first free address of the network's VIP ranges, or undefined when they are used up. */
async function freeAddress(c: WriteContext, choice: NetworkChoice, vrf: string, pick: (r: Range) => boolean, taken: Set<string>): Promise<Addr | undefined> {
  for (const r of choice.ranges.filter(pick)) {
    const f = floorOf(vrf, r);
    let v = f.floor > r.begin.value ? f.floor : r.begin.value;
    let claimedBelow = true;
    for (; v <= r.end.value; v++) {
      const a: Addr = { family: r.begin.family, value: v };
      const key = ipClaim(vrf, a);
      if (taken.has(key)) { claimedBelow = false; continue; }
      if (await c.tx.claimOwner(key)) continue;
      if (claimedBelow) f.floor = v;
      return a;
    }
    if (claimedBelow) f.floor = v;
  }
  return undefined;
}

/** vsvip write: allocate or check every VIP's addresses, keep allocations across PUTs, check FQDNs. */
export async function writeVsVip(c: WriteContext): Promise<void> {
  await defaultVrf(c, 'vrf_context_ref');
  const oldVips = new Map<string, any>(((c.old?.body.vip as any[]) ?? []).map((v) => [String(v.vip_id), v]));
  const vips = (c.body.vip ?? []) as any[];
  const ids = new Set<string>();
  let usable: NetworkChoice[] | undefined;
  for (let i = 0; i < vips.length; i++) {
    const vip = vips[i];
    const at = `vip[${i}]`;
    if (ids.has(vip.vip_id)) throw badRequest(`${at}.vip_id: ${vip.vip_id} is used twice`);
    ids.add(vip.vip_id);
    const was = oldVips.get(String(vip.vip_id));
    const explicit = vip.ipam_network_subnet?.network_ref as string | undefined;
    for (const family of [4, 6] as const) {
      const field = family === 4 ? 'ip_address' : 'ip6_address';
      const wantAuto = vip.auto_allocate_ip && (family === 4 ? vip.auto_allocate_ip_type !== 'V6_ONLY' : vip.auto_allocate_ip_type !== 'V4_ONLY');
      const prev = was?.[field] ? parseAddr(was[field].addr) : undefined;
      const prevAllocated = !!(prev && was.avi_allocated_vip);
      let addr: Addr | undefined = vip[field] ? addrAt(vip[field], `${at}.${field}`) : undefined;
      if (addr && addr.family !== family) throw badRequest(`${at}.${field}: ${formatAddr(addr)} is not an IPv${family} address`);
      let allocated = false;
      let choice: NetworkChoice | undefined = explicit ? await network(c, explicit) : undefined;
      if (addr) {
        if (prevAllocated && prev!.value !== addr.value) throw badRequest(`${at}.${field}: the allocated address ${formatAddr(prev!)} cannot be changed; recreate the VIP`);
        allocated = prevAllocated;
        if (!choice) {
          usable ??= await usableNetworks(c);
          choice = usable.find((n) => n.ranges.some((r) => r.forVip && inRange(addr!, r))) ?? usable[0];
        }
        if (choice && !choice.ranges.some((r) => r.forVip && inRange(addr!, r))) {
          throw badRequest(`${at}.${field}: ${formatAddr(addr)} is out of the VIP ranges of network ${choice.rec.name}`);
        }
      } else if (wantAuto) {
        if (prev && prevAllocated) { addr = prev; allocated = true; choice = explicit ? choice : (was.ipam_network_subnet?.network_ref ? await network(c, was.ipam_network_subnet.network_ref) : choice); }
        else {
          const candidates = choice ? [choice] : (usable ??= await usableNetworks(c));
          if (candidates.length === 0) throw badRequest(`${at}.ipam_network_subnet.network_ref: no network to allocate from; give one or set an IPAM profile with usable networks on the cloud`);
          const taken = new Set(c.claims);
          for (const cand of candidates) {
            const vrf = cand.rec.body.vrf_context_ref as string;
            addr = await freeAddress(c, cand, vrf, subnetFilter(vip, family), taken);
            if (addr) { choice = cand; break; }
          }
          if (!addr) {
            if (family === 6 && vip.auto_allocate_ip_type === 'V4_V6') continue;
            throw badRequest(`${at}: No available free IPs in network ${candidates.map((n) => n.rec.name).join(', ')}`);
          }
          allocated = true;
        }
      }
      if (!addr) continue;
      const vrf = (choice?.rec.body.vrf_context_ref as string | undefined) ?? (c.body.vrf_context_ref as string);
      const key = ipClaim(vrf, addr);
      const owner = await c.tx.claimOwner(key);
      if ((owner && owner !== c.uuid) || c.claims.includes(key)) {
        const who = owner && owner !== c.uuid ? (await c.tx.get(owner))?.name ?? owner : 'another VIP of this vsvip';
        throw badRequest(`${at}.${field}: ${formatAddr(addr)} is in use by vsvip ${who}`);
      }
      c.claims.push(key);
      vip[field] = { type: family === 4 ? 'V4' : 'V6', addr: formatAddr(addr) };
      if (family === 4) { vip.avi_allocated_vip = allocated; vip.prefix_length = 32; }
      if (choice) {
        vip.ipam_network_subnet ??= {};
        vip.ipam_network_subnet.network_ref = choice.rec.uuid;
        c.refs.add(choice.rec.uuid);
        const subField = family === 4 ? 'subnet' : 'subnet6';
        if (!vip.ipam_network_subnet[subField]) {
          const r = choice.ranges.find((x) => inRange(addr!, x));
          if (r) vip.ipam_network_subnet[subField] = { ip_addr: { type: family === 4 ? 'V4' : 'V6', addr: formatAddr({ family, value: r.subnet.base }) }, mask: r.subnet.mask };
        }
      }
    }
  }
  await checkFqdns(c);
  for (const v of oldVips.values()) releaseVip(v, c.claims);
}

/** The addresses of a VIP that are no longer claimed (not among `kept`) are free again. */
function releaseVip(vip: any, kept: string[] = []): void {
  for (const field of ['ip_address', 'ip6_address']) {
    const a = vip?.[field] && parseAddr(String(vip[field].addr));
    if (a && !kept.some((k) => k.startsWith('ip/') && k.endsWith(`/${formatAddr(a)}`))) released(a);
  }
}

/** vsvip delete: its addresses go back to the pool. */
export async function removeVsVip(_tx: unknown, rec: ObjectRecord): Promise<void> {
  for (const v of (rec.body.vip ?? []) as any[]) releaseVip(v);
}

/** dns_info: every FQDN under a domain of the cloud's DNS profile, and claimed by one vsvip only. */
async function checkFqdns(c: WriteContext): Promise<void> {
  const infos = (c.body.dns_info ?? []) as any[];
  if (infos.length === 0) return;
  const cloud = await c.tx.get(c.cloud);
  const dnsRef = cloud?.body.dns_provider_ref as string | undefined;
  const dns = dnsRef ? await c.tx.get(dnsRef) : undefined;
  const domains = (((dns?.body.internal_profile as any)?.dns_service_domain ?? []) as any[]).map((d) => String(d.domain_name).toLowerCase().replace(/\.$/, ''));
  for (let i = 0; i < infos.length; i++) {
    const at = `dns_info[${i}].fqdn`;
    const fqdn = String(infos[i].fqdn).toLowerCase().replace(/\.$/, '');
    if (!/^[a-z0-9*_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(fqdn)) throw badRequest(`${at}: ${JSON.stringify(infos[i].fqdn)} is not a domain name`);
    if (domains.length === 0) throw badRequest(`${at}: the cloud ${cloud?.name ?? ''} has no DNS profile with domains, so ${fqdn} cannot be registered`);
    if (!domains.some((d) => fqdn === d || fqdn.endsWith(`.${d}`))) throw badRequest(`${at}: ${fqdn} is not under a domain of the DNS profile (${domains.join(', ')})`);
    const key = `fqdn/${c.cloud}/${fqdn}`;
    const owner = await c.tx.claimOwner(key);
    if ((owner && owner !== c.uuid) || c.claims.includes(key)) {
      throw conflict(`${at}: ${fqdn} is already used by vsvip ${owner && owner !== c.uuid ? (await c.tx.get(owner))?.name ?? owner : c.body.name}`);
    }
    c.claims.push(key);
  }
}

/** Domains of a cloud's DNS profile (for /api/ipamdnsproviderprofiledomainlist). */
export async function cloudDomains(r: StoreReader, cloudUuid: string): Promise<string[]> {
  const cloud = await r.get(cloudUuid);
  const dnsRef = cloud?.body.dns_provider_ref as string | undefined;
  const dns = dnsRef ? await r.get(dnsRef) : undefined;
  return (((dns?.body.internal_profile as any)?.dns_service_domain ?? []) as any[]).map((d) => String(d.domain_name));
}
