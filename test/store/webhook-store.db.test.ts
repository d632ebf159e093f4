import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pino from 'pino';
import { startDeliveryRequeuer } from '../../queue/webhook-requeuer.js';
import { migrate } from '../../src/store/migrations.js';
import { openPostgres } from '../../src/store/pg-client.js';
import { openPglite } from '../../src/store/pglite-client.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlWebhookStore, type WebhookStore } from '../../src/store/webhook-store.js';
import type { WebhookEventType, WebhookPayload } from '../../src/domain/webhook-event.js';
import { createWebhookNotifier } from '../../src/webhooks/notifier.js';

const log = pino({ level: 'silent' });

/** A fresh database: PGlite in a temp dir, or a new database on TEST_DATABASE_URL. */
async function freshDatabase(kind: 'pglite' | 'postgres'): Promise<{ client: SqlClient; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-webhooks-'));
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
  const database = `clusterd_wh_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${database}`;
  const client = openPostgres(url.toString());
  return {
    client,
    drop: async () => {
      await client.close();
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const kinds = ['pglite', 'postgres'] as const;
for (const kind of kinds)
  describe(`SqlWebhookStore over ${kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let store: WebhookStore;
    const subscribe = (team: string | null, eventTypes: WebhookEventType[]) =>
      store.createSubscription({
        team,
        url: 'https://example.com/hook',
        eventTypes,
        description: null,
        createdBy: 'test',
        signingSecret: `whsec_${randomUUID()}`,
      });
    const payload = (type: WebhookEventType, team: string): WebhookPayload => ({
      id: randomUUID(),
      type,
      createdAt: new Date().toISOString(),
      team,
      cluster: 'c1',
      data: { n: 1 },
    });

    beforeAll(async () => {
      db = await freshDatabase(kind);
      await migrate(db.client);
      store = new SqlWebhookStore(db.client);
    });
    afterAll(async () => db?.drop());

    it("records a delivery for each active subscription of the type: the event's team's and the all-teams ones", async () => {
      const team = `t-${randomUUID().slice(0, 6)}`;
      const mine = await subscribe(team, ['drift.detected']);
      const everyone = await subscribe(null, ['drift.detected', 'operation.failed']);
      await subscribe(team, ['operation.failed']);
      await subscribe('someone-else', ['drift.detected']);
      const disabled = await subscribe(team, ['drift.detected']);
      await db.client.query('UPDATE webhook_subscriptions SET active = false WHERE id = $1', [disabled.id]);
      const event = payload('drift.detected', team);
      const deliveries = await store.recordDeliveries(event);
      assert.deepEqual(deliveries.map((d) => d.subscriptionId).sort(), [mine.id, everyone.id].sort());
      for (const d of deliveries) {
        assert.equal(d.status, 'pending');
        assert.equal(d.attempts, 0);
        assert.deepEqual(d.payload, event);
      }
      assert.deepEqual(await store.recordDeliveries(event), [], 'the same event twice records nothing new');
      // Every later test would match it too.
      await store.deleteSubscription(everyone.id);
    });

    it('records a ping for the one subscription named, whatever its types', async () => {
      const sub = await subscribe('pinged', ['cluster.expiring']);
      const ping: WebhookPayload = { ...payload('cluster.expiring', 'pinged'), type: 'ping' };
      const [delivery, ...rest] = await store.recordDeliveries(ping, { only: sub.id });
      assert.equal(delivery?.subscriptionId, sub.id);
      assert.deepEqual(rest, []);
    });

    it('records every attempt and lists deliveries newest first with them', async () => {
      const sub = await subscribe('attempts', ['operation.failed']);
      const [first] = await store.recordDeliveries(payload('operation.failed', 'attempts'));
      const [second] = await store.recordDeliveries(payload('operation.failed', 'attempts'));
      const at = new Date();
      const retrying = await store.recordAttempt(first!.id, {
        at,
        statusCode: 500,
        error: 'answered HTTP 500',
        durationMs: 12.4,
        status: 'pending',
        retryInMs: 1000,
      });
      // Due by the database's clock, which the requeue pass of every process compares it with.
      const {
        rows: [due],
      } = await db.client.query<{ ms: number }>('SELECT (extract(epoch FROM $1::timestamptz - now()) * 1000)::float8 AS ms', [
        retrying.nextAttemptAt,
      ]);
      assert.ok(due!.ms > 0 && due!.ms <= 1000, `next attempt due in ${due!.ms} ms by the database's clock`);
      const done = await store.recordAttempt(first!.id, {
        at,
        statusCode: 200,
        error: null,
        durationMs: 3,
        status: 'succeeded',
        retryInMs: null,
      });
      assert.equal(done.status, 'succeeded');
      assert.equal(done.attempts, 2);
      assert.ok(done.finishedAt);
      const page = await store.listDeliveries(sub.id, 10);
      assert.deepEqual(
        page.items.map((d) => d.id),
        [second!.id, first!.id],
      );
      assert.deepEqual(
        page.items[1]!.attemptLog.map((a) => [a.attempt, a.statusCode, a.error, a.durationMs]),
        [
          [1, 500, 'answered HTTP 500', 12],
          [2, 200, null, 3],
        ],
      );
      assert.deepEqual(page.items[0]!.attemptLog, []);
    });

    it('hands out the signing secret only through deliveryTarget', async () => {
      const sub = await subscribe('secretive', ['drift.remediated']);
      const [delivery] = await store.recordDeliveries(payload('drift.remediated', 'secretive'));
      const target = await store.deliveryTarget(delivery!.id);
      assert.match(target!.signingSecret, /^whsec_/);
      assert.deepEqual([target!.url, target!.active, target!.team], ['https://example.com/hook', true, 'secretive']);
      const visible = JSON.stringify([
        sub,
        await store.getSubscription(sub.id),
        await store.listSubscriptions({ team: 'secretive' }),
        await store.listDeliveries(sub.id, 10),
      ]);
      assert.ok(!visible.includes(target!.signingSecret));
    });

    it('deletes a subscription with its deliveries', async () => {
      const sub = await subscribe('gone', ['drift.detected']);
      const [delivery] = await store.recordDeliveries(payload('drift.detected', 'gone'));
      assert.equal(await store.deleteSubscription(sub.id), true);
      assert.equal(await store.getDelivery(delivery!.id), null);
      assert.equal(await store.deleteSubscription(sub.id), false);
    });

    describe('while the queue is down', () => {
      it('publish records the delivery pending and resolves; the requeue pass queues it once overdue', async () => {
        const team = `down-${randomUUID().slice(0, 6)}`;
        await subscribe(team, ['cluster.expiring']);
        const down = {
          enqueue: async () => {
            throw new Error('Connection is closed.');
          },
        };
        await createWebhookNotifier({ store, queue: down, log }).publish({
          type: 'cluster.expiring',
          team,
          cluster: 'c9',
          data: { expiresAt: 'soon' },
        });
        const [stranded] = (
          await db.client.query<{ id: string; status: string }>(
            `SELECT d.id, d.status FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.team = $1`,
            [team],
          )
        ).rows;
        assert.equal(stranded?.status, 'pending');
        assert.ok(!(await store.overdueDeliveries(60_000, 100)).includes(stranded.id), 'not overdue within the grace period');
        const requeued: string[] = [];
        const requeuer = startDeliveryRequeuer({
          store,
          requeue: async (id) => void requeued.push(id),
          intervalMs: 60_000,
          graceMs: 0,
          log,
        });
        await requeuer.stop();
        await requeuer.tick();
        assert.ok(requeued.includes(stranded.id));
      });

      it('publish never rejects, even when the records cannot be written', async () => {
        const broken = {
          recordDeliveries: async () => {
            throw new Error('database is gone');
          },
        };
        await createWebhookNotifier({ store: broken, queue: { enqueue: async () => undefined }, log }).publish({
          type: 'drift.detected',
          team: 'x',
          cluster: null,
          data: {},
        });
      });
    });
  });
