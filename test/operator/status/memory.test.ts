import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStatusSink } from '../../../src/operator/status/memory.js';

describe('memory status sink', () => {
  it('keeps one status per object, sorted, with de-duplicated events that set() replaces', async () => {
    const sink = createMemoryStatusSink();
    const web = { kind: 'Service', namespace: 'default', name: 'web' };
    const shop = { kind: 'Ingress', namespace: 'shop', name: 'shop' };
    const warn = { type: 'Warning' as const, reason: 'IPNotAvailable', message: 'No available free IPs' };
    await sink.event(web, warn);
    await sink.event(web, warn);
    await sink.set({ ref: shop, ingress: [{ ip: '127.77.0.3', hostname: 'shop.example.com' }], virtualServices: ['c--Shared-L7-0'], events: [] });
    assert.deepEqual(sink.list().map((s) => [s.ref.kind, s.ref.name, s.ingress.length, s.events.length]), [['Ingress', 'shop', 1, 0], ['Service', 'web', 0, 1]]);
    await sink.set({ ref: web, ingress: [{ ip: '127.77.0.4' }], virtualServices: ['c--default-web'], events: [{ type: 'Normal', reason: 'Synced', message: 'Added' }] });
    assert.deepEqual(sink.get(web)?.events, [{ type: 'Normal', reason: 'Synced', message: 'Added' }], 'the fixed Warning is gone');
    const listed = sink.list();
    listed[0].ingress.push({ ip: 'tampered' });
    assert.equal(sink.list()[0].ingress.length, 1, 'list hands out copies');
    await sink.clear(shop);
    assert.deepEqual(sink.list().map((s) => s.ref.name), ['web']);
    const hr = { kind: 'HostRule', namespace: 'shop', name: 'hr' };
    await sink.crdStatus(hr, { status: 'Rejected', error: 'no such secret' });
    await sink.crdStatus(hr, { status: 'Accepted' });
    assert.deepEqual(sink.crdStatuses(), [{ ref: hr, status: 'Accepted', error: '' }]);
  });
});
