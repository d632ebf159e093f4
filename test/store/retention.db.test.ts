import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pino from 'pino';
import { runRetentionPass, startRetention, type RetentionPolicy, type RetentionSettings } from '../../queue/retention.js';
import { SqlDriftStore } from '../../src/store/sql-drift-store.js';
import { migrate } from '../../src/store/migrations.js';
import { openPostgres } from '../../src/store/pg-client.js';
import { openPglite } from '../../src/store/pglite-client.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import { RETENTION_STEPS, SqlRetentionStore, type RetentionStep, type RetentionStore } from '../../src/store/retention-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlLaneStore } from '../../src/store/sql-lane-store.js';
import type { LaneHold } from '../../src/store/lane-store.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { SqlWebhookStore } from '../../src/store/webhook-store.js';

const log = pino({ level: 'silent' });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const requestedBy = 'retention-test';

/** The service's defaults: what the tests seed is on either side of these. */
const POLICY: RetentionPolicy = {
  operationEventsMs: 30 * DAY,
  operationSpecsMs: 30 * DAY,
  idempotencyKeysMs: 24 * HOUR,
  webhookDeliveriesMs: 30 * DAY,
  driftHistoryMs: 90 * DAY,
  kubeconfigReadsMs: 365 * DAY,
};
const SETTINGS: RetentionSettings = { policy: POLICY, batchSize: 500, pauseMs: 0 };

/** A fresh database: PGlite in a temp dir, or a new database on TEST_DATABASE_URL (with a second client for racing passes). */
async function freshDatabase(kind: 'pglite' | 'postgres'): Promise<{ client: SqlClient; other: SqlClient; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-retention-'));
    await copyPgliteTemplate(dir);
    const client = await openPglite(dir);
    return {
      client,
      other: client,
      drop: async () => {
        await client.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = openPostgres(process.env.TEST_DATABASE_URL!, { maxConnections: 1 });
  const database = `clusterd_ret_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${database}`;
  const client = openPostgres(url.toString());
  const other = openPostgres(url.toString());
  return {
    client,
    other,
    drop: async () => {
      await client.close();
      await other.close();
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** Every row retention may touch, by a key that names it: what a pass removed is the difference of two snapshots. */
const SNAPSHOT: Record<string, string> = {
  operation_events: `SELECT operation_id || '/' || seq AS k FROM operation_events`,
  operation_specs: `SELECT id::text AS k FROM operations WHERE spec IS NOT NULL`,
  operation_sweep_links: `SELECT id || '->' || sweep_id AS k FROM operations WHERE sweep_id IS NOT NULL`,
  operations: `SELECT id::text AS k FROM operations`,
  clusters: `SELECT id::text AS k FROM clusters`,
  idempotency_keys: `SELECT principal_id || '/' || key AS k FROM idempotency_keys`,
  webhook_delivery_attempts: `SELECT delivery_id || '/' || attempt AS k FROM webhook_delivery_attempts`,
  webhook_deliveries: `SELECT id::text AS k FROM webhook_deliveries`,
  webhook_subscriptions: `SELECT id::text AS k FROM webhook_subscriptions`,
  drift_reports: `SELECT id::text AS k FROM drift_reports`,
  drift_sweeps: `SELECT id::text AS k FROM drift_sweeps`,
  kubeconfig_reads: `SELECT id::text AS k FROM kubeconfig_reads`,
};
type Snapshot = Record<string, Set<string>>;

async function snapshot(db: SqlClient): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [name, sql] of Object.entries(SNAPSHOT)) out[name] = new Set((await db.query<{ k: string }>(sql)).rows.map((r) => r.k));
  return out;
}

/** What disappeared between two snapshots, table by table (every table listed, empty when untouched). */
function removed(before: Snapshot, after: Snapshot): Record<string, string[]> {
  return Object.fromEntries(Object.keys(SNAPSHOT).map((name) => [name, [...before[name]!].filter((k) => !after[name]!.has(k)).sort()]));
}

/** The expected difference: the given tables with these keys, every other table untouched. */
function only(expected: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.keys(SNAPSHOT).map((name) => [name, [...(expected[name] ?? [])].sort()]));
}

/** A store that records every batch it is asked for, and passes it on to the real one. */
function recording(store: RetentionStore) {
  const calls: Array<{ step: RetentionStep; limit: number; n: number }> = [];
  return {
    calls,
    async pruneBatch(step: RetentionStep, olderThanMs: number, limit: number) {
      const n = await store.pruneBatch(step, olderThanMs, limit);
      calls.push({ step, limit, n });
      return n;
    },
  };
}

const kinds = ['pglite', 'postgres'] as const;
for (const kind of kinds)
  describe(`retention over ${kind === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let records: SqlRecordStore;
    let drift: SqlDriftStore;
    let webhooks: SqlWebhookStore;
    let retention: SqlRetentionStore;
    let lanes: SqlLaneStore;

    beforeAll(async () => {
      db = await freshDatabase(kind);
      await migrate(db.client);
      records = new SqlRecordStore(db.client);
      drift = new SqlDriftStore(db.client);
      webhooks = new SqlWebhookStore(db.client);
      retention = new SqlRetentionStore(db.client);
      lanes = new SqlLaneStore(db.client);
    });
    afterAll(async () => db?.drop());

    /** Writes to an operation as its worker does: under a hold on its cluster's lane, released after. */
    const held = async (operationId: string, write: (hold: LaneHold) => Promise<void>) => {
      const clusterId = (await records.getOperation(operationId))!.clusterId;
      const hold = await lanes.acquire(clusterId, `worker-${randomUUID().slice(0, 8)}`, 60_000);
      assert.ok(hold);
      try {
        await write(hold);
      } finally {
        await lanes.release(hold);
      }
    };
    const backdate = (sql: string, ids: unknown[], ageMs: number) => db.client.query(sql, [...ids, ageMs]);
    const cluster = async (team = 'retention') =>
      await records.createCluster(
        { name: `c-${randomUUID().slice(0, 8)}`, team, blueprint: 'local-files', labels: {}, spec: { size: 1 } },
        { kind: 'provision', requestedBy },
      );
    /** Runs the operation to its end with `events` events, all of it `ageMs` ago. */
    const finished = async (operationId: string, events: number, ageMs: number, status: 'succeeded' | 'failed' = 'succeeded') => {
      await held(operationId, async (hold) => {
        await lanes.startOperation(hold, operationId);
        if (events > 0)
          await lanes.appendEvents(
            hold,
            operationId,
            Array.from({ length: events }, (_, i) => ({ type: 'log' as const, data: `line ${i}` })),
          );
        await lanes.finishOperation(hold, operationId, {
          status,
          summary: null,
          outputs: null,
          error: null,
          cluster: {},
          stackClean: true,
        });
      });
      await ageOperation(operationId, ageMs);
    };
    const ageOperation = async (operationId: string, ageMs: number) => {
      const at = `now() - $2::double precision * interval '1 millisecond'`;
      await backdate(
        `UPDATE operations SET queued_at = ${at}, started_at = CASE WHEN started_at IS NULL THEN NULL ELSE ${at} END, finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE ${at} END WHERE id = $1`,
        [operationId],
        ageMs,
      );
      await backdate(`UPDATE operation_events SET at = ${at} WHERE operation_id = $1`, [operationId], ageMs);
    };
    const eventKeys = (operationId: string, count: number) => Array.from({ length: count }, (_, i) => `${operationId}/${i + 1}`);
    const pass = async (settings: RetentionSettings = SETTINGS) => {
      const before = await snapshot(db.client);
      const report = await runRetentionPass(retention, settings, log);
      return { report, removed: removed(before, await snapshot(db.client)) };
    };

    it("removes the events of operations that finished past the period, and keeps running and recent operations' events", async () => {
      const { operation: old } = await cluster();
      await finished(old.id, 3, 31 * DAY);
      const { operation: recent } = await cluster();
      await finished(recent.id, 2, 29 * DAY);
      // Running for 40 days: its events are old, but it is still streaming them.
      const { operation: running } = await cluster();
      await held(running.id, async (hold) => {
        await lanes.startOperation(hold, running.id);
        await lanes.appendEvents(hold, running.id, [{ type: 'log', data: 'still going' }]);
      });
      await ageOperation(running.id, 40 * DAY);

      const { report, removed: gone } = await pass();
      assert.deepEqual(gone, only({ operation_events: eventKeys(old.id, 3), operation_specs: [old.id] }));
      assert.equal(report['operation-events'], 3);
      assert.deepEqual(
        (await records.listEvents(recent.id, 0, 10)).map((e) => e.seq),
        [1, 2],
      );
      assert.deepEqual(
        (await records.listEvents(running.id, 0, 10)).map((e) => e.seq),
        [1],
      );
    });

    it('drops the spec copy of operations finished past the period, and the records never let an unfinished one lose it', async () => {
      const { cluster: c, operation: old } = await cluster();
      await finished(old.id, 0, 31 * DAY);
      const queued = await records.enqueueOperation(c.id, { kind: 'preview', requestedBy });
      await ageOperation(queued.id, 40 * DAY);
      const { operation: recent } = await cluster();
      await finished(recent.id, 0, 29 * DAY, 'failed');

      const { removed: gone } = await pass();
      assert.deepEqual(gone, only({ operation_specs: [old.id] }));
      const kept = await records.getOperation(old.id);
      assert.equal(kept?.spec, null);
      assert.equal(kept?.status, 'succeeded', 'the operation itself stays');
      assert.deepEqual((await records.getOperation(queued.id))?.spec, { size: 1 });
      await assert.rejects(
        db.client.query('UPDATE operations SET spec = NULL WHERE id = $1', [queued.id]),
        /operations_spec_until_finished/,
      );
    });

    it('removes idempotency keys unchanged for longer than the period, answered or abandoned, and keeps the others', async () => {
      const principal = `p-${randomUUID()}`;
      for (const key of ['old-done', 'old-in-flight', 'new-done', 'new-in-flight'])
        await records.claimIdempotencyKey(principal, key, 'fp', 60_000, POLICY.idempotencyKeysMs);
      for (const key of ['old-done', 'new-done'])
        await records.completeIdempotencyKey(principal, key, { statusCode: 202, body: '{}', headers: {} });
      await backdate(
        `UPDATE idempotency_keys SET updated_at = now() - $3::double precision * interval '1 millisecond' WHERE principal_id = $1 AND key = ANY($2::text[])`,
        [principal, ['old-done', 'old-in-flight']],
        25 * HOUR,
      );
      await backdate(
        `UPDATE idempotency_keys SET updated_at = now() - $3::double precision * interval '1 millisecond' WHERE principal_id = $1 AND key = ANY($2::text[])`,
        [principal, ['new-done', 'new-in-flight']],
        23 * HOUR,
      );

      const { report, removed: gone } = await pass();
      assert.deepEqual(gone, only({ idempotency_keys: [`${principal}/old-done`, `${principal}/old-in-flight`] }));
      assert.equal(report['idempotency-keys'], 2);
    });

    it('treats a key past the period as free before any pass removes it, and lets one of many racing claims have it', async () => {
      const principal = `p-${randomUUID()}`;
      const claim = (key: string, fp: string, ttlMs: number | null = POLICY.idempotencyKeysMs) =>
        records.claimIdempotencyKey(principal, key, fp, 60_000, ttlMs);
      const age = (key: string, ms: number) =>
        backdate(
          `UPDATE idempotency_keys SET updated_at = now() - $3::double precision * interval '1 millisecond' WHERE principal_id = $1 AND key = $2`,
          [principal, key],
          ms,
        );
      assert.deepEqual(await claim('k', 'first'), { state: 'claimed' });
      await records.completeIdempotencyKey(principal, 'k', { statusCode: 202, body: '{"n":1}', headers: {} });
      await age('k', 23 * HOUR);
      assert.deepEqual(await claim('k', 'second'), { state: 'mismatch' }, 'within the period the key is still the first request');
      assert.deepEqual(await claim('k', 'first'), { state: 'replay', statusCode: 202, body: '{"n":1}', headers: {} });
      await age('k', 25 * HOUR);
      assert.deepEqual(await claim('k', 'second', null), { state: 'mismatch' }, 'with no period a key is kept for ever');
      const racing = await Promise.all(Array.from({ length: 5 }, () => claim('k', 'second')));
      assert.deepEqual(racing.map((c) => c.state).sort(), ['claimed', 'in-flight', 'in-flight', 'in-flight', 'in-flight']);
      await records.completeIdempotencyKey(principal, 'k', { statusCode: 201, body: '{"n":2}', headers: {} });
      assert.deepEqual(await claim('k', 'second'), { state: 'replay', statusCode: 201, body: '{"n":2}', headers: {} });
      assert.deepEqual(await claim('k', 'first'), { state: 'mismatch' }, 'the expired first answer is gone');
    });

    it('removes webhook deliveries settled past the period with their attempts, and keeps pending ones however old', async () => {
      const sub = await webhooks.createSubscription({
        team: null,
        url: 'https://example.com/hook',
        eventTypes: ['operation.failed'],
        description: null,
        createdBy: requestedBy,
        signingSecret: `whsec_${randomUUID()}`,
      });
      const deliver = async () =>
        one(
          await webhooks.recordDeliveries({
            id: randomUUID(),
            type: 'operation.failed',
            createdAt: new Date().toISOString(),
            team: 'retention',
            cluster: 'c',
            data: {},
          }),
        );
      const attempt = (id: string, status: 'pending' | 'succeeded' | 'failed') =>
        webhooks.recordAttempt(id, {
          statusCode: status === 'succeeded' ? 200 : 500,
          error: status === 'succeeded' ? null : 'HTTP 500',
          durationMs: 5,
          at: new Date(),
          status,
          retryInMs: status === 'pending' ? 0 : null,
        });
      const age = (id: string, ms: number) =>
        backdate(
          `UPDATE webhook_deliveries SET created_at = now() - $2::double precision * interval '1 millisecond', finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE now() - $2::double precision * interval '1 millisecond' END WHERE id = $1`,
          [id],
          ms,
        );
      const oldOk = await deliver();
      await attempt(oldOk.id, 'pending');
      await attempt(oldOk.id, 'succeeded');
      const oldFailed = await deliver();
      for (const s of ['pending', 'pending', 'failed'] as const) await attempt(oldFailed.id, s);
      const recent = await deliver();
      await attempt(recent.id, 'succeeded');
      const pending = await deliver();
      await attempt(pending.id, 'pending');
      for (const id of [oldOk.id, oldFailed.id, pending.id]) await age(id, 31 * DAY);
      await age(recent.id, 29 * DAY);

      const { report, removed: gone } = await pass();
      assert.deepEqual(
        gone,
        only({
          webhook_deliveries: [oldOk.id, oldFailed.id],
          webhook_delivery_attempts: [`${oldOk.id}/1`, `${oldOk.id}/2`, `${oldFailed.id}/1`, `${oldFailed.id}/2`, `${oldFailed.id}/3`],
        }),
      );
      assert.equal(report['webhook-attempts'], 5, 'the attempts went in their own statements, not by cascade');
      assert.equal(report['webhook-deliveries'], 2);
      assert.deepEqual((await webhooks.listDeliveries(sub.id, 10)).items.map((d) => d.id).sort(), [recent.id, pending.id].sort());
      await webhooks.deleteSubscription(sub.id);
    });

    it("removes drift reports and sweeps past the period, but never a live cluster's latest report nor a sweep something still files under", async () => {
      const at = `now() - $2::double precision * interval '1 millisecond'`;
      const sweep = async (ageMs: number, status: 'succeeded' | 'failed' = 'succeeded') => {
        const s = await drift.startSweep({ trigger: 'manual', requestedBy, maxConcurrent: 1, staleMs: 60_000 });
        await drift.finishSweep(s.id, { status, skipped: [], ...(status === 'failed' ? { error: 'stopped' } : {}) });
        await backdate(
          `UPDATE drift_sweeps SET started_at = ${at}, heartbeat_at = ${at}, finished_at = ${at} WHERE id = $1`,
          [s.id],
          ageMs,
        );
        return s.id;
      };
      const check = async (clusterId: string, sweepId: string | null, ageMs: number) => {
        const op = await records.enqueueOperation(clusterId, { kind: 'drift-check', requestedBy, ...(sweepId ? { sweepId } : {}) });
        await finished(op.id, 0, ageMs);
        const report = await drift.recordReport({
          clusterId,
          operationId: op.id,
          sweepId,
          status: 'clean',
          kinds: [],
          resources: [],
          error: null,
          remediation: { action: 'none' },
        });
        await backdate(`UPDATE drift_reports SET checked_at = ${at} WHERE id = $1`, [report.id], ageMs);
        return { op: op.id, report: report.id };
      };
      const oldSweep = await sweep(100 * DAY);
      const keptSweep = await sweep(95 * DAY, 'failed');
      const recentSweep = await sweep(10 * DAY);
      const team = `drift-${randomUUID().slice(0, 8)}`;
      const { cluster: quiet } = await cluster(team); // not checked for 95 days: its latest report stays
      const q1 = await check(quiet.id, oldSweep, 100 * DAY);
      const q2 = await check(quiet.id, keptSweep, 95 * DAY);
      const { cluster: busy } = await cluster(team);
      const b1 = await check(busy.id, oldSweep, 99 * DAY);
      const b2 = await check(busy.id, recentSweep, 10 * DAY);
      const { cluster: gone } = await cluster(team);
      const g1 = await check(gone.id, null, 100 * DAY);
      const goneHold = (await lanes.acquire(gone.id, 'retention-test', 60_000))!;
      await lanes.setClusterStatus(goneHold, 'destroyed');
      await lanes.release(goneHold);
      // A sweep that ended while one of its checks was still queued keeps it, and so is kept itself.
      const stillQueuedSweep = await sweep(100 * DAY, 'failed');
      const queuedCheck = await records.enqueueOperation(busy.id, { kind: 'drift-check', requestedBy, sweepId: stillQueuedSweep });
      const running = await drift.startSweep({ trigger: 'manual', requestedBy, maxConcurrent: 1, staleMs: 60_000 });
      await backdate(`UPDATE drift_sweeps SET started_at = ${at}, heartbeat_at = now() WHERE id = $1`, [running.id], 100 * DAY);

      const { report, removed: removedRows } = await pass();
      assert.deepEqual(
        removedRows,
        only({
          drift_reports: [q1.report, b1.report, g1.report],
          drift_sweeps: [oldSweep],
          operation_sweep_links: [`${q1.op}->${oldSweep}`, `${b1.op}->${oldSweep}`],
          operation_specs: [q1.op, q2.op, b1.op, g1.op],
        }),
      );
      assert.equal(report['drift-sweep-links'], 2);
      const summary = await drift.fleetSummary(team);
      assert.deepEqual(
        { clusters: summary.clusters, checked: summary.checked, neverChecked: summary.neverChecked },
        { clusters: 2, checked: 2, neverChecked: 0 },
        'the fleet summary still sees every live cluster checked',
      );
      assert.deepEqual(
        (await drift.listReports(quiet.id, 10)).items.map((r) => r.id),
        [q2.report],
      );
      assert.deepEqual(
        (await drift.listReports(busy.id, 10)).items.map((r) => r.id),
        [b2.report],
      );
      assert.equal((await drift.getSweep(keptSweep))?.clean, 1);
      assert.equal((await records.getOperation(q1.op))?.sweepId, null);
      assert.equal((await records.getOperation(queuedCheck.id))?.sweepId, stillQueuedSweep);
      await drift.finishSweep(running.id, { status: 'succeeded', skipped: [] });
    });

    it('removes kubeconfig reads past the period', async () => {
      const { cluster: c } = await cluster();
      for (let i = 0; i < 3; i++) await records.recordKubeconfigRead(c.id, `reader-${i}`);
      const ids = (
        await db.client.query<{ id: string }>('SELECT id FROM kubeconfig_reads WHERE cluster_id = $1 ORDER BY read_by', [c.id])
      ).rows.map((r) => r.id);
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE id = ANY($1::uuid[])`,
        [ids.slice(0, 2)],
        366 * DAY,
      );
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE id = $1`,
        [ids[2]],
        364 * DAY,
      );

      const { removed: gone } = await pass();
      assert.deepEqual(gone, only({ kubeconfig_reads: ids.slice(0, 2) }));
      assert.deepEqual(
        (await records.listKubeconfigReads(c.id, 10)).map((r) => r.readBy),
        ['reader-2'],
      );
    });

    it('keeps everything of a kind whose retention is off', async () => {
      const { cluster: c, operation: op } = await cluster();
      await finished(op.id, 2, 1000 * DAY);
      await records.recordKubeconfigRead(c.id, 'auditor');
      const [read] = (await db.client.query<{ id: string }>('SELECT id FROM kubeconfig_reads WHERE cluster_id = $1', [c.id])).rows;
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE id = $1`,
        [read!.id],
        1000 * DAY,
      );
      const off: RetentionPolicy = {
        operationEventsMs: null,
        operationSpecsMs: null,
        idempotencyKeysMs: null,
        webhookDeliveriesMs: null,
        driftHistoryMs: null,
        kubeconfigReadsMs: null,
      };
      const counted = recording(retention);
      const before = await snapshot(db.client);
      await runRetentionPass(counted, { ...SETTINGS, policy: off }, log);
      assert.deepEqual(removed(before, await snapshot(db.client)), only({}));
      assert.deepEqual(counted.calls, [], 'not even a statement');
      // The same rows go as soon as their kinds have a period again.
      const { removed: gone } = await pass();
      assert.deepEqual(gone, only({ operation_events: eventKeys(op.id, 2), operation_specs: [op.id], kubeconfig_reads: [read!.id] }));
    });

    it('removes in batches of at most the batch size, each its own statement, until one comes back short', async () => {
      const { cluster: c } = await cluster();
      for (let i = 0; i < 8; i++) await records.recordKubeconfigRead(c.id, `reader-${i}`);
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE cluster_id = $1`,
        [c.id],
        400 * DAY,
      );
      assert.equal(await retention.pruneBatch('kubeconfig-reads', POLICY.kubeconfigReadsMs!, 2), 2);
      assert.equal((await records.listKubeconfigReads(c.id, 10)).length, 6);

      const counted = recording(retention);
      const report = await runRetentionPass(counted, { ...SETTINGS, batchSize: 3 }, log);
      assert.deepEqual(
        counted.calls.filter((call) => call.step === 'kubeconfig-reads').map((call) => call.n),
        [3, 3, 0],
      );
      assert.ok(counted.calls.every((call) => call.limit === 3 && call.n <= 3));
      assert.deepEqual(
        counted.calls.map((call) => call.step),
        [...RETENTION_STEPS.filter((s) => s !== 'kubeconfig-reads'), 'kubeconfig-reads', 'kubeconfig-reads', 'kubeconfig-reads'],
      );
      assert.equal(report['kubeconfig-reads'], 6);
      assert.equal((await records.listKubeconfigReads(c.id, 10)).length, 0);
    });

    it('lets two passes run at once: every old row goes exactly once and nothing fails', async () => {
      const { cluster: c, operation: op } = await cluster();
      await finished(op.id, 120, 31 * DAY);
      for (let i = 0; i < 60; i++) await records.recordKubeconfigRead(c.id, `reader-${i}`);
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE cluster_id = $1`,
        [c.id],
        400 * DAY,
      );
      const warnings: string[] = [];
      const watching = pino(
        { level: 'warn' },
        new Writable({
          write: (chunk, _enc, done) => {
            warnings.push(String(chunk));
            done();
          },
        }),
      );
      const settings = { ...SETTINGS, batchSize: 7 };
      const [a, b] = await Promise.all([
        runRetentionPass(new SqlRetentionStore(db.client), settings, watching),
        runRetentionPass(new SqlRetentionStore(db.other), settings, watching),
      ]);
      assert.deepEqual(warnings, []);
      assert.equal(a['operation-events'] + b['operation-events'], 120);
      assert.equal(a['kubeconfig-reads'] + b['kubeconfig-reads'], 60);
      assert.equal(a['operation-specs'] + b['operation-specs'], 1);
      assert.deepEqual(await records.listEvents(op.id, 0, 10), []);
    });

    it('stops a pass between two batches when asked, without waiting out the pause', async () => {
      const { cluster: c } = await cluster();
      for (let i = 0; i < 5; i++) await records.recordKubeconfigRead(c.id, `reader-${i}`);
      await backdate(
        `UPDATE kubeconfig_reads SET read_at = now() - $2::double precision * interval '1 millisecond' WHERE cluster_id = $1`,
        [c.id],
        400 * DAY,
      );
      const stop = new AbortController();
      const counted = recording(retention);
      const first = counted.pruneBatch.bind(counted);
      counted.pruneBatch = async (step, olderThanMs, limit) => {
        const n = await first(step, olderThanMs, limit);
        if (n > 0) stop.abort();
        return n;
      };
      const started = performance.now();
      const report = await runRetentionPass(counted, { ...SETTINGS, batchSize: 2, pauseMs: 60_000 }, log, stop.signal);
      assert.ok(performance.now() - started < 30_000, 'the 60 s pause was cut short');
      assert.equal(report['kubeconfig-reads'], 2);
      assert.equal((await records.listKubeconfigReads(c.id, 10)).length, 3);
      await runRetentionPass(retention, SETTINGS, log);
    });

    it('logs what a pass removed, by kind', async () => {
      const { operation: op } = await cluster();
      await finished(op.id, 4, 31 * DAY);
      const lines: Array<Record<string, unknown>> = [];
      const capture = pino(
        { level: 'info' },
        new Writable({
          write: (chunk, _enc, done) => {
            lines.push(JSON.parse(String(chunk)));
            done();
          },
        }),
      );
      const job = startRetention({ store: retention, settings: SETTINGS, intervalMs: 3_600_000, log: capture });
      await job.tick();
      await job.stop();
      const line = lines.find((l) => l.msg === 'retention pass removed records past their retention');
      assert.deepEqual(line?.removed, { 'operation-events': 4, 'operation-specs': 1 });
    });
  });

function one<T>(items: T[]): T {
  assert.equal(items.length, 1);
  return items[0]!;
}
