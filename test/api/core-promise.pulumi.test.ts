import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { jobProcessesOf, statusEvents } from '../support/processes.js';
import { openStream } from '../support/sse-client.js';
import { startPrivatePostgres } from '../support/private-postgres.js';
import { localSpec, outputsOnlySpec, startHarness, stopAll, WITH_OUTPUTS_ONLY, type Harness } from '../support/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Where only the lanes are under test, not a provider: stacks of outputs only (no plugin), at half the
 * cost of a local-files run. Runs that must leave a lock or pending operations behind use local-files.
 */
const outputsOnly = (previewDelayMs = 0) => ({ blueprint: 'outputs-only', spec: outputsOnlySpec({ previewDelayMs }) });

async function create(h: Harness, name: string, spec: unknown = localSpec(), blueprint = 'local-files') {
  const res = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint, spec } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.operation.id as string;
}

async function succeeded(h: Harness, id: string, timeoutMs = 180_000) {
  const op = await h.waitFor(id, undefined, timeoutMs);
  assert.equal(op.status, 'succeeded', `${op.kind} ${id}: ${JSON.stringify(op.error)}`);
  return op;
}

const statusesOf = async (h: Harness, id: string) => statusEvents((await h.api('GET', `/v1/operations/${id}/events`)).body as string);

/** Waits until the engine has announced an update step: from then on it is inside the slow resource. */
async function updateStepStarted(h: Harness, id: string) {
  const stream = await openStream(`${h.url}/v1/operations/${id}/events`, h.adminToken);
  try {
    await stream.waitFor((text) => /"resourcePreEvent":\{"metadata":\{"op":"update"/.test(text), 60_000);
  } finally {
    stream.close();
  }
}

/**
 * The core promise under load and attack: an operation never runs twice at once, a finished one never
 * loses its result, and an interrupted one never wedges its cluster.
 */
describe('the core promise under load', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    await stopAll(harnesses);
  });

  it('drains 16 previews queued back to back through a 3 s lease, running each exactly once', async () => {
    // Two worker processes and a reconciler every 2 s: plenty of would-be takers for a lane held too long.
    const h = await startHarness({ workers: 2, env: { WORKER_LANE_LEASE_MS: '3000', ...WITH_OUTPUTS_ONLY } });
    harnesses.push(h);
    // Each preview sleeps 0.6 s: the drain lasts longer than the lease whatever the machine's speed.
    const { blueprint, spec } = outputsOnly(600);
    await succeeded(h, await create(h, 'long-drain', spec, blueprint));
    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await h.api('POST', '/v1/clusters/long-drain/preview');
      assert.equal(res.status, 202);
      ids.push(res.body.operation.id);
    }
    for (const id of ids) {
      const op = await succeeded(h, id);
      assert.equal(op.attempts, 1, `preview ${id} ran ${op.attempts} times`);
      const running = (await statusesOf(h, id)).filter((e) => e.status === 'running');
      assert.equal(running.length, 1, `preview ${id} started ${running.length} times`);
    }
    const drainMs = Date.now() - t0;
    console.log(`[core-promise] 16 previews drained in ${drainMs} ms through a 3000 ms lease`);
    assert.ok(drainMs > 9000, 'the drain outlasted the lease several times over');
  });

  it('finishes twelve provisions at once on four slots with every result kept, twice over', async () => {
    const h = await startHarness({ env: { WORKER_CONCURRENCY: '4', ...WITH_OUTPUTS_ONLY } });
    harnesses.push(h);
    const names = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
    const { blueprint, spec } = outputsOnly();
    const provisions = await Promise.all(names.map((n) => create(h, n, spec, blueprint)));
    for (const id of provisions) await succeeded(h, id, 300_000);
    const updates = await Promise.all(
      names.map(
        async (n) =>
          (await h.api('PATCH', `/v1/clusters/${n}`, { body: { spec: { nodePools: [{ name: 'default', size: 3 }] } } })).body.operation
            .id as string,
      ),
    );
    for (const id of updates) await succeeded(h, id, 300_000);
    for (const name of names) {
      const cluster = (await h.api('GET', `/v1/clusters/${name}`)).body;
      assert.deepEqual(
        {
          status: cluster.status,
          applied: cluster.appliedGeneration,
          size: cluster.appliedSpec?.nodePools?.[0]?.size,
          at: cluster.outputs.endpoint,
        },
        { status: 'ready', applied: 2, size: 3, at: `outputs-only://${name}` },
        `${name} kept the result of its last run`,
      );
    }
  });

  it('recovers the stack after a killed run followed by more than ten queued operations, read-only first', async () => {
    const h = await startHarness({ env: { WORKER_CANCEL_GRACE_MS: '1000' } });
    harnesses.push(h);
    await succeeded(h, await create(h, 'wedge'));
    const slow = (await h.api('PATCH', '/v1/clusters/wedge', { body: { spec: { delayMs: 60_000, tags: { slow: 'yes' } } } })).body.operation
      .id as string;
    await h.waitFor(slow, ['running']);
    // Cancelled before its update step begins, the engine would stop cleanly inside the grace and leave no lock.
    await updateStepStarted(h, slow);
    await sleep(500);
    assert.equal((await h.api('POST', `/v1/operations/${slow}/cancel`)).status, 202);
    const previews: string[] = [];
    for (let i = 0; i < 11; i++) previews.push((await h.api('POST', '/v1/clusters/wedge/preview')).body.operation.id);
    const fix = (await h.api('PATCH', '/v1/clusters/wedge', { body: { spec: { delayMs: 0, nodePools: [{ name: 'default', size: 3 }] } } }))
      .body.operation.id as string;

    const killed = await h.waitFor(slow, undefined, 60_000);
    assert.deepEqual({ status: killed.status, code: killed.error?.code }, { status: 'cancelled', code: 'engine-killed' });
    for (const id of previews) await succeeded(h, id);
    assert.equal((await statusesOf(h, previews[0]!))[0]?.recover, true, 'the first run after the kill recovers the stack');
    assert.equal((await statusesOf(h, previews[1]!))[0]?.recover, false, 'and the mark is cleared by its clean end');
    await succeeded(h, fix);
  });

  it('stops the engine before its lease lapses while the record store is paused, then runs the operation again with recovery', async () => {
    const pg = await startPrivatePostgres();
    try {
      const h = await startHarness({ workers: 1, databaseServer: pg.url, env: { WORKER_LANE_LEASE_MS: '3000' } });
      harnesses.push(h);
      await succeeded(h, await create(h, 'paused'));
      const update = (await h.api('PATCH', '/v1/clusters/paused', { body: { spec: { delayMs: 10_000, tags: { v: '2' } } } })).body.operation
        .id as string;
      await h.waitFor(update, ['running']);
      const deadline = Date.now() + 20_000;
      while (!jobProcessesOf(h.dataDir).some((p) => /dynamic-provider/.test(p.cmd)) && Date.now() < deadline) await sleep(200);
      assert.ok(jobProcessesOf(h.dataDir).length > 0, 'the engine is running');

      pg.pause();
      const pausedAt = Date.now();
      let stoppedAfterMs = -1;
      while (Date.now() - pausedAt < 9000) {
        if (stoppedAfterMs < 0 && jobProcessesOf(h.dataDir).length === 0) stoppedAfterMs = Date.now() - pausedAt;
        await sleep(100);
      }
      const leftovers = jobProcessesOf(h.dataDir);
      pg.resume();
      console.log(`[core-promise] engine gone ${stoppedAfterMs} ms after the store was paused (lease 3000 ms)`);
      assert.deepEqual(leftovers, [], 'the engine outlived a lease it could not renew');
      assert.ok(stoppedAfterMs >= 0 && stoppedAfterMs < 5000, `the engine stopped ${stoppedAfterMs} ms into the pause`);

      const op = await succeeded(h, update);
      assert.equal(op.attempts, 2);
      const running = (await statusesOf(h, update)).filter((e) => e.status === 'running');
      assert.deepEqual(
        running.map((e) => e.recover),
        [false, true],
        'the second attempt recovers the stack',
      );
      const next = (await h.api('PATCH', '/v1/clusters/paused', { body: { spec: { delayMs: 0, tags: { v: '3' } } } })).body.operation
        .id as string;
      await succeeded(h, next);
      await h.stop();
      harnesses.pop();
    } finally {
      pg.stop();
    }
  });

  it("stops the engine of a SIGKILLed worker before that worker's lease can lapse, then runs the operation again with recovery", async () => {
    // Found by the chaos run (npm run chaos): with a short lease, an orphaned run cancelled gracefully for
    // a fixed 8 s, long after another worker could take the lane over.
    const leaseMs = 3000;
    const h = await startHarness({ workers: 1, env: { WORKER_LANE_LEASE_MS: String(leaseMs) } });
    harnesses.push(h);
    const provision = await create(h, 'orphaned', localSpec({ delayMs: 6000 }));
    await h.waitFor(provision, ['running']);
    const deadline = Date.now() + 60_000;
    while (!jobProcessesOf(h.dataDir).some((p) => /dynamic-provider/.test(p.cmd)) && Date.now() < deadline) await sleep(100);
    assert.ok(
      jobProcessesOf(h.dataDir).some((p) => /dynamic-provider/.test(p.cmd)),
      'the engine is creating resources',
    );

    const victim = h.workers[0]!;
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => (victim.exitCode !== null || victim.signalCode !== null ? r(null) : victim.once('exit', r)));
    let goneAfterMs = -1;
    while (Date.now() - killedAt < 20_000) {
      if (jobProcessesOf(h.dataDir).length === 0) {
        goneAfterMs = Date.now() - killedAt;
        break;
      }
      await sleep(50);
    }
    console.log(`[core-promise] orphaned engine gone ${goneAfterMs} ms after its worker was SIGKILLed (lease ${leaseMs} ms)`);
    assert.ok(
      goneAfterMs >= 0 && goneAfterMs < leaseMs,
      `the orphaned engine lived ${goneAfterMs} ms after the kill; another worker may take the lane ${leaseMs} ms after it at the latest`,
    );

    await h.spawnWorker();
    const op = await succeeded(h, provision);
    assert.equal(op.attempts, 2);
    const running = (await statusesOf(h, provision)).filter((e) => e.status === 'running');
    assert.deepEqual(
      running.map((e) => e.recover),
      [false, true],
      'the second attempt recovers the stack',
    );
  });
});
