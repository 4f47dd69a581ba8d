// The SE's data directory: identity.json (mode 0600: it holds the SE secret) and snapshot.json,
// each written atomically (temp file, fsync, rename) so a crash never leaves half a file.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseSnapshot, type Snapshot } from '../snapshot.js';

export interface Identity { controller: string; se_uuid: string; se_secret: string; name: string; se_group_uuid?: string; heartbeat_interval_ms?: number }

export async function writeAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await fs.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
}

export class DataDir {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async readIdentity(): Promise<Identity | undefined> {
    try {
      const v = JSON.parse(await fs.readFile(join(this.dir, 'identity.json'), 'utf8'));
      return typeof v?.se_uuid === 'string' && typeof v?.se_secret === 'string' ? (v as Identity) : undefined;
    } catch {
      return undefined;
    }
  }

  writeIdentity(id: Identity): Promise<void> {
    return writeAtomic(join(this.dir, 'identity.json'), JSON.stringify(id, null, 2), 0o600);
  }

  async removeIdentity(): Promise<void> {
    await fs.rm(join(this.dir, 'identity.json'), { force: true });
  }

  /** The last applied snapshot, or undefined when there is none or it is unreadable. */
  async readSnapshot(): Promise<{ snapshot?: Snapshot; error?: string }> {
    let text: string;
    try {
      text = await fs.readFile(join(this.dir, 'snapshot.json'), 'utf8');
    } catch {
      return {};
    }
    try {
      return { snapshot: parseSnapshot(JSON.parse(text)) };
    } catch (err) {
      return { error: `snapshot.json: ${(err as Error).message}` };
    }
  }

  /** Snapshots hold private keys: owner-only. */
  writeSnapshot(text: string): Promise<void> {
    return writeAtomic(join(this.dir, 'snapshot.json'), text, 0o600);
  }
}
