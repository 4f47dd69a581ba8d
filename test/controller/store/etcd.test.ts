// The etcd store on a real three-member etcd cluster: two stores (two replicas' worth) over
// one cluster see each other's writes, never hand out one claim twice, load refs and claims
// on start, and leave etcd untouched by a transaction that throws.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { EtcdStore } from '../../../src/controller/store/etcd.js';
import { connectEtcd } from '../../../src/controller/store/etcd-client.js';
import type { StoreTx } from '../../../src/controller/store/types.js';
import { startEtcdCluster, etcdMissing, until, type EtcdCluster } from '../../support/etcd.js';

let etcd: EtcdCluster;
let root: string;
const clients: Etcd3[] = [];
const stores: EtcdStore[] = [];

async function open(name: string): Promise<EtcdStore> {
  const client = connectEtcd({ endpoints: etcd.endpoints });
  clients.push(client);
  const s = await EtcdStore.open({ client, cacheDir: join(root, name) });
  stores.push(s);
  return s;
}

const rec = (uuid: string, name: string, extra: { refs?: string[]; claims?: string[] } = {}) => ({
  type: 'pool', uuid, tenant: 'admin', name, cloud: '', body: { uuid, name }, ...extra,
});

before(async () => {
  if (etcdMissing) return;
  etcd = await startEtcdCluster();
  root = mkdtempSync(join(tmpdir(), 'portico-etcd-store-'));
});
after(async () => {
  for (const s of stores) await s.close();
  for (const c of clients) c.close();
  await etcd?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('a write on one store reaches the other, with its change event and revision', { skip: etcdMissing }, async () => {
  const a = await open('a1');
  const b = await open('b1');
  const seen: string[] = [];
  const off = b.onChange((type, uuid) => seen.push(`${type}/${uuid}`));
  await a.transact(async (tx) => { await tx.put(rec('pool-1', 'one', { refs: ['admin'], claims: ['c:1'] })); });
  await until('b sees pool-1', async () => (await b.get('pool-1')) ?? undefined);
  assert.deepEqual(seen, ['pool/pool-1']);
  assert.equal(await b.revision(), await a.revision());
  assert.equal(await b.claimOwner('c:1'), 'pool-1');
  await b.transact(async (tx) => { await tx.delete('pool-1'); });
  await until('a sees the delete', async () => ((await a.get('pool-1')) ? undefined : true));
  assert.equal(await a.claimOwner('c:1'), undefined);
  off();
});

test('concurrent allocations on two stores never hand out one claim twice', { skip: etcdMissing }, async () => {
  const a = await open('a2');
  const b = await open('b2');
  /** The VIP allocator's pattern: read the claims, take the lowest free one, claim it. */
  const allocate = (s: EtcdStore, i: number) => s.transact(async (tx: StoreTx) => {
    const taken = await tx.claimsWithPrefix('ip:');
    let n = 0;
    while (taken.has(`ip:${n}`)) n++;
    await tx.put(rec(`alloc-${i}`, `alloc-${i}`, { claims: [`ip:${n}`] }));
    return n;
  });
  const got = await Promise.all(Array.from({ length: 24 }, (_, i) => allocate(i % 2 ? a : b, i)));
  assert.equal(new Set(got).size, got.length, `distinct: ${got.join(',')}`);
  assert.deepEqual([...got].sort((x, y) => x - y), Array.from({ length: 24 }, (_, i) => i));
  await until('both copies agree', async () => ((await a.claimsWithPrefix('ip:')).size === 24 && (await b.claimsWithPrefix('ip:')).size === 24 ? true : undefined));
  for (let i = 0; i < 24; i++) assert.equal(await a.claimOwner(`ip:${got[i]}`), `alloc-${i}`);
});

test('a transaction that throws writes nothing; a new store loads objects, refs and claims', { skip: etcdMissing }, async () => {
  const a = await open('a3');
  const before = await a.revision();
  await assert.rejects(a.transact(async (tx) => { await tx.put(rec('pool-x', 'x')); throw new Error('changed my mind'); }), /changed my mind/);
  assert.equal(await a.get('pool-x'), undefined);
  assert.equal(await a.revision(), before);
  await a.transact(async (tx) => {
    await tx.put(rec('pool-p', 'parent', { refs: ['admin'], claims: ['fqdn:p.example'] }));
    await tx.put(rec('pool-c', 'child', { refs: ['pool-p'], claims: [] }));
    // A put that keeps the stored refs and claims (undefined) must keep them in etcd too.
    await tx.put({ ...rec('pool-p', 'parent'), body: { uuid: 'pool-p', name: 'parent', description: 'again' } });
  });
  const fresh = await open('fresh3');
  assert.equal((await fresh.get('pool-p'))?.body.description, 'again');
  assert.deepEqual((await fresh.referrers('pool-p')).map((r) => r.uuid), ['pool-c']);
  assert.equal(await fresh.claimOwner('fqdn:p.example'), 'pool-p');
  assert.equal(await fresh.revision(), await a.revision());
  assert.equal(await fresh.get('pool-x'), undefined);
});
