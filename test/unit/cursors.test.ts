import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  decodeCursor,
  encodeCursor,
  isClusterCursor,
  isOperationCursor,
  isStorableTimestamp,
  isTimeCursor,
} from '../../src/store/sql-helpers.js';

const ID = '0f8b1c52-7d3e-4a8e-9b51-2f6c9d0e4a11';

describe('isStorableTimestamp', () => {
  it('accepts the forms the store prints', () => {
    for (const t of [
      '2024-05-01T10:20:30.123Z',
      '2024-05-01T10:20:30Z',
      '2024-05-01T10:20:30.123456Z',
      '1970-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '2024-02-29T00:00:00.000Z',
    ]) {
      assert.equal(isStorableTimestamp(t), true, t);
    }
  });

  it('refuses what Date.parse takes but a timestamptz column does not, or reads differently', () => {
    for (const t of [
      '1',
      '2024',
      'Tue Mar 01 2022',
      '-000001-01-01T00:00:00Z',
      '+275760-09-13T00:00:00.000Z',
      '2021-02-30T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T10:60:00Z',
      '2024-05-01T10:20:60Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-05-01 10:20:30Z',
      '2024-05-01T10:20:30+02:00',
      '2024-05-01T10:20:30.1234567Z',
      '1969-12-31T23:59:59Z',
      '2024-05-01T10:20:30.123Z\u0000',
      '',
    ]) {
      assert.equal(isStorableTimestamp(t), false, JSON.stringify(t));
    }
  });
});

describe('cursor shapes', () => {
  it('cluster cursors need a valid cluster name, a uuid and nothing else', () => {
    assert.equal(isClusterCursor({ name: 'alpha-one', id: ID }), true);
    assert.equal(isClusterCursor({ name: 'alpha\u0000', id: ID }), false);
    assert.equal(isClusterCursor({ name: 'x'.repeat(3000), id: ID }), false);
    assert.equal(isClusterCursor({ name: 'alpha-one', id: 'not-a-uuid' }), false);
    assert.equal(isClusterCursor({ name: 'alpha-one', id: ID, extra: 1 }), false);
    assert.equal(isClusterCursor(['alpha-one', ID]), false);
  });

  it('operation and delivery cursors need a positive safe integer', () => {
    assert.equal(isOperationCursor({ seq: 1 }), true);
    assert.equal(isOperationCursor({ seq: Number.MAX_SAFE_INTEGER }), true);
    for (const seq of [0, -1, 1.5, 2 ** 53, '5', null, Infinity]) assert.equal(isOperationCursor({ seq }), false, String(seq));
  });

  it('time cursors need a storable timestamp and a uuid', () => {
    assert.equal(isTimeCursor({ at: '2024-05-01T10:20:30.123Z', id: ID }), true);
    assert.equal(isTimeCursor({ at: '1', id: ID }), false);
    assert.equal(isTimeCursor({ at: '2024-05-01T10:20:30.123Z', id: `${ID.slice(0, -1)}g` }), false);
  });
});

describe('decodeCursor', () => {
  it('round-trips what encodeCursor made', () => {
    assert.deepEqual(decodeCursor(encodeCursor({ seq: 42 }), isOperationCursor), { seq: 42 });
  });

  it('answers InputError naming query.cursor and the rule for anything else', () => {
    for (const cursor of [
      '!!!',
      'bm90LWEtY3Vyc29y',
      encodeCursor({ seq: -5 }),
      encodeCursor({ at: '1', id: ID }),
      encodeCursor('{"seq":1}'),
    ]) {
      assert.throws(
        () => decodeCursor(cursor, isOperationCursor),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.deepEqual(
            err.issues.map((i) => `${i.field}|${i.rule}`),
            ['query.cursor|cursor'],
          );
          return true;
        },
      );
    }
  });
});
