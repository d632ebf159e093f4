import assert from 'node:assert/strict';
import { describe } from 'vitest';
import { nextBatch } from '../../queue/lane-processor.js';
import { settledStatus } from '../../queue/outcome.js';
import { ENGINE_SUCCEEDED } from './recording-ports.js';
import { admin, createBody, it, member, type World } from './support.js';

/**
 * Which of a cluster's pending operations a worker runs next, and which it supersedes, decided over
 * operations the services really accepted (not hand-made records).
 */
const alpha = member('alpha');

/** The next batch of `name`'s lane, as kinds and ids. */
async function next(world: World, name: string) {
  const cluster = await world.clusters.get(admin, name);
  const batch = nextBatch(await world.store.pendingOperations(cluster.id));
  return batch && { run: batch.run, superseded: batch.superseded.map((o) => o.id) };
}

/** A cluster whose provision has run, so that its later operations queue behind nothing. */
async function provisioned(world: World, name: string) {
  const { operation } = await world.clusters.create(alpha, createBody(name));
  await world.run(operation.id, ENGINE_SUCCEEDED);
}

describe('the lane policy over accepted operations', () => {
  it('coalesces updates queued one after another into the newest, which carries the newest desired spec', async ({ world }) => {
    await provisioned(world, 'coalesced');
    const updates = [];
    for (const size of ['1', '2', '3']) updates.push((await world.clusters.update(alpha, 'coalesced', { labels: { size } })).operation!);
    const batch = await next(world, 'coalesced');
    const cluster = await world.clusters.get(alpha, 'coalesced');
    assert.deepEqual(batch?.superseded, [updates[0]!.id, updates[1]!.id]);
    assert.deepEqual([batch?.run.id, batch?.run.generation, batch?.run.spec], [updates[2]!.id, cluster.generation, cluster.spec]);
  });

  it('never lets updates swallow the destroy queued after them', async ({ world }) => {
    await provisioned(world, 'doomed');
    const first = (await world.clusters.update(alpha, 'doomed', { labels: { a: '1' } })).operation!;
    const second = (await world.clusters.update(alpha, 'doomed', { labels: { a: '2' } })).operation!;
    await world.clusters.destroy(alpha, 'doomed');
    assert.deepEqual(await next(world, 'doomed').then((b) => b && [b.run.id, b.superseded]), [second.id, [first.id]]);
  });

  it('runs a queued provision on its own before the updates accepted behind it', async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('young'));
    await world.clusters.update(alpha, 'young', { labels: { a: '1' } });
    assert.deepEqual(await next(world, 'young').then((b) => b && [b.run.id, b.superseded]), [operation.id, []]);
  });

  it('resumes a running update rather than superseding it with those queued since', async ({ world }) => {
    await provisioned(world, 'busy');
    const running = (await world.clusters.update(alpha, 'busy', { labels: { a: '1' } })).operation!;
    await world.start(running.id);
    await world.clusters.update(alpha, 'busy', { labels: { a: '2' } });
    assert.deepEqual(await next(world, 'busy').then((b) => b && [b.run.id, b.superseded]), [running.id, []]);
  });

  it("puts a sweep's drift check after what people asked for", async ({ world }) => {
    await provisioned(world, 'swept');
    const cluster = await world.clusters.get(alpha, 'swept');
    const sweep = await world.drift.startSweep(admin);
    const check = await world.store.enqueueOperation(cluster.id, {
      kind: 'drift-check',
      requestedBy: 'clusterd (drift sweep)',
      sweepId: sweep.id,
    });
    const { operation: preview } = await world.clusters.inspect(alpha, 'swept', 'preview');
    assert.equal((await next(world, 'swept'))?.run.id, preview.id);
    await world.run(preview.id, ENGINE_SUCCEEDED);
    assert.equal((await next(world, 'swept'))?.run.id, check.id);
  });

  it('leaves cancelled operations out, and has nothing to run once all are', async ({ world }) => {
    await provisioned(world, 'quiet');
    const update = (await world.clusters.update(alpha, 'quiet', { labels: { a: '1' } })).operation!;
    const { operation: preview } = await world.clusters.inspect(alpha, 'quiet', 'preview');
    await world.operations.cancel(alpha, update.id);
    assert.equal((await next(world, 'quiet'))?.run.id, preview.id);
    await world.operations.cancel(alpha, preview.id);
    assert.equal(await next(world, 'quiet'), null);
  });
});

describe('the status a lane settles a cluster to once nothing is left', () => {
  it('is failed for a cluster whose queued provision was cancelled: nothing was ever applied', async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('never-built'));
    await world.operations.cancel(alpha, operation.id);
    const cluster = await world.clusters.get(alpha, 'never-built');
    assert.deepEqual([cluster.status, settledStatus(cluster)], ['provisioning', 'failed']);
  });

  it('is ready for a built cluster whose queued destroy was cancelled', async ({ world }) => {
    await provisioned(world, 'spared');
    const { operation } = await world.clusters.destroy(alpha, 'spared');
    await world.operations.cancel(alpha, operation.id);
    const cluster = await world.clusters.get(alpha, 'spared');
    assert.deepEqual([cluster.status, settledStatus(cluster)], ['destroying', 'ready']);
  });

  it('is left as it is for a cluster that promises no work in progress', async ({ world }) => {
    await provisioned(world, 'steady');
    const cluster = await world.clusters.get(alpha, 'steady');
    assert.deepEqual([cluster.status, settledStatus(cluster)], ['ready', null]);
  });
});
