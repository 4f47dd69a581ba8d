import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refUuid, uuidType } from '../../src/model/refs.js';

test('refUuid takes the UUID out of every ref form', () => {
  const cases: Array<[string, string]> = [
    ['https://h/api/pool/pool-1234#p1', 'pool-1234'],
    ['/api/pool/pool-1234/', 'pool-1234'],
    ['/api/pool/pool-1234?include_name', 'pool-1234'],
    ['pool-1234', 'pool-1234'],
    ['https://h/api/tenant/admin#admin', 'admin'],
  ];
  for (const [ref, want] of cases) assert.equal(refUuid(ref), want, ref);
});

test('uuidType reads the type prefix', () => {
  assert.equal(uuidType('virtualservice-abc-def'), 'virtualservice');
  assert.equal(uuidType('admin'), 'tenant');
});
