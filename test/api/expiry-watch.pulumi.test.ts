import assert from 'node:assert/strict';
import { afterAll, describe } from 'vitest';
import pg from 'pg';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BLOCKERS_EACH = 200;

// Small pages, so that a pass must page through the backlog to get anywhere.
const it = harnessTest({
  env: {
    ...ALLOW_LOOPBACK_RECEIVERS,
    EXPIRY_CHECK_INTERVAL_MS: '500',
    EXPIRY_BATCH_SIZE: '50',
    EXPIRY_WARNINGS: '1h',
    WEBHOOK_BACKOFF_MS: '50',
    DRIFT_SWEEP_CRON: 'off',
  },
});

describe('the expiry watch, with clusters it cannot destroy ahead of the others', () => {
  let h: Harness;
  let receiver: Receiver;
  let db: pg.Client;

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    db = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await receiver?.close();
  });

  /** Clusters that expired an hour ago, one millisecond apart: all ahead of any cluster expiring from now on. */
  async function insertBlockers(): Promise<void> {
    const expired = `now() - interval '1 hour' + i * interval '1 millisecond'`;
    // Their blueprint refuses the destroy (deletion protection on).
    await db.query(
      `INSERT INTO clusters (id, name, team, blueprint, spec, generation, status, expires_at)
       SELECT gen_random_uuid(), 'refused-' || i, 'blocked', 'eks', '{"deletionProtection": true}', 1, 'ready', ${expired} FROM generate_series(1, $1) i`,
      [BLOCKERS_EACH],
    );
    // A destroy was tried since they expired, and failed: for a person to look at.
    await db.query(
      `WITH c AS (
         INSERT INTO clusters (id, name, team, blueprint, spec, generation, status, expires_at)
         SELECT gen_random_uuid(), 'failed-' || i, 'blocked', 'local-files', '{}', 1, 'failed', ${expired} FROM generate_series(1, $1) i RETURNING id, spec)
       INSERT INTO operations (id, cluster_id, kind, status, spec, generation, requested_by, attempts, queued_at, started_at, finished_at)
       SELECT gen_random_uuid(), id, 'destroy', 'failed', spec, 1, 'someone (team blocked)', 1, now() - interval '30 minutes', now() - interval '30 minutes', now() - interval '29 minutes' FROM c`,
      [BLOCKERS_EACH],
    );
    // A destroy is running on another worker, whose lease on the lane is live.
    await db.query(
      `WITH c AS (
         INSERT INTO clusters (id, name, team, blueprint, spec, generation, status, expires_at, lane_owner, lane_expires_at, lane_epoch)
         SELECT gen_random_uuid(), 'pending-' || i, 'blocked', 'local-files', '{}', 1, 'destroying', ${expired}, 'another-worker', now() + interval '1 hour', 1
         FROM generate_series(1, $1) i RETURNING id, spec)
       INSERT INTO operations (id, cluster_id, kind, status, spec, generation, requested_by, attempts, started_at, lane_epoch)
       SELECT gen_random_uuid(), id, 'destroy', 'running', spec, 1, 'someone (team blocked)', 1, now(), 1 FROM c`,
      [BLOCKERS_EACH],
    );
    // And one whose team listens for the refusal, expiring amid the others.
    await db.query(
      `INSERT INTO clusters (id, name, team, blueprint, spec, generation, status, expires_at)
       VALUES (gen_random_uuid(), 'guarded-one', 'guarded', 'eks', '{"deletionProtection": true}', 1, 'ready', now() - interval '1 hour' + interval '100 milliseconds')`,
    );
  }

  it(`reaches a cluster that expires after ${3 * BLOCKERS_EACH} it cannot destroy, and announces a refusal once`, async () => {
    const guarded = await h.teamToken('guarded');
    const sub = await h.api('POST', '/v1/webhooks', {
      token: guarded,
      body: { url: receiver.url('/guarded'), events: ['cluster.expiry-refused'] },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const created = await h.api('POST', '/v1/clusters', {
      body: {
        team: 'alpha',
        name: 'reachable',
        blueprint: 'local-files',
        spec: localSpec(),
        expiresAt: new Date(Date.now() + 20_000).toISOString(),
      },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await insertBlockers();

    const deadline = Date.now() + 180_000;
    let destroy: any;
    while (!destroy && Date.now() < deadline) {
      destroy = (await h.api('GET', '/v1/clusters/reachable/operations')).body.items.find((o: any) => o.kind === 'destroy');
      if (!destroy) await sleep(250);
    }
    assert.ok(destroy, 'the destroy of the expired cluster was queued');
    assert.equal(destroy.requestedBy, 'clusterd (expiry)');
    assert.equal((await h.waitFor(destroy.id, undefined, 120_000)).status, 'succeeded');

    const [refusal] = await receiver.waitFor('/guarded', 1, 30_000);
    const payload = JSON.parse(refusal!.body);
    assert.equal(payload.type, 'cluster.expiry-refused');
    assert.equal(payload.cluster, 'guarded-one');
    assert.deepEqual(
      payload.data.issues.map((i: any) => [i.field, i.rule]),
      [['spec.deletionProtection', 'deletion_protection']],
    );
    await sleep(2000);
    assert.equal(receiver.received.filter((r) => r.path === '/guarded').length, 1, 'announced once, not on every pass');

    const { rows } = await db.query<{ kind: string; settled: boolean; n: number }>(
      `SELECT split_part(name, '-', 1) AS kind, expiry_settled_at IS NOT NULL AS settled, count(*)::int AS n FROM clusters WHERE team = 'blocked' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    assert.deepEqual(rows, [
      { kind: 'failed', settled: true, n: BLOCKERS_EACH },
      // Not settled: if this destroy fails, expiry is still due once it has ended.
      { kind: 'pending', settled: false, n: BLOCKERS_EACH },
      { kind: 'refused', settled: true, n: BLOCKERS_EACH },
    ]);
    const {
      rows: [queued],
    } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM operations o JOIN clusters c ON c.id = o.cluster_id WHERE c.team IN ('blocked', 'guarded') AND o.requested_by = 'clusterd (expiry)'`,
    );
    assert.equal(queued!.n, 0, 'no destroy queued for a cluster the watch cannot destroy');
  });
});
