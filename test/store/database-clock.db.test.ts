import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { databaseClock } from '../../src/store/database-clock.js';
import type { SqlClient } from '../../src/store/sql.js';
import { postgresBackend, type Backend } from '../support/databases.js';

describe("the database's clock, carried forward between readings", () => {
  let backend: Backend;
  let db: SqlClient;
  let reads = 0;
  let slowestReadMs = 0;
  const counted: Pick<SqlClient, 'query'> = {
    query: async (text, params) => {
      reads++;
      const sent = performance.now();
      try {
        return await db.query(text, params);
      } finally {
        slowestReadMs = Math.max(slowestReadMs, performance.now() - sent);
      }
    },
  };
  const serverNow = async () => Date.parse((await db.query<{ now: string }>('SELECT now() AS now')).rows[0]!.now);

  beforeAll(async () => {
    backend = await postgresBackend(process.env.TEST_DATABASE_URL!);
    [db] = (await backend.clients(1)) as [SqlClient];
  });
  afterAll(() => backend.cleanup());

  it("agrees with the server's now() within half its reading's round trip, reading it once per window", async () => {
    const now = databaseClock(counted, { resyncMs: 60_000 });
    const called = performance.now();
    const readings = await Promise.all([now(), now(), now()]);
    const elapsed = performance.now() - called;
    assert.equal(reads, 1, 'concurrent first calls share one reading');
    // Each is carried forward from that one reading to the moment it resolves, so they can differ
    // only by the time that passed (a loaded machine can pause between their resolutions), never go back.
    assert.ok(readings[0] <= readings[1] && readings[1] <= readings[2], `${readings} go back`);
    assert.ok(readings[2] - readings[0] <= elapsed + 1, `${readings} spread more than the ${elapsed} ms that passed`);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 30));
      const [before, ours, after] = [await serverNow(), await now(), await serverNow()];
      // The server evaluates now() somewhere in the reading's round trip; the clock takes its middle.
      const slack = slowestReadMs / 2 + 2;
      assert.ok(ours >= before - slack && ours <= after + slack, `${ours} outside [${before}, ${after}] ± ${slack} ms`);
    }
    assert.equal(reads, 1, 'no query between readings');
  });

  it('reads again once the window has passed', async () => {
    reads = 0;
    const now = databaseClock(counted, { resyncMs: 20 });
    await now();
    await new Promise((r) => setTimeout(r, 40));
    await now();
    assert.equal(reads, 2);
  });
});
