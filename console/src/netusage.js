// Used / free VIP addresses of a network, counted from the vsvips' allocated addresses.
import { ipToInt } from './format.js';
import { refUuid } from './refs.js';

function ranges(network) {
  const out = [];
  for (const s of network.configured_subnets ?? []) {
    for (const r of s.static_ip_ranges ?? []) {
      const lo = ipToInt(r.range?.begin?.addr);
      const hi = ipToInt(r.range?.end?.addr);
      if (lo != null && hi != null && hi >= lo) out.push([lo, hi]);
    }
  }
  return out;
}

/** `{used, total}` of the network's static ranges, from the addresses held by `vsvips`. */
export function networkUsage(network, vsvips) {
  const rs = ranges(network);
  const total = rs.reduce((n, [lo, hi]) => n + (hi - lo + 1), 0);
  const seen = new Set();
  for (const v of vsvips) {
    for (const vip of v.vip ?? []) {
      const netRef = vip.ipam_network_subnet?.network_ref;
      const ip = ipToInt(vip.ip_address?.addr);
      if (ip == null) continue;
      const inRange = rs.some(([lo, hi]) => ip >= lo && ip <= hi);
      if (inRange && (!netRef || refUuid(netRef) === network.uuid)) seen.add(ip);
    }
  }
  return { used: seen.size, total };
}
