// IP address arithmetic for IPAM (IPv4 and IPv6 as bigints), on node:net's parser.
import { isIPv4, isIPv6 } from 'node:net';

export interface Addr { family: 4 | 6; value: bigint }

export function parseAddr(s: string): Addr | undefined {
  if (isIPv4(s)) {
    const p = s.split('.').map(Number);
    return { family: 4, value: BigInt(((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) };
  }
  if (isIPv6(s)) {
    let text = s;
    const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
    if (v4) {
      const n = parseAddr(v4[1]!)!.value;
      text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    let value = 0n;
    for (const g of groups) value = (value << 16n) + BigInt(parseInt(g || '0', 16));
    return { family: 6, value };
  }
  return undefined;
}

export function formatAddr(a: Addr): string {
  if (a.family === 4) {
    const n = Number(a.value);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((a.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== '0') { i++; continue; }
    let j = i; while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

export const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

export interface Prefix { family: 4 | 6; base: bigint; mask: number }

export function prefixOf(addr: Addr, mask: number): Prefix {
  const width = BigInt(bits(addr.family));
  const hostBits = width - BigInt(mask);
  return { family: addr.family, base: (addr.value >> hostBits) << hostBits, mask };
}

export function inPrefix(a: Addr, p: Prefix): boolean {
  return a.family === p.family && prefixOf(a, p.mask).base === p.base;
}

/** First and last host addresses (for IPv4 /31 and /32 every address counts). */
export function hostRange(p: Prefix): [bigint, bigint] {
  const size = 1n << BigInt(bits(p.family) - p.mask);
  if (p.family === 4 && p.mask < 31) return [p.base + 1n, p.base + size - 2n];
  return [p.base, p.base + size - 1n];
}

export function parseCidr(cidr: string): Prefix | undefined {
  const [ip, m] = cidr.split('/');
  const a = parseAddr(ip ?? '');
  const mask = Number(m);
  if (!a || m === undefined || !Number.isInteger(mask) || mask < 0 || mask > bits(a.family)) return undefined;
  return prefixOf(a, mask);
}
