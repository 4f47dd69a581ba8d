// VIP ownership in L2 mode: the address is added to the interface with the first VS and
// removed with the last one. Runs on `lo` with an address of this suite's 127.21/16 range
// (already local, so nothing changes for other traffic); gratuitous ARP on lo only warns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VipManager } from '../../src/engine/vip/manager.js';
import { canAdminLo as canAdmin, onLo as isOnLo } from './support.js';

const ADDR = '127.21.70.1';
const onLo = () => isOnLo(ADDR);

test('l2 mode adds the VIP with its first user and removes it with its last', { skip: !canAdmin && 'needs root and iproute2' }, async () => {
  const warnings: string[] = [];
  const vips = new VipManager('l2', 'lo', { info() {}, warn: (o: object) => warnings.push(JSON.stringify(o)) });
  try {
    await vips.acquire(ADDR);
    await vips.acquire(ADDR);
    assert.equal(onLo(), true);
    await vips.release(ADDR);
    assert.equal(onLo(), true, 'still used by one VS');
    await vips.release(ADDR);
    assert.equal(onLo(), false);
  } finally {
    await vips.releaseAll();
  }
});

test('l2 mode needs an interface; loopback mode touches nothing', async () => {
  assert.throws(() => new VipManager('l2', undefined, { info() {}, warn() {} }), /--interface/);
  const vips = new VipManager('loopback', undefined, { info() {}, warn() {} });
  await vips.acquire('127.21.70.2');
  assert.deepEqual(vips.held(), ['127.21.70.2']);
  await vips.release('127.21.70.2');
  assert.deepEqual(vips.held(), []);
});
