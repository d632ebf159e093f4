import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pino from 'pino';
import { OperationFeedHub } from '../../src/events/operation-feed-hub.js';
import { OPERATION_CHANGES_CHANNEL } from '../../src/store/migrations/007-operation-notifications.js';
import { migrate } from '../../src/store/migrations.js';
import { SqlOperationProgressStore } from '../../src/store/operation-progress-store.js';
import { openPostgres } from '../../src/store/pg-client.js';
import { LISTENER_APPLICATION_NAME } from '../../src/store/pg-listener.js';
import { openPglite } from '../../src/store/pglite-client.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { laneWriter } from '../support/lane-writer.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A fresh database: PGlite in a temp dir, or a new database on TEST_DATABASE_URL. */
async function freshDatabase(
  kind: 'pglite' | 'postgres',
): Promise<{ client: SqlClient; url?: string; admin?: SqlClient; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-feeds-'));
    await copyPgliteTemplate(dir);
    const client = await openPglite(dir);
    return {
      client,
      drop: async () => {
        await client.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = openPostgres(process.env.TEST_DATABASE_URL!, { maxConnections: 1 });
  const database = `clusterd_feeds_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${database}`;
  const client = openPostgres(url.toString());
  return {
    client,
    url: url.toString(),
    admin,
    drop: async () => {
      await client.close();
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const kinds = ['pglite', 'postgres'] as const;
for (const kind of kinds)
  describe(`operation change notifications over ${kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let store: SqlRecordStore;
    let writer: ReturnType<typeof laneWriter>;
    const sources = () => {
      const progress = new SqlOperationProgressStore(db.client);
      return {
        progress: (ids: readonly string[]) => progress.progress(ids),
        listEvents: (id: string, after: number, limit: number) => store.listEvents(id, after, limit),
      };
    };
    const newOperation = async () => {
      const { operation } = await store.createCluster(
        { name: `c-${randomUUID().slice(0, 8)}`, team: 'alpha', blueprint: 'local-files', labels: {}, spec: { size: 1 } },
        { kind: 'provision', requestedBy: 'test' },
      );
      return operation.id;
    };

    beforeAll(async () => {
      db = await freshDatabase(kind);
      await migrate(db.client);
      store = new SqlRecordStore(db.client);
      writer = laneWriter(db.client);
    });
    afterAll(async () => db?.drop());

    it('announces appended events once per batch and status changes, only on commit, with the operation id', async () => {
      const heard: string[] = [];
      const unlisten = await db.client.listen(OPERATION_CHANGES_CHANNEL, { onNotification: (p) => void heard.push(p) });
      try {
        const id = await newOperation();
        await sleep(200);
        assert.deepEqual(heard, [], 'a new queued operation is not a change of status');
        await writer.appendEvents(id, [
          { type: 'log', data: 1 },
          { type: 'log', data: 2 },
          { type: 'log', data: 3 },
        ]);
        await until(() => heard.length >= 1, 5000, 'the append notification');
        await db.client
          .transaction(async (tx) => {
            await tx.query(`INSERT INTO operation_events (operation_id, seq, type) VALUES ($1, 4, 'log')`, [id]);
            throw new Error('roll back');
          })
          .catch(() => undefined);
        await db.client.query('UPDATE operations SET cancel_requested = true WHERE id = $1', [id]);
        await writer.startOperation(id);
        await until(() => heard.length >= 2, 5000, 'the status notification');
        await sleep(300);
        assert.deepEqual(heard, [id, id], 'one per batch, one per status change, none for a rollback or another column');
      } finally {
        await unlisten();
      }
    });

    it('wakes every stream of an operation with one read, and ends them at the final status', async () => {
      const hub = new OperationFeedHub({ sources: sources(), listen: (c, l) => db.client.listen(c, l), recheckMs: 600_000, log });
      await hub.start();
      try {
        const id = await newOperation();
        await writer.appendEvents(id, [{ type: 'log', data: 'before' }]);
        const readers = Array.from({ length: 50 }, () => ({ after: 1 }));
        const feed = readers.map((r) => hub.join(id, r))[0]!.feed;
        await until(() => feed.status !== null, 5000, 'the first read');
        assert.equal(feed.lastSeq, 1);
        assert.equal(hub.watched, 1);
        const changed = feed.nextChange();
        await writer.appendEvents(id, [
          { type: 'engine', data: { n: 1 } },
          { type: 'engine', data: { n: 2 } },
        ]);
        await changed;
        const recent = feed.recent(1, 500)!;
        assert.deepEqual(
          recent.map((e) => e.seq),
          [2, 3],
        );
        assert.match(recent[0]!.frame, /^id: 2\nevent: engine\ndata: \{"at":"[^"]+","data":\{"n":1\}\}\n\n$/);
        assert.equal(feed.recent(0, 500), null, 'memory does not hold what came before the feed started: the stream reads the records');
        const ending = feed.nextChange();
        await writer.startOperation(id);
        await writer.finishOperation(id, { status: 'succeeded', summary: null, outputs: null, error: null, cluster: { status: 'ready' } });
        await ending;
        await until(() => feed.finished, 5000, 'the final status');
        assert.equal(feed.status, 'succeeded');
      } finally {
        await hub.stop();
      }
    });

    it('with no notification at all, the re-check still brings the change', async () => {
      // A listen that never hears anything stands for notifications lost while reconnecting.
      const hub = new OperationFeedHub({ sources: sources(), listen: async () => async () => undefined, recheckMs: 200, log });
      await hub.start();
      try {
        const id = await newOperation();
        const { feed, leave } = hub.join(id, { after: 0 });
        await until(() => feed.status === 'queued', 5000, 'the first read');
        await writer.appendEvents(id, [{ type: 'log', data: 'missed' }]);
        await until(() => feed.lastSeq === 1, 5000, 'the re-check');
        leave();
        assert.equal(hub.watched, 0, 'the last stream to leave drops the feed');
      } finally {
        await hub.stop();
      }
    });

    if (kind === 'postgres') {
      it('reconnects the listener after its connection is killed, and says so so that feeds look again', async () => {
        const heard: string[] = [];
        let listening = 0;
        const unlisten = await db.client.listen(OPERATION_CHANGES_CHANNEL, {
          onNotification: (p) => void heard.push(p),
          onListening: () => void listening++,
        });
        try {
          assert.equal(listening, 1);
          const database = new URL(db.url!).pathname.slice(1);
          const { rows } = await db.admin!.query<{ killed: boolean }>(
            'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1 AND datname = $2',
            [LISTENER_APPLICATION_NAME, database],
          );
          assert.deepEqual(rows, [{ killed: true }]);
          await until(() => listening === 2, 10_000, 'the reconnection');
          const id = await newOperation();
          await writer.appendEvents(id, [{ type: 'log', data: 'after the drop' }]);
          await until(() => heard.includes(id), 5000, 'a notification after reconnecting');
        } finally {
          await unlisten();
        }
      });
    }
  });
