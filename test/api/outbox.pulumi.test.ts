import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import pg from 'pg';
import { localSpec, startHarness, type Harness } from '../support/harness.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (p: import('node:child_process').ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/**
 * What follows a committed outcome (webhook events, the drift report and its reactions) survives the
 * death of the worker that committed it: the consequences are recorded with the outcome, in the outbox,
 * and carried out by whichever worker comes next.
 */
describe('nothing lost between a commit and its consequences', () => {
  let h: Harness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('delivers the webhook events of a drift check whose worker was SIGKILLed right after its outcome committed', async () => {
    receiver = await startReceiver();
    h = await startHarness({ workers: 1, env: { ...ALLOW_LOOPBACK_RECEIVERS, WEBHOOK_BACKOFF_MS: '50' } });
    const sub = await h.api('POST', '/v1/webhooks', {
      body: { team: 'alpha', url: receiver.url('/events'), events: ['operation.succeeded', 'drift.detected'] },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const created = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'outboxed', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal((await h.waitFor(created.body.operation.id)).status, 'succeeded');
    await receiver.waitFor('/events', 1);
    // Drift for the check to find, under the default `notify` policy.
    const pool = path.join(h.dataDir, 'local-clusters', 'outboxed', 'pools', 'default.json');
    writeFileSync(pool, JSON.stringify({ ...JSON.parse(readFileSync(pool, 'utf8')), size: 9 }));

    // Deliveries cannot be recorded while this lock is held: the worker will commit the check's outcome and then wait.
    const db = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query('BEGIN');
      await db.query('LOCK TABLE webhook_deliveries IN EXCLUSIVE MODE');
      const check = (await h.api('POST', '/v1/clusters/outboxed/drift-check')).body.operation.id as string;
      const op = await h.waitFor(check, undefined, 180_000);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
      const drift = (await h.api('GET', '/v1/clusters/outboxed/drift')).body;
      assert.deepEqual(
        { operationId: drift.latest?.operationId, status: drift.latest?.status },
        { operationId: check, status: 'drifted' },
        'the report is filed with the outcome',
      );

      const worker = h.workers[0]!;
      worker.kill('SIGKILL');
      await exited(worker);
      // Its connections die with its machine: nothing it had sent is left waiting to run.
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
      );
      await db.query('ROLLBACK');
      await sleep(500);
      const forCheck = () => receiver!.received.filter((r) => r.path === '/events' && JSON.parse(r.body).data?.operation?.id === check);
      const detected = () => receiver!.received.filter((r) => r.path === '/events' && JSON.parse(r.body).type === 'drift.detected');
      assert.equal(forCheck().length + detected().length, 0, 'nothing was delivered by the dead worker');

      await h.spawnWorker();
      const deadline = Date.now() + 60_000;
      while ((forCheck().length === 0 || detected().length === 0) && Date.now() < deadline) await sleep(200);
      assert.equal(forCheck().length, 1, 'operation.succeeded of the check, once');
      assert.equal(detected().length, 1, 'drift.detected, once');
      assert.equal(JSON.parse(detected()[0]!.body).data.operationId, check);
      // Another pass of the relay finds nothing left to do: no event is sent twice.
      await sleep(6000);
      assert.equal(forCheck().length, 1);
      assert.equal(detected().length, 1);
      const { rows } = await db.query('SELECT count(*)::int AS n FROM outbox');
      assert.equal(rows[0].n, 0, 'the outbox is empty once everything is done');
    } finally {
      await db.end();
    }
  });
});
