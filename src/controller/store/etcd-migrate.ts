// `portico store migrate`: copies a SQLite store (DIR/portico.db) into etcd in the layout of
// the etcd store. The source is read in one read transaction of its own (WAL: a running
// controller keeps serving meanwhile; writes it takes after that moment are not copied). The
// target must be empty unless `replace` is set. Objects go in batches (etcd caps the operations
// of one Txn); the revision key is written last, so replicas started on a half-copied target
// would find no revision: rerun with `replace` after a failure.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { DEFAULT_PREFIX, type EtcdRecord } from './etcd.js';

const BATCH = 100;

export interface MigrateResult { objects: number; refs: number; claims: number; revision: number }

interface Row { uuid: string; type: string; tenant: string; cloud: string; name: string; body: string }

/** Reads every object of a SQLite store with its refs and claims. */
export function readSqliteStore(dataDir: string): { records: EtcdRecord[]; revision: number } {
  const file = join(dataDir, 'portico.db');
  if (!existsSync(file)) throw new Error(`--from: no SQLite store at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.transaction(() => {
      const refs = new Map<string, string[]>();
      for (const r of db.prepare('SELECT src, dst FROM refs ORDER BY src, dst').all() as Array<{ src: string; dst: string }>) {
        (refs.get(r.src) ?? refs.set(r.src, []).get(r.src)!).push(r.dst);
      }
      const claims = new Map<string, string[]>();
      for (const c of db.prepare('SELECT key, owner FROM claims ORDER BY owner, key').all() as Array<{ key: string; owner: string }>) {
        (claims.get(c.owner) ?? claims.set(c.owner, []).get(c.owner)!).push(c.key);
      }
      const rows = db.prepare('SELECT uuid, type, tenant, cloud, name, body FROM objects ORDER BY seq').all() as Row[];
      const records = rows.map((r): EtcdRecord => ({
        uuid: r.uuid, type: r.type, tenant: r.tenant, cloud: r.cloud, name: r.name, body: JSON.parse(r.body),
        refs: refs.get(r.uuid) ?? [], claims: claims.get(r.uuid) ?? [],
      }));
      const rev = db.prepare("SELECT value FROM meta WHERE key = 'revision'").get() as { value: number } | undefined;
      return { records, revision: rev?.value ?? records.length };
    })();
  } finally {
    db.close();
  }
}

/** Writes the records into etcd under `prefix`. Throws when the target holds a store and `replace` is not set. */
export async function migrateToEtcd(client: Etcd3, src: { records: EtcdRecord[]; revision: number }, o: { replace?: boolean; prefix?: string } = {}): Promise<MigrateResult> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const existing = await client.getAll().prefix(prefix).count();
  if (existing > 0) {
    if (!o.replace) throw new Error(`--to: etcd already holds a Portico store (${existing} keys under ${prefix}); pass --replace to overwrite it`);
    await client.delete().prefix(prefix);
  }
  for (let i = 0; i < src.records.length; i += BATCH) {
    const batch = src.records.slice(i, i + BATCH);
    await client.if(`${prefix}rev`, 'Create', '==', 0)
      .then(...batch.map((r) => client.put(`${prefix}o/${r.uuid}`).value(JSON.stringify(r))))
      .commit();
  }
  await client.put(`${prefix}rev`).value(String(Math.max(1, src.revision)));
  return {
    objects: src.records.length,
    refs: src.records.reduce((n, r) => n + r.refs.length, 0),
    claims: src.records.reduce((n, r) => n + r.claims.length, 0),
    revision: Math.max(1, src.revision),
  };
}
