// DATA/vips.json: the L2 addresses this engine put on an interface. Written before `ip addr add`
// and after `ip addr del`, so an engine killed with kill -9 leaves a record of every address it
// may have left behind; the next start removes those its snapshot does not hold.
import { promises as fs } from 'node:fs';
import { writeAtomic } from '../agent/files.js';

export interface VipEntry { address: string; interface: string }

export class VipRecord {
  private writing: Promise<void> = Promise.resolve();
  private pending: VipEntry[] | undefined;

  constructor(readonly path: string) {}

  /** The entries of the previous run; a missing or unreadable file is an empty record. */
  async read(): Promise<VipEntry[]> {
    let v: unknown;
    try {
      v = JSON.parse(await fs.readFile(this.path, 'utf8'));
    } catch {
      return [];
    }
    const list = (v as { vips?: unknown })?.vips;
    if (!Array.isArray(list)) return [];
    return list.filter((e): e is VipEntry => typeof e?.address === 'string' && typeof e?.interface === 'string');
  }

  /** Writes `entries` (serialized; back-to-back saves coalesce into the latest). */
  save(entries: VipEntry[]): Promise<void> {
    const idle = this.pending === undefined;
    this.pending = entries;
    if (idle) {
      this.writing = this.writing.catch(() => {}).then(async () => {
        const now = this.pending!;
        this.pending = undefined;
        await writeAtomic(this.path, JSON.stringify({ vips: now }, null, 2) + '\n', 0o600);
      });
    }
    return this.writing;
  }
}
