import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ExpiryDue } from '../../src/store/expiry-store.js';
import { migrate } from '../../src/store/migrations.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';
import { changeSpec } from '../support/desired-spec.js';

const HOUR = 3_600_000;
const WARNINGS = [24 * HOUR, HOUR, 60_000];
const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const requestedBy = 'alice (team payments)';

function expirySuite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`the expiry watch's records over ${label}`, () => {
    let backend: Backend;
    let db: SqlClient;
    let store: SqlRecordStore;

    beforeAll(async () => {
      backend = await openBackend();
      [db] = (await backend.clients(1)) as [SqlClient];
      await migrate(db);
      store = new SqlRecordStore(db);
    });
    afterAll(async () => backend.cleanup());

    /** A cluster expiring at the database's `now() + offset` (a PostgreSQL interval, e.g. '-1 minute'). */
    async function expiringIn(offset: string, name = uniq('c')) {
      const { cluster } = await store.createCluster(
        { name, team: 'payments', blueprint: 'kind', labels: {}, spec: { nodes: 1 } },
        { kind: 'provision', requestedBy },
      );
      await db.query(`UPDATE clusters SET expires_at = now() + $2::interval WHERE id = $1`, [cluster.id, offset]);
      return (await store.getClusterById(cluster.id))!;
    }
    /** Everything due now, every page read. */
    async function allDue(limit = 1000): Promise<ExpiryDue[]> {
      const items: ExpiryDue[] = [];
      let page = await store.expiryDue(WARNINGS, limit);
      items.push(...page.items);
      while (page.next) {
        page = await store.expiryDue(WARNINGS, limit, page.next);
        items.push(...page.items);
      }
      return items;
    }
    const dueFor = async (id: string) => (await allDue()).filter((d) => d.cluster.id === id);

    it('offers the tightest warning threshold passed, with the time left by the database clock, until it is claimed', async () => {
      const soon = await expiringIn('30 minutes');
      const later = await expiringIn('2 hours');
      const far = await expiringIn('48 hours');
      const [warning] = await dueFor(soon.id);
      assert.ok(warning?.kind === 'warn');
      assert.equal(warning.thresholdMs, HOUR);
      assert.ok(Math.abs(warning.msLeft - 30 * 60_000) < 10_000, `${warning.msLeft} ms left`);
      assert.deepEqual(
        (await dueFor(later.id)).map((d) => d.kind === 'warn' && d.thresholdMs),
        [24 * HOUR],
      );
      assert.deepEqual(await dueFor(far.id), []);

      assert.equal(await store.claimExpiryNotice(soon.id, soon.expiresAt!, HOUR), true);
      assert.equal(await store.claimExpiryNotice(soon.id, soon.expiresAt!, HOUR), false, 'claimed once, whoever asks');
      assert.deepEqual(await dueFor(soon.id), [], 'nothing more is due until the next threshold');
    });

    it("queues an expired cluster's destroy once, and settles its expiry", async () => {
      const expired = await expiringIn('-1 minute');
      assert.deepEqual(
        (await dueFor(expired.id)).map((d) => d.kind),
        ['expire'],
      );
      const result = await store.expireCluster(expired.id, 'clusterd (expiry)');
      assert.ok(result.outcome === 'queued');
      assert.deepEqual([result.operation.kind, result.operation.requestedBy], ['destroy', 'clusterd (expiry)']);
      assert.equal((await store.getClusterById(expired.id))!.status, 'destroying');
      assert.deepEqual(await dueFor(expired.id), []);
      assert.deepEqual(await store.expireCluster(expired.id, 'clusterd (expiry)'), { outcome: 'not-due' });
    });

    it('leaves a cluster with a destroy pending out, and settles one whose destroy was tried since it expired', async () => {
      const pending = await expiringIn('-1 minute');
      await store.enqueueOperation(pending.id, { kind: 'destroy', requestedBy });
      assert.deepEqual(await dueFor(pending.id), [], 'its destroy is under way');
      assert.deepEqual(await store.expireCluster(pending.id, 'clusterd (expiry)'), { outcome: 'not-due' });

      const failed = await expiringIn('-1 minute');
      const destroy = await store.enqueueOperation(failed.id, { kind: 'destroy', requestedBy });
      await db.query(`UPDATE operations SET status = 'failed', finished_at = now() WHERE id = $1`, [destroy.id]);
      await db.query(`UPDATE clusters SET status = 'failed' WHERE id = $1`, [failed.id]);
      assert.deepEqual(
        (await dueFor(failed.id)).map((d) => d.kind),
        ['expire'],
        'looked at once',
      );
      assert.deepEqual(await store.expireCluster(failed.id, 'clusterd (expiry)'), { outcome: 'already-tried' });
      assert.deepEqual(await dueFor(failed.id), [], 'and never again: a failed destroy is for a person to look at');
      const destroys = (await store.listOperations(failed.id, 10)).items.filter((o) => o.kind === 'destroy');
      assert.equal(destroys.length, 1, 'not repeated');
    });

    it('settles a refused destroy once, and looks again after a new spec or a new expiry', async () => {
      const guarded = await expiringIn('-1 minute');
      assert.equal(await store.settleRefusedExpiry(guarded.id, guarded.expiresAt!, guarded.generation), true);
      assert.equal(
        await store.settleRefusedExpiry(guarded.id, guarded.expiresAt!, guarded.generation),
        false,
        'settled once, whoever asks',
      );
      assert.deepEqual(await dueFor(guarded.id), []);

      const { cluster: changed } = await changeSpec(store, guarded.id, { spec: { nodes: 2 } }, requestedBy);
      assert.deepEqual(
        (await dueFor(guarded.id)).map((d) => d.kind),
        ['expire'],
        'a new spec may be destroyable',
      );
      assert.equal(
        await store.settleRefusedExpiry(guarded.id, guarded.expiresAt!, guarded.generation),
        false,
        'a judgement of the old spec settles nothing',
      );
      assert.equal(await store.settleRefusedExpiry(guarded.id, changed.expiresAt!, changed.generation), true);

      await db.query(`UPDATE clusters SET expires_at = now() - interval '1 second' WHERE id = $1`, [guarded.id]);
      assert.deepEqual(
        (await dueFor(guarded.id)).map((d) => d.kind),
        ['expire'],
        'a new expiry is looked at again',
      );
    });

    it('pages through everything due, in expiry order, past any number of clusters it cannot act on', async () => {
      for (let i = 0; i < 30; i++) {
        const blocked = await expiringIn('-2 hours');
        await store.enqueueOperation(blocked.id, { kind: 'destroy', requestedBy });
      }
      const settled: string[] = [];
      for (let i = 0; i < 30; i++) {
        const refused = await expiringIn('-2 hours');
        await store.settleRefusedExpiry(refused.id, refused.expiresAt!, refused.generation);
        settled.push(refused.id);
      }
      const due = await Promise.all(Array.from({ length: 25 }, () => expiringIn('-1 hour')));
      // One instant for all of them (microseconds included): the cursor must tell them apart by id.
      await db.query(
        `UPDATE clusters SET expires_at = date_trunc('second', now()) - interval '1 hour' + interval '123456 microseconds' WHERE id = ANY($1::uuid[])`,
        [due.map((c) => c.id)],
      );
      const mine = new Set(due.map((c) => c.id));
      const pages: string[][] = [];
      let page = await store.expiryDue(WARNINGS, 10);
      for (;;) {
        assert.ok(page.items.length <= 10);
        pages.push(page.items.map((d) => d.cluster.id));
        if (!page.next) break;
        page = await store.expiryDue(WARNINGS, 10, page.next);
      }
      const seen = pages.flat();
      assert.equal(new Set(seen).size, seen.length, 'no cluster twice');
      assert.deepEqual(
        seen.filter((id) => mine.has(id)),
        [...mine].sort(),
        'every due cluster, ties in id order',
      );
      assert.ok(!seen.some((id) => settled.includes(id)), 'settled expiries are not read');
    });
  });
}

expirySuite('PGlite', pgliteBackend);
const databaseUrl = process.env.TEST_DATABASE_URL!;
expirySuite('PostgreSQL', () => postgresBackend(databaseUrl));
