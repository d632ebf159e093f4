import assert from 'node:assert/strict';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { openPostgres } from '../../src/store/pg-client.js';

const url = process.env.TEST_DATABASE_URL;

describe.skipIf(!url)('the PostgreSQL client', () => {
  const db = openPostgres(url!);
  afterAll(() => db.close());

  it('fails a transaction whose connection the server ends, without an unheard error event ending the process', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const attempt = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // As a restart or fail-over would: the server ends this session while the transaction holds it.
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((r) => setTimeout(r, 300));
        await tx.query('SELECT 1');
      });
      await assert.rejects(attempt, /connection error|terminat/i);
      // The pool carries on with a new connection.
      assert.deepEqual((await db.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await admin.end();
    }
  });
});
