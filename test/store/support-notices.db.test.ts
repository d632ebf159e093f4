import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrations.js';
import { SqlOutboxStore } from '../../src/store/outbox-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { SqlSupportNoticeStore } from '../../src/store/support-notice-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';

const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

function noticeSuite(label: string, openBackend: () => Promise<Backend>, connections: number): void {
  describe(`support warnings over ${label}`, () => {
    let backend: Backend;
    let clients: SqlClient[];
    let records: SqlRecordStore;
    let notices: SqlSupportNoticeStore[];

    beforeAll(async () => {
      backend = await openBackend();
      clients = await backend.clients(connections);
      await migrate(clients[0]!);
      records = new SqlRecordStore(clients[0]!);
      notices = clients.map((c) => new SqlSupportNoticeStore(c));
    });
    afterAll(async () => backend.cleanup());

    const cluster = async () =>
      (
        await records.createCluster(
          { name: uniq('c'), team: 'payments', blueprint: 'eks', labels: {}, spec: { version: '1.34' } },
          { kind: 'provision', requestedBy: 'alice (team payments)' },
        )
      ).cluster;
    const outboxSubjects = async () =>
      (await clients[0]!.query<{ subject: string }>(`SELECT subject FROM outbox WHERE topic = 'support.notice'`)).rows.map(
        (r) => r.subject,
      );

    it('announces the tightest threshold passed once, with an outbox entry committed with it, and again for a new version only', async () => {
      const c = await cluster();
      const store = notices[0]!;
      expect(await store.claimNotices(c.id, '1.34', [60, 30], { daysToEndOfStandardSupport: 20 })).toBe(30);
      expect(await store.claimNotices(c.id, '1.34', [60, 30], { daysToEndOfStandardSupport: 19 })).toBeNull();
      expect(await store.claimNotices(c.id, '1.34', [60, 30, 7], { daysToEndOfStandardSupport: 6 })).toBe(7);
      expect(await store.claimNotices(c.id, '1.35', [60], { daysToEndOfStandardSupport: 50 })).toBe(60);
      const mine = (await outboxSubjects()).filter((s) => s.startsWith(c.id));
      expect(mine.sort()).toEqual([`${c.id}/1.34/30`, `${c.id}/1.34/7`, `${c.id}/1.35/60`]);
      expect(await store.getNotice(`${c.id}/1.34/30`)).toMatchObject({
        clusterName: c.name,
        team: 'payments',
        data: { daysToEndOfStandardSupport: 20, threshold: 30 },
      });
      // The 60-day threshold was passed with the 30-day one: recorded, never announced.
      expect(await store.getNotice(`${c.id}/1.34/60`)).toBeNull();
    });

    it('announces a threshold once however many watchers race for it', async () => {
      const c = await cluster();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          notices[i % notices.length]!.claimNotices(c.id, '1.34', [60, 30, 7], { daysToEndOfStandardSupport: 3 }),
        ),
      );
      expect(results.filter((r) => r !== null)).toEqual([7]);
      expect((await outboxSubjects()).filter((s) => s.startsWith(c.id))).toEqual([`${c.id}/1.34/7`]);
    });

    it('warns about no destroyed cluster', async () => {
      const c = await cluster();
      await clients[0]!.query('UPDATE clusters SET destroyed_at = now(), status = $2 WHERE id = $1', [c.id, 'destroyed']);
      expect(await notices[0]!.claimNotices(c.id, '1.34', [7], {})).toBeNull();
      expect(await new SqlOutboxStore(clients[0]!).claim('support.notice', `${c.id}/1.34/7`, 1_000)).toBeNull();
    });
  });
}

noticeSuite('PGlite', pgliteBackend, 1);
const databaseUrl = process.env.TEST_DATABASE_URL!;
noticeSuite('PostgreSQL', () => postgresBackend(databaseUrl), 4);
