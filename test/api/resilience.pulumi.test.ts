import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { localSpec, startHarness, stopAll, type Harness } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { startPrivatePostgres } from '../support/private-postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/** Pulumi CLI processes whose command line or environment mentions this data directory. */
function pulumiProcessesOf(dataDir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /\bpulumi\b/.test(l) && !l.includes('node '))
    .filter((l) => {
      const pid = l.trim().split(/\s+/)[0];
      try {
        return execFileSync('cat', [`/proc/${pid}/environ`], { encoding: 'latin1' }).includes(dataDir);
      } catch {
        return false;
      }
    });
}

describe('resilience: crashes and restarts lose nothing', () => {
  const harnesses: Harness[] = [];
  const cleanups: Array<() => void> = [];
  afterAll(async () => {
    await stopAll(harnesses);
    for (const cleanup of cleanups) cleanup();
  });

  it('takes up an operation whose worker was SIGKILLed mid-run, and the next operation works', async () => {
    const h = await startHarness({ workers: 1 });
    harnesses.push(h);
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'crash-one', blueprint: 'local-files', spec: localSpec({ delayMs: 6000 }) },
    });
    await h.waitFor(res.body.operation.id, ['running']);
    await sleep(2500);
    const victim = h.workers[0]!;
    victim.kill('SIGKILL');
    await exited(victim);
    // The killed worker's job process notices and takes its pulumi processes down with it.
    const deadline = Date.now() + 20_000;
    while (pulumiProcessesOf(h.dataDir).length && Date.now() < deadline) await sleep(500);
    assert.deepEqual(pulumiProcessesOf(h.dataDir), [], 'a pulumi process outlived its worker');
    await h.spawnWorker();
    const op = await h.waitFor(res.body.operation.id, ['succeeded', 'failed'], 120_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.attempts, 2);
    const update = await h.api('PATCH', '/v1/clusters/crash-one', {
      body: { spec: { delayMs: 0, nodePools: [{ name: 'default', size: 3 }] } },
    });
    const next = await h.waitFor(update.body.operation.id);
    assert.equal(next.status, 'succeeded', JSON.stringify(next.error));
  });

  it('drains on SIGTERM: the running operation is stopped cleanly, requeued, and finished by another worker', async () => {
    const h = await startHarness({ workers: 1, env: { WORKER_SHUTDOWN_GRACE_MS: '1000' } });
    harnesses.push(h);
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'drain-one', blueprint: 'local-files', spec: localSpec({ delayMs: 8000 }) },
    });
    await h.waitFor(res.body.operation.id, ['running']);
    await sleep(1500);
    const worker = h.workers[0]!;
    worker.kill('SIGTERM');
    await exited(worker);
    assert.equal(worker.exitCode, 0);
    assert.equal((await h.api('GET', `/v1/operations/${res.body.operation.id}`)).body.status, 'queued');
    await h.spawnWorker();
    const op = await h.waitFor(res.body.operation.id, ['succeeded', 'failed'], 120_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  });

  it('keeps an accepted request through a restart of the record store (PostgreSQL)', async () => {
    // A server of its own: the shared one serves the test files running beside this one.
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.stop());
    const h = await startHarness({ workers: 0, databaseServer: pg.url });
    harnesses.push(h);
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'pg-restart', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202);
    await pg.shutDown();
    // An outage to wait out, said as one: 503 with Retry-After, never a 500.
    const down = await h.api('GET', '/v1/clusters/pg-restart');
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.headers.get('retry-after'), '2');
    assert.equal(down.body.title, 'Temporarily unavailable');
    assert.equal((await h.api('POST', '/v1/clusters/pg-restart/preview')).status, 503);
    await pg.startAgain();
    assert.equal((await h.api('GET', '/v1/clusters/pg-restart')).status, 200);
    await h.spawnWorker();
    const op = await h.waitFor(res.body.operation.id, ['succeeded', 'failed'], 120_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  });

  it('keeps requests accepted before and during a Redis outage', async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-redis-'));
    const startRedis = () =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], {
        stdio: 'ignore',
      });
    let redis = startRedis();
    await sleep(500);
    const h = await startHarness({ workers: 0, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    harnesses.push(h);
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'redis-one', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202);
    redis.kill('SIGTERM');
    await exited(redis);
    // Accepted while Redis is down: answered from the records at once, queued by the reconciler later.
    const t0 = Date.now();
    const during = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'redis-two', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(during.status, 202);
    assert.ok(Date.now() - t0 < 2000, `the request waited ${Date.now() - t0} ms for Redis`);
    assert.equal((await fetch(`${h.url}/readyz`)).status, 503);
    redis = startRedis();
    await sleep(500);
    await h.spawnWorker();
    for (const id of [res.body.operation.id, during.body.operation.id]) {
      const op = await h.waitFor(id, ['succeeded', 'failed'], 120_000);
      assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    }
    await h.stop();
    harnesses.pop();
    redis.kill('SIGTERM');
    await exited(redis);
    await rm(dir, { recursive: true, force: true });
  });
});
