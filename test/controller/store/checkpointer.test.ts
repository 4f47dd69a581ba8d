// WAL checkpoints run on the store's worker thread (src/controller/store/checkpointer.ts): after
// a burst of commits far below the writer's own autocheckpoint (10k pages), the database file
// itself grows (the pages were copied from the WAL), and a reopened store has every write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../src/controller/store/sqlite.js';

const pad = 'x'.repeat(3000);
const rec = (i: number) => ({ type: 'pool', uuid: `pool-${i}`, tenant: 'admin', cloud: '', name: `p${i}`, body: { uuid: `pool-${i}`, name: `p${i}`, description: pad } });

test('checkpoints happen off the writer, without its autocheckpoint; nothing is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-ckpt-'));
  const file = join(dir, 'portico.db');
  let store: SqliteStore | undefined = SqliteStore.open(dir);
  try {
    const before = statSync(file).size;
    // ~400 pages of bodies: well under the 10k pages at which the writer would checkpoint itself.
    for (let b = 0; b < 10; b++) await Promise.all(Array.from({ length: 40 }, (_, k) => store!.transact((tx) => tx.put(rec(b * 40 + k)))));
    const deadline = Date.now() + 20_000;
    while (statSync(file).size <= before + 400 * 3000 && Date.now() < deadline) {
      await store.transact(async () => undefined); // a commit asks for the next checkpoint
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(statSync(file).size > before + 400 * 3000, `database file ${statSync(file).size} bytes: the WAL was not checkpointed`);
    await store.close();
    store = SqliteStore.open(dir);
    assert.equal(await store.count('pool'), 400);
    assert.equal((await store.get('pool-399'))?.body.description, pad);
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
