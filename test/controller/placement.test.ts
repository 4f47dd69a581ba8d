// Placement rules (pure): spread within max_vs_per_se, stability, units kept together, reasons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { place, sesNeeded, unitsOf, wantedScaleout, type PlacementGroup } from '../../src/controller/placement/place.js';
import { validateSeGroup } from '../../src/controller/placement/validate.js';

const group = (o: Partial<PlacementGroup> = {}): PlacementGroup => ({ uuid: 'g', name: 'G', maxVsPerSe: 25, minScaleout: 1, maxScaleout: 4, haMode: 'HA_MODE_SHARED', ...o });
const vs = (i: number) => `virtualservice-${String(i).padStart(4, '0')}`;
const ses = ['se-a', 'se-b', 'se-c', 'se-d'];

test('100 VSes spread over 4 SEs within max_vs_per_se; adding one moves nobody', () => {
  const units = unitsOf(Array.from({ length: 100 }, (_, i) => ({ uuid: vs(i), want: 1 })));
  const r = place(group(), ses, units, new Map());
  assert.deepEqual([...r.bySe.values()].map((l) => l.length), [25, 25, 25, 25]);
  assert.equal(r.unplaced.size, 0);
  // Full: the 101st has nowhere to go, with the reason.
  const more = unitsOf(Array.from({ length: 101 }, (_, i) => ({ uuid: vs(i), want: 1 })));
  const prev = new Map([...r.bySe].map(([k, v]) => [k, new Set(v)]));
  const r2 = place(group(), ses, more, prev);
  for (const [se, list] of r.bySe) assert.deepEqual(r2.bySe.get(se), list, `${se} kept its VSes`);
  assert.match(r2.unplaced.get(vs(100))!, /SE group G is full: 4 service engine\(s\) up, max_vs_per_se 25/);
  // Room again (a fifth SE): placed there, nothing else moves.
  const r3 = place(group(), [...ses, 'se-e'], more, prev);
  assert.deepEqual(r3.bySe.get('se-e'), [vs(100)]);
  for (const [se, list] of r.bySe) assert.deepEqual(r3.bySe.get(se), list);
});

test('an SE lost: only its VSes move, to the least loaded SEs', () => {
  const units = unitsOf(Array.from({ length: 8 }, (_, i) => ({ uuid: vs(i), want: 1 })));
  const r = place(group({ maxVsPerSe: 10 }), ses, units, new Map());
  const prev = new Map([...r.bySe].map(([k, v]) => [k, new Set(v)]));
  const lost = r.bySe.get('se-a')!;
  const r2 = place(group({ maxVsPerSe: 10 }), ['se-b', 'se-c', 'se-d'], units, prev);
  for (const se of ['se-b', 'se-c', 'se-d']) for (const v of r.bySe.get(se)!) assert.ok(r2.bySe.get(se)!.includes(v));
  const moved = lost.map((v) => [...r2.bySe].find(([, l]) => l.includes(v))![0]);
  assert.equal(new Set(moved).size, lost.length, 'spread over different SEs');
});

test('SNI children ride with their parent; VSes sharing a VIP stay together; scale-out wants several SEs', () => {
  const units = unitsOf([
    { uuid: 'virtualservice-p', vsvip: 'vsvip-1', want: 1 },
    { uuid: 'virtualservice-c1', parent: 'virtualservice-p', want: 1 },
    { uuid: 'virtualservice-c2', parent: 'virtualservice-p', want: 1 },
    { uuid: 'virtualservice-x', vsvip: 'vsvip-2', want: 2 },
    { uuid: 'virtualservice-y', vsvip: 'vsvip-2', want: 1 },
  ]);
  assert.equal(units.length, 2);
  const parent = units.find((u) => u.vsUuids.includes('virtualservice-p'))!;
  assert.equal(parent.weight, 1, 'children do not count against max_vs_per_se');
  const r = place(group({ maxVsPerSe: 2 }), ses, units, new Map());
  const holders = (v: string) => [...r.bySe].filter(([, l]) => l.includes(v)).map(([s]) => s);
  assert.deepEqual(holders('virtualservice-c1'), holders('virtualservice-p'));
  assert.deepEqual(holders('virtualservice-x'), holders('virtualservice-y'));
  assert.equal(holders('virtualservice-x').length, 2);
  assert.equal(sesNeeded(group({ maxVsPerSe: 2 }), units), 3);
});

test('no SE: the reason says so; HA pair wants two SEs', () => {
  const r = place(group(), [], unitsOf([{ uuid: vs(1), want: 1 }]), new Map());
  assert.match(r.unplaced.get(vs(1))!, /no service engine is up in SE group G/);
  assert.equal(wantedScaleout(group({ haMode: 'HA_MODE_SHARED_PAIR' })), 2);
  assert.equal(wantedScaleout(group(), 9), 4, 'capped at max_scaleout_per_vs');
});

test('SE group validation names the field', () => {
  assert.throws(() => validateSeGroup({ min_scaleout_per_vs: 3, max_scaleout_per_vs: 2 }), /min_scaleout_per_vs: 3 is above max_scaleout_per_vs 2/);
  assert.throws(() => validateSeGroup({ max_se: 2, max_scaleout_per_vs: 4 }), /max_scaleout_per_vs: 4 is above max_se 2/);
  assert.throws(() => validateSeGroup({ max_se: 2, buffer_se: 3, max_scaleout_per_vs: 1 }), /buffer_se: 3/);
  assert.throws(() => validateSeGroup({ se_name_prefix: 'bad name' }), /se_name_prefix/);
  assert.throws(() => validateSeGroup({ ha_mode: 'HA_MODE_SHARED_PAIR', max_se: 1, max_scaleout_per_vs: 1, min_se: 1, buffer_se: 1 }), /max_se: HA_MODE_SHARED_PAIR needs at least 2/);
  validateSeGroup({ max_se: 4, min_se: 0, buffer_se: 1, min_scaleout_per_vs: 1, max_scaleout_per_vs: 2, se_name_prefix: 'edge' });
});

test('legacy active/standby: first SE active, others standby; the standby takes over when the active is gone; a returning SE is standby', () => {
  const g = group({ haMode: 'HA_MODE_LEGACY_ACTIVE_STANDBY', maxScaleout: 2 });
  const units = unitsOf([{ uuid: vs(1), want: wantedScaleout(g) }]);
  const r = place(g, ['se-a', 'se-b'], units, new Map());
  assert.deepEqual(r.byUnit.get(vs(1)), ['se-a', 'se-b']);
  assert.deepEqual([...r.standbyBySe], [['se-b', [vs(1)]]]);
  const held = new Map([['se-a', new Set([vs(1)])], ['se-b', new Set([vs(1)])]]);
  // se-a gone: se-b, the standby, is active (alone).
  const r2 = place(g, ['se-b'], units, held, new Map([[vs(1), 'se-a']]));
  assert.deepEqual(r2.byUnit.get(vs(1)), ['se-b']);
  assert.equal(r2.standbyBySe.size, 0);
  // se-a back (holding nothing, as its record says): standby; se-b stays active although se-a sorts first.
  const r3 = place(g, ['se-a', 'se-b'], units, new Map([['se-b', new Set([vs(1)])]]), new Map([[vs(1), 'se-b']]));
  assert.deepEqual(r3.byUnit.get(vs(1)), ['se-b', 'se-a']);
  assert.deepEqual(r3.standbyBySe.get('se-a'), [vs(1)]);
  // Both kept: the previous active stays first, whatever the name order.
  const r4 = place(g, ['se-a', 'se-b'], units, held, new Map([[vs(1), 'se-b']]));
  assert.deepEqual(r4.byUnit.get(vs(1)), ['se-b', 'se-a']);
  // Shared mode has no standbys.
  assert.equal(place(group({ minScaleout: 2 }), ['se-a', 'se-b'], units, new Map()).standbyBySe.size, 0);
});
