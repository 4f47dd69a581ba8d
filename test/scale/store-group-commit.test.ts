// The SQLite store's group commit (src/controller/store/sqlite.ts): a burst of concurrent
// transactions shares COMMITs, yet each one stands alone: a failing one rolls back only itself,
// listeners hear each committed change once and only when the reader connection already sees
// it, every caller's promise resolves only after its COMMIT, and it all survives a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/controller/store/sqlite.js';

const rec = (i: number) => ({ type: 'pool', uuid: `pool-${i}`, tenant: 'admin', cloud: '', name: `p${i}`, body: { uuid: `pool-${i}`, name: `p${i}` } });

test('a burst of 300 writes: shared COMMITs, failures alone, listeners after COMMIT, durable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-store-'));
  let store: SqliteStore | undefined = SqliteStore.open(dir);
  try {
    const heard: string[] = [];
    const unseen: string[] = [];
    const s = store;
    s.onChange((_type, uuid) => {
      heard.push(uuid);
      void s.get(uuid).then((r) => { if (!r) unseen.push(uuid); });
    });
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => s.transact(async (tx) => {
      // Every 7th reuses the name of the one before it: the unique index refuses it.
      const r = rec(i);
      if (i % 7 === 6) r.name = `p${i - 1}`;
      await tx.put({ ...r, claims: [`k/${i}`] });
      return i;
    })));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    assert.deepEqual(failed, Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 7 === 6));
    for (const [i, r] of results.entries()) if (r.status === 'fulfilled') assert.equal(r.value, i);
    const ok = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 7 !== 6).map((i) => `pool-${i}`);
    assert.deepEqual(heard, ok, 'each committed write heard once, in order; no refused write heard');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unseen, [], 'a listener hears of a write only once the reader sees it');
    assert.equal(await s.count('pool'), ok.length);
    // A refused write kept none of its effects (its claim is free), its neighbours kept theirs.
    assert.equal(await s.claimOwner('k/6'), undefined);
    assert.equal(await s.claimOwner('k/5'), 'pool-5');
    const rev = await s.revision();
    await s.close();
    store = SqliteStore.open(dir);
    assert.equal(await store.count('pool'), ok.length, 'every acknowledged write survives a reopen');
    assert.equal(await store.revision(), rev);
    // Writing goes on normally after a reopen.
    await store.transact((tx) => tx.put(rec(1000)));
    assert.ok(await store.get('pool-1000'));
  } finally {
    await store?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a transaction that awaits real I/O across turns is never committed half-done', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scale-store-'));
  const store = SqliteStore.open(dir);
  try {
    // Quick ones queue up a COMMIT for the end of the turn; the slow one is running then.
    const writes = Array.from({ length: 20 }, (_, i) => store.transact(async (tx) => {
      await tx.put(rec(i));
      if (i % 5 === 0) {
        await new Promise((r) => setTimeout(r, 5));
        await tx.put(rec(100 + i));
      }
    }));
    await Promise.all(writes);
    assert.equal(await store.count('pool'), 24);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
