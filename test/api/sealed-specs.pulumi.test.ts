import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import pg from 'pg';
import { sealStoredSpecs } from '../../src/store/seal-stored-specs.js';
import { openPostgres } from '../../src/store/pg-client.js';
import { SpecSealer } from '../../src/secrets/spec-sealer.js';
import { localSpec, startHarness, stopAll, type Harness } from '../support/harness.js';

/** Every text the records hold that could carry a spec value. */
async function recordsText(url: string): Promise<string> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const parts: string[] = [];
    for (const sql of [
      'SELECT spec::text, applied_spec::text, outputs::text FROM clusters',
      'SELECT spec::text, summary::text, outputs::text, error::text FROM operations',
      'SELECT data::text FROM operation_events',
      'SELECT body::text FROM idempotency_keys',
      'SELECT payload::text FROM webhook_deliveries',
    ])
      parts.push(JSON.stringify((await db.query(sql)).rows));
    return parts.join('\n');
  } finally {
    await db.end();
  }
}

/** Blueprints' write-only spec fields (secrets the program needs) are never stored in clear. */
describe('write-only spec fields at rest', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    await stopAll(harnesses);
  });

  it('are sealed in the cluster and every operation copy, reach the engine opened, and survive a merge patch', async () => {
    const h = await startHarness();
    harnesses.push(h);
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const created = await h.api('POST', '/v1/clusters', {
      headers: { 'idempotency-key': 'seal-1' },
      body: { team: 'alpha', name: 'sealed', blueprint: 'local-files', spec: localSpec({ secretValue: canary }) },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    // The engine parses `secretValue` as a string: a provision that succeeds got it opened.
    assert.equal((await h.waitFor(created.body.operation.id)).status, 'succeeded');
    assert.equal((await h.api('GET', '/v1/clusters/sealed')).body.outputs.secretValue, '[secret]');
    const patched = await h.api('PATCH', '/v1/clusters/sealed', { body: { spec: { tags: { team: 'alpha' } } } });
    assert.equal(
      (await h.waitFor(patched.body.operation.id)).status,
      'succeeded',
      'the sealed value went through the merge and was opened again',
    );
    const preview = await h.api('POST', '/v1/clusters/sealed/preview');
    const op = await h.waitFor(preview.body.operation.id);
    assert.equal(op.status, 'succeeded');
    assert.deepEqual(
      op.summary.counts,
      { create: 0, update: 0, replace: 0, delete: 0, same: op.summary.counts.same },
      'the opened value equals what the stack holds',
    );

    const text = await recordsText(h.env.DATABASE_URL!);
    assert.ok(!text.includes(canary), 'the canary is in the records in clear');
    assert.ok((text.match(/\$sealed/g) ?? []).length >= 5, 'the cluster and its operations hold sealed copies');
  });

  it('fail an operation with a clear error on a worker that has another records key, and run nothing', async () => {
    const h = await startHarness({ workers: 1 });
    harnesses.push(h);
    // The API seals with the key in the data directory; this worker was given another one.
    h.workers[0]!.kill('SIGTERM');
    await new Promise((r) => h.workers[0]!.once('exit', r));
    await h.spawnWorker({ CLUSTERD_RECORDS_KEY: randomBytes(32).toString('base64') });
    const created = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'wrong-key', blueprint: 'local-files', spec: localSpec({ secretValue: 'x-secret-value' }) },
    });
    const op = await h.waitFor(created.body.operation.id);
    assert.equal(op.status, 'failed');
    assert.equal(op.error.code, 'spec-unreadable');
    assert.match(
      op.error.detail,
      /spec\.secretValue was sealed with another records key \([0-9a-f]{8}\); this service has key [0-9a-f]{8}: give every process the same CLUSTERD_RECORDS_KEY/,
    );
    assert.equal(op.summary, null);
  });

  it('seals values stored in clear before sealing existed, once', async () => {
    const h = await startHarness({ workers: 'none' });
    harnesses.push(h);
    const created = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'legacy', blueprint: 'local-files', spec: localSpec({ secretValue: 'legacy-secret' }) },
    });
    assert.equal(created.status, 202);
    const db = openPostgres(h.env.DATABASE_URL!);
    try {
      await db.query(
        `UPDATE clusters SET spec = jsonb_set(spec, '{secretValue}', '"legacy-clear"'), applied_spec = jsonb_set(spec, '{secretValue}', '"legacy-clear"')`,
      );
      await db.query(`UPDATE operations SET spec = jsonb_set(spec, '{secretValue}', '"legacy-clear"')`);
      const key = Buffer.from((await import('node:fs')).readFileSync(`${h.dataDir}/records-key`, 'utf8'), 'base64');
      const fieldsOf = (b: string) => (b === 'local-files' ? ['secretValue'] : []);
      assert.equal(await sealStoredSpecs(db, new SpecSealer(key), fieldsOf), 2, 'the cluster row and its operation');
      assert.equal(await sealStoredSpecs(db, new SpecSealer(key), fieldsOf), 0, 'nothing is left in clear');
      assert.ok(!(await recordsText(h.env.DATABASE_URL!)).includes('legacy-clear'));
    } finally {
      await db.close();
    }
  });
});
