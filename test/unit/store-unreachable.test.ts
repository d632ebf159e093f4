import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { isStoreUnreachable } from '../../src/store/sql.js';

describe('isStoreUnreachable', () => {
  it('knows a store that is down, restarting or out of reach', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ])
      assert.equal(isStoreUnreachable(err), true, err.message);
  });

  it('leaves statement errors and everything else alone', () => {
    for (const err of [
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('invalid input syntax'), { code: '22P02' }),
      new Error('something else'),
      'ECONNREFUSED',
      null,
    ])
      assert.equal(isStoreUnreachable(err), false, String(err));
  });
});
