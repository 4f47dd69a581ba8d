// Number, time and address formatting shared by the pages.

export function fmtRate(n) {
  if (n == null || Number.isNaN(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k/s`;
  return `${n >= 10 ? Math.round(n) : n.toFixed(1)}/s`;
}

/** `n` in the largest unit of `units` (each `base` times the previous) that keeps it ≥ 1. */
function scaled(n, base, units) {
  if (n == null || Number.isNaN(n)) return '–';
  let i = 0;
  while (n >= base && i < units.length - 1) { n /= base; i++; }
  return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

export const fmtBits = (bps) => scaled(bps, 1000, ['bps', 'kbps', 'Mbps', 'Gbps']);
export const fmtBytes = (b) => scaled(b, 1024, ['B', 'KiB', 'MiB', 'GiB']);

/** Avi timestamps come as ISO strings, epoch seconds, or `_last_modified` microseconds. */
export function toDate(t) {
  if (t == null || t === '') return null;
  if (typeof t === 'object' && 'secs' in t) return new Date(t.secs * 1000);
  if (typeof t === 'number' || /^\d+$/.test(String(t))) {
    const n = Number(t);
    return new Date(n > 1e14 ? n / 1000 : n > 1e11 ? n : n * 1000);
  }
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtAgo(t, now = Date.now()) {
  const d = toDate(t);
  if (!d) return '–';
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtTime(t) {
  const d = toDate(t);
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '–';
}

export function fmtDate(t) {
  const d = toDate(t);
  return d ? d.toISOString().slice(0, 10) : '–';
}

export function daysUntil(t, now = Date.now()) {
  const d = toDate(t);
  return d ? Math.floor((d.getTime() - now) / 86400000) : null;
}

/** IPv4 helpers for networks (used / free addresses). */
export function ipToInt(ip) {
  const p = String(ip).split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function prefixText(prefix) {
  if (!prefix) return '';
  return `${prefix.ip_addr?.addr ?? '?'}/${prefix.mask ?? '?'}`;
}

const isUdp = (ref) => /UDP/i.test(String(ref ?? '').split('#').pop());

/** `80, 443 (TLS)`; a UDP port (by its network profile, or the VS's) reads `53/udp`. */
export function portsText(services, networkProfileRef) {
  const list = services ?? [];
  const udp = list.map((s) => isUdp(s.override_network_profile_ref ?? networkProfileRef));
  const mixed = udp.some(Boolean) && list.length > 1;
  return list
    .map((s, i) => {
      const range = s.port_range_end && s.port_range_end !== s.port ? `${s.port}-${s.port_range_end}` : `${s.port}`;
      const proto = udp[i] ? '/udp' : mixed ? '/tcp' : '';
      return s.enable_ssl ? `${range}${proto} (TLS)` : `${range}${proto}`;
    })
    .join(', ');
}
