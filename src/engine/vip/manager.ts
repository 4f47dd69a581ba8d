// VIP ownership. Loopback mode binds VIPs directly (any 127/8 address binds on Linux). L2 mode
// adds the address to an interface, announces it with gratuitous ARP (arping -U, from
// iputils-arping) and removes it when the last virtual service using it leaves. With a record
// (DATA/vips.json) it also removes, at start, the addresses a killed previous run left behind.
// L2 addresses carry a kernel lifetime this engine keeps renewing (lease.ts), so those of an
// engine killed with kill -9 vanish by themselves within the lease.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { VipRecord, type VipEntry } from './record.js';
import { DEFAULT_VIP_LEASE_S, ipBatch, lifetimeArgs, renewIntervalMs, type VipLease } from './lease.js';

const run = promisify(execFile);
const ALREADY_PRESENT = /File exists|already assigned/;
const ALREADY_GONE = /Address not found|Cannot assign requested address|Cannot find device/;
// Interface names never hold whitespace or '/'; checked because they go into `ip -batch` lines.
const IFACE_NAME = /^[^\s/]{1,15}$/;
const prefixOf = (addr: string) => (net.isIPv6(addr) ? 128 : 32);

export type VipMode = 'loopback' | 'l2';
export interface VipLog { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }

export class VipManager {
  private readonly users = new Map<string, number>();
  /** L2 addresses this run put (or is putting) on the interface. */
  private readonly added = new Set<string>();
  /** Entries of the previous run not yet cleaned up (kept in the record until they are). */
  private previous: VipEntry[] = [];
  private readonly record: VipRecord | undefined;
  /** L2 addresses on the interface whose lease this run renews. */
  private readonly leased = new Set<string>();
  /** Every `ip` call goes through this chain, so a delete is never overtaken by an add or renewal. */
  private ipChain: Promise<unknown> = Promise.resolve();
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private renewedAt = 0;

  /**
   * `recordPath`: where the L2 addresses added are kept across runs (DATA/vips.json).
   * `lease`: seconds an L2 address outlives this engine's last renewal, or 'forever'.
   */
  constructor(readonly mode: VipMode, readonly iface: string | undefined, private readonly log: VipLog, recordPath?: string, readonly lease: VipLease = DEFAULT_VIP_LEASE_S) {
    if (mode === 'l2' && !iface) throw new Error('--interface is required with --vip-mode l2');
    if (mode === 'l2' && !IFACE_NAME.test(iface!)) throw new Error(`--interface: not an interface name: "${iface}"`);
    this.record = recordPath ? new VipRecord(recordPath) : undefined;
  }

  /** Reads what the previous run recorded; call before the first acquire. */
  async loadPrevious(): Promise<void> {
    if (this.record) this.previous = await this.record.read();
  }

  /**
   * Removes the previous run's addresses that this run does not hold (call once the snapshot
   * served at start is applied): a run ended by kill -9 never removed them, and the kernel
   * would keep answering ARP for a VIP another SE now owns.
   */
  async removeLeftovers(): Promise<string[]> {
    if (this.previous.length === 0) return [];
    const removed: string[] = [];
    const deleted: VipEntry[] = [];
    const kept: VipEntry[] = [];
    for (const e of this.previous) {
      if (e.interface === this.iface && this.added.has(e.address)) continue;
      const done = await this.deleteAddress(e.address, e.interface);
      if (done) removed.push(e.address);
      else kept.push(e); // tried again at the next start
      if (done === 'deleted') deleted.push(e);
    }
    this.previous = kept;
    await this.persist();
    // Said once the record no longer lists them (whoever reads the log may read the record next).
    for (const e of deleted) this.log.info({ vip: e.address, interface: e.interface }, 'VIP left by a previous run removed');
    return removed;
  }

  /** Takes one more reference on a VIP; the first one makes the address present. */
  async acquire(addr: string): Promise<void> {
    const n = this.users.get(addr) ?? 0;
    this.users.set(addr, n + 1);
    if (n > 0 || this.mode !== 'l2') return;
    if (!net.isIP(addr)) {
      this.users.delete(addr);
      throw new Error(`VIP "${addr}" is not an IP address`);
    }
    // Recorded before it is added: a kill between the two leaves a record, never an unknown address.
    this.added.add(addr);
    await this.persist();
    try {
      await this.addAddress(addr);
    } catch (err) {
      this.users.set(addr, (this.users.get(addr) ?? 1) - 1);
      this.added.delete(addr);
      await this.persist();
      throw err;
    }
  }

  /** Drops a reference; the last one removes the address (L2 mode). */
  async release(addr: string): Promise<void> {
    const n = (this.users.get(addr) ?? 0) - 1;
    if (n > 0) return void this.users.set(addr, n);
    this.users.delete(addr);
    if (this.mode !== 'l2') return;
    // No longer renewed even if the delete fails: the kernel then removes it when its lease ends.
    this.unlease(addr);
    const done = await this.deleteAddress(addr, this.iface!);
    if (done === 'deleted') this.log.info({ vip: addr, interface: this.iface }, 'VIP removed');
    if (done) {
      this.added.delete(addr);
      await this.persist();
    }
  }

  /** `ip addr del`: 'deleted', 'gone' (already, counts as removed) or false (failed, logged). */
  private async deleteAddress(addr: string, iface: string): Promise<'deleted' | 'gone' | false> {
    try {
      await this.serial(() => run('ip', ['addr', 'del', `${addr}/${prefixOf(addr)}`, 'dev', iface]));
      return 'deleted';
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '');
      if (ALREADY_GONE.test(stderr)) return 'gone';
      this.log.warn({ vip: addr, interface: iface, err: stderr.trim() || (err as Error).message }, 'could not remove VIP');
      return false;
    }
  }

  private async persist(): Promise<void> {
    if (!this.record) return;
    const iface = this.iface ?? '';
    // A previous run's address this run holds again is listed once.
    const entries = [...this.previous.filter((e) => e.interface !== iface || !this.added.has(e.address)), ...[...this.added].map((address) => ({ address, interface: iface }))];
    await this.record.save(entries).catch((err: Error) => this.log.warn({ file: this.record!.path, err: err.message }, 'could not record the VIPs added'));
  }

  held(): string[] {
    return [...this.users.keys()];
  }

  private async addAddress(addr: string): Promise<void> {
    // With a lease, `replace` also gives an address left by a previous run (within its lease, or
    // added forever) the lease; without, `add` as always.
    const verb = this.lease === 'forever' ? 'add' : 'replace';
    try {
      await this.serial(() => run('ip', ['addr', verb, `${addr}/${prefixOf(addr)}`, 'dev', this.iface!, ...lifetimeArgs(this.lease)]));
    } catch (err) {
      // Already present (e.g. after a restart) is fine; older iproute2 says "File exists".
      if (!ALREADY_PRESENT.test(String((err as { stderr?: string }).stderr ?? ''))) throw new Error(`ip addr ${verb} ${addr}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
    this.log.info({ vip: addr, interface: this.iface, lease_s: this.lease }, 'VIP added');
    if (this.lease !== 'forever' && this.users.has(addr)) this.enlease(addr);
    this.announce(addr);
  }

  /** Gratuitous ARP so neighbours move the address to this host now, not at cache expiry. */
  private announce(addr: string): void {
    if (!net.isIPv4(addr)) return;
    run('arping', ['-U', '-c', '3', '-I', this.iface!, addr]).catch((err: Error) => this.log.warn({ vip: addr, err: err.message }, 'gratuitous ARP failed (is iputils-arping installed?)'));
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const done = this.ipChain.then(op);
    this.ipChain = done.catch(() => {});
    return done;
  }

  private enlease(addr: string): void {
    if (this.leased.size === 0) this.renewedAt = Date.now();
    this.leased.add(addr);
    this.renewTimer ??= setInterval(() => void this.renew(), renewIntervalMs(this.lease as number)).unref();
  }

  private unlease(addr: string): void {
    this.leased.delete(addr);
    if (this.leased.size > 0 || !this.renewTimer) return;
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** Renews every leased address in one `ip -batch`; one that may have lapsed is announced again. */
  private async renew(): Promise<void> {
    if (this.renewing) return; // a slow renewal is not queued twice
    this.renewing = true;
    try {
      await this.serial(async () => {
        if (this.leased.size === 0) return;
        const startedAt = Date.now();
        const sinceMs = startedAt - this.renewedAt;
        const lapsed = sinceMs >= (this.lease as number) * 1000;
        const addrs = [...this.leased];
        const lifetime = lifetimeArgs(this.lease).join(' ');
        await ipBatch(addrs.map((a) => `address replace ${a}/${prefixOf(a)} dev ${this.iface} ${lifetime}`));
        this.renewedAt = startedAt;
        if (!lapsed) return;
        // The renewals were held up longer than the lease (a stalled process): the kernel may have
        // dropped the addresses and neighbours their ARP entries; `replace` added them back.
        this.log.warn({ vips: addrs, interface: this.iface, since_last_renewal_ms: sinceMs }, 'VIP lease renewed late; addresses announced again');
        for (const a of addrs) this.announce(a);
      });
    } catch (err) {
      this.log.warn({ interface: this.iface, err: (err as Error).message }, 'could not renew the VIP lease');
    } finally {
      this.renewing = false;
    }
  }

  async releaseAll(): Promise<void> {
    for (const addr of [...this.users.keys()]) {
      this.users.set(addr, 1);
      await this.release(addr);
    }
  }
}
