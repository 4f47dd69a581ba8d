// L2 VIP leases: an address is added with a kernel lifetime (valid_lft/preferred_lft) that the
// running engine renews well before it ends. An engine killed with kill -9 renews nothing, so the
// kernel removes its VIP by itself within the lease and its host stops answering ARP for it.
import { execFile } from 'node:child_process';

/** Seconds an L2 VIP outlives its last renewal; 'forever' adds it without a lifetime. */
export type VipLease = number | 'forever';

/** Five heartbeats (1 s each): a dead engine's VIP is gone before the controller's SE down timeout (10 s). */
export const DEFAULT_VIP_LEASE_S = 5;
const MIN_LEASE_S = 2;
const MAX_LEASE_S = 86_400;

/** `--vip-lease` text → lease; throws a message naming the accepted values. */
export function parseVipLease(text: string): VipLease {
  if (text === 'forever') return 'forever';
  const n = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  if (!(n >= MIN_LEASE_S && n <= MAX_LEASE_S)) throw new Error(`expected whole seconds from ${MIN_LEASE_S} to ${MAX_LEASE_S} or "forever", got "${text}"`);
  return n;
}

/** Renewals at least three per lease and at least every second: two may be missed without a lapse. */
export function renewIntervalMs(leaseS: number): number {
  return Math.min(1000, Math.floor((leaseS * 1000) / 3));
}

/** The `ip addr` arguments that give an address the lease. */
export function lifetimeArgs(lease: VipLease): string[] {
  return lease === 'forever' ? [] : ['valid_lft', String(lease), 'preferred_lft', String(lease)];
}

/** Runs `ip -force -batch -` over `lines` (one process for every address); rejects with ip's stderr. */
export function ipBatch(lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['-force', '-batch', '-'], (err, _out, stderr) => (err ? reject(new Error(String(stderr).trim() || err.message)) : resolve()));
    child.stdin!.on('error', () => {}); // ip missing or exited early: reported through the callback
    child.stdin!.end(lines.join('\n') + '\n');
  });
}
