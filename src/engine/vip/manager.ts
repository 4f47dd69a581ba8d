// VIP ownership. Loopback mode binds VIPs directly (any 127/8 address binds on Linux). L2 mode
// adds the address to an interface, announces it with gratuitous ARP (arping -U, from
// iputils-arping) and removes it when the last virtual service using it leaves.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type VipMode = 'loopback' | 'l2';
export interface VipLog { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }

export class VipManager {
  private readonly users = new Map<string, number>();

  constructor(readonly mode: VipMode, readonly iface: string | undefined, private readonly log: VipLog) {
    if (mode === 'l2' && !iface) throw new Error('--interface is required with --vip-mode l2');
  }

  /** Takes one more reference on a VIP; the first one makes the address present. */
  async acquire(addr: string): Promise<void> {
    const n = this.users.get(addr) ?? 0;
    this.users.set(addr, n + 1);
    if (n > 0 || this.mode !== 'l2') return;
    try {
      await this.addAddress(addr);
    } catch (err) {
      this.users.set(addr, (this.users.get(addr) ?? 1) - 1);
      throw err;
    }
  }

  /** Drops a reference; the last one removes the address (L2 mode). */
  async release(addr: string): Promise<void> {
    const n = (this.users.get(addr) ?? 0) - 1;
    if (n > 0) return void this.users.set(addr, n);
    this.users.delete(addr);
    if (this.mode !== 'l2') return;
    const prefix = net.isIPv6(addr) ? 128 : 32;
    try {
      await run('ip', ['addr', 'del', `${addr}/${prefix}`, 'dev', this.iface!]);
      this.log.info({ vip: addr, interface: this.iface }, 'VIP removed');
    } catch (err) {
      this.log.warn({ vip: addr, err: (err as Error).message }, 'could not remove VIP');
    }
  }

  held(): string[] {
    return [...this.users.keys()];
  }

  private async addAddress(addr: string): Promise<void> {
    const prefix = net.isIPv6(addr) ? 128 : 32;
    try {
      await run('ip', ['addr', 'add', `${addr}/${prefix}`, 'dev', this.iface!]);
    } catch (err) {
      // Already present (e.g. after a restart) is fine.
      if (!/File exists/.test(String((err as { stderr?: string }).stderr ?? ''))) throw new Error(`ip addr add ${addr}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
    this.log.info({ vip: addr, interface: this.iface }, 'VIP added');
    if (net.isIPv4(addr)) {
      // Gratuitous ARP so neighbours move the address to this host now, not at cache expiry.
      run('arping', ['-U', '-c', '3', '-I', this.iface!, addr]).catch((err: Error) => this.log.warn({ vip: addr, err: err.message }, 'gratuitous ARP failed (is iputils-arping installed?)'));
    }
  }

  async releaseAll(): Promise<void> {
    for (const addr of [...this.users.keys()]) {
      this.users.set(addr, 1);
      await this.release(addr);
    }
  }
}
