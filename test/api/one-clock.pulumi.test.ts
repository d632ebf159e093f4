import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import pg from 'pg';
import { localSpec, ROOT, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';
import { spawnService, type ServiceProcess } from '../support/service-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** How far ahead the service process's clock runs. */
const SKEW_MS = 2 * HOUR;

// No worker here: the skewed process below is the only one, API and worker together.
const it = harnessTest({
  workers: 'none',
  env: {
    ...ALLOW_LOOPBACK_RECEIVERS,
    EXPIRY_CHECK_INTERVAL_MS: '250',
    EXPIRY_WARNINGS: '1h',
    WEBHOOK_BACKOFF_MS: '50',
    DRIFT_SWEEP_CRON: 'off',
  },
});

describe("one clock: expiry follows the database's clock, not the process's", () => {
  let h: Harness;
  let receiver: Receiver;
  let skewed: ServiceProcess;
  let skewedData: string;
  let db: pg.Client;
  let alpha: string;
  /** The database's time when the skewed process had started. */
  let startedAt: number;

  const dbNow = async () => (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now.getTime();
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(skewed.url + p, {
      method,
      headers: { authorization: `Bearer ${alpha}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  /** Asserts that `iso` is `offsetMs` from the database's `now` (read around the call), within a minute. */
  const assertFromDbNow = (iso: string, reference: number, offsetMs: number) =>
    assert.ok(
      Math.abs(Date.parse(iso) - (reference + offsetMs)) < MINUTE,
      `${iso} is not ${offsetMs / MINUTE} min after the database's ${new Date(reference).toISOString()}`,
    );

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    db = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await db.connect();
    alpha = await h.teamToken('alpha');
    const sub = await h.api('POST', '/v1/webhooks', { token: alpha, body: { url: receiver.url('/alpha'), events: ['cluster.expiring'] } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    skewedData = await mkdtemp(path.join(tmpdir(), 'clusterd-skewed-'));
    skewed = await spawnService(
      {
        ...h.env,
        CLUSTERD_ROLE: 'all',
        CLUSTERD_DATA_DIR: skewedData,
        PULUMI_BACKEND_URL: `file://${path.join(h.dataDir, 'state')}`,
        CLUSTERD_TEST_CLOCK_SKEW_MS: String(SKEW_MS),
        LOG_LEVEL: 'info',
      },
      // The skew is TypeScript, loaded before the compiled service.
      ['--import', 'tsx', '--import', path.join(ROOT, 'test/support/clock-skew.ts')],
    );
    startedAt = await dbNow();
  });
  afterAll(async () => {
    await skewed?.stop();
    await db?.end();
    await receiver?.close();
    if (skewedData) await rm(skewedData, { recursive: true, force: true });
  });

  it('runs two hours ahead (its log lines say so)', async () => {
    const listening = skewed
      .output()
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return null;
        }
      })
      .find((l) => l?.msg === 'API listening');
    assert.ok(listening, skewed.output().slice(-2000));
    const ahead = listening.time - startedAt;
    assert.ok(Math.abs(ahead - SKEW_MS) < 2 * MINUTE, `the process is ${Math.round(ahead / MINUTE)} min ahead`);
  });

  it('sets expiresAt from a ttl by the database clock, on create and on PATCH', async () => {
    const before = await dbNow();
    const created = await call('POST', '/v1/clusters', { name: 'ttl-one', blueprint: 'local-files', spec: localSpec(), ttl: '1h' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assertFromDbNow(created.body.cluster.expiresAt, before, HOUR);
    const patched = await call('PATCH', '/v1/clusters/ttl-one', { ttl: '45m' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assertFromDbNow(patched.body.cluster.expiresAt, await dbNow(), 45 * MINUTE);
  });

  it('takes an expiry in the future by the database although past by the process, warns with the time left by the database, and does not destroy it', async () => {
    const expiresAt = new Date((await dbNow()) + 30 * MINUTE).toISOString();
    const created = await call('POST', '/v1/clusters', { name: 'half-hour', blueprint: 'local-files', spec: localSpec(), expiresAt });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.cluster.expiresAt, expiresAt);

    const warningsOf = (cluster: string) =>
      receiver.received
        .filter((r) => r.path === '/alpha')
        .map((r) => JSON.parse(r.body))
        .filter((p) => p.cluster === cluster);
    const deadline = Date.now() + 60_000;
    while (warningsOf('half-hour').length === 0 && Date.now() < deadline) await sleep(100);
    const warnings = warningsOf('half-hour');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].data.warning, '1h');
    assert.ok(Math.abs(warnings[0].data.secondsLeft - 30 * 60) < 120, `${warnings[0].data.secondsLeft} s left`);
    // Passes go on every 250 ms; by the process's clock this cluster expired 90 minutes ago.
    await sleep(3000);
    const ops = (await h.api('GET', '/v1/clusters/half-hour/operations', { token: alpha })).body.items;
    assert.deepEqual(
      ops.map((o: any) => o.kind),
      ['provision'],
    );
    assert.equal(warningsOf('half-hour').length, 1, 'warned once');
  });
});
