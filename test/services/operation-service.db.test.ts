import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import { ENGINE_SUCCEEDED } from './recording-ports.js';
import { admin, createBody, it, member, refusal } from './support.js';

const alpha = member('alpha');
const beta = member('beta');

describe('OperationService reads', () => {
  it("shows a team its own operations; another team's answer 404 like an unknown id", async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('alpha-one'));
    assert.equal((await world.operations.get(alpha, operation.id)).id, operation.id);
    assert.equal((await world.operations.get(admin, operation.id)).id, operation.id);
    assert.deepEqual(await refusal(world.operations.get(beta, operation.id)), {
      status: 404,
      detail: `no operation with id ${operation.id}`,
      errors: [],
    });
    const unknown = randomUUID();
    assert.deepEqual(await refusal(world.operations.get(alpha, unknown)), {
      status: 404,
      detail: `no operation with id ${unknown}`,
      errors: [],
    });
  });

  it("lists a cluster's operations newest first, a page at a time; another team's cluster answers 404", async ({ world }) => {
    await world.clusters.create(alpha, createBody('paged'));
    await world.clusters.update(alpha, 'paged', { labels: { a: '1' } });
    await world.clusters.inspect(alpha, 'paged', 'preview');
    const first = await world.operations.listForCluster(alpha, 'paged', 2);
    assert.deepEqual(
      first.items.map((o) => o.kind),
      ['preview', 'update'],
    );
    const second = await world.operations.listForCluster(alpha, 'paged', 2, first.nextCursor!);
    assert.deepEqual([second.items.map((o) => o.kind), second.nextCursor], [['provision'], null]);
    assert.equal((await refusal(world.operations.listForCluster(beta, 'paged', 2))).status, 404);
  });
});

describe('OperationService.cancel', () => {
  it('cancels a queued operation at once, tells the queue so the lane settles, and has its event sent', async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('queued-one'));
    const cancelled = await world.operations.cancel(alpha, operation.id);
    assert.deepEqual([cancelled.status, cancelled.cancelRequested], ['cancelled', true]);
    assert.ok(cancelled.finishedAt);
    assert.deepEqual(
      world.ports.operations.dispatched.map((o) => `${o.id}:${o.status}`),
      [`${operation.id}:queued`, `${operation.id}:cancelled`],
    );
    assert.deepEqual(world.ports.cancelled, [operation.id]);
  });

  it('flags a running operation for its worker to stop, and leaves it running', async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('running-one'));
    await world.start(operation.id);
    const flagged = await world.operations.cancel(alpha, operation.id);
    assert.deepEqual([flagged.status, flagged.cancelRequested, flagged.finishedAt], ['running', true, null]);
    assert.equal(world.ports.operations.dispatched.length, 1, 'the worker running it is told by the flag, not the queue');
    assert.deepEqual(world.ports.cancelled, []);
  });

  it('answers 409 for an operation already finished or cancelled, and changes nothing', async ({ world }) => {
    const { operation: provision } = await world.clusters.create(alpha, createBody('done-one'));
    await world.run(provision.id, ENGINE_SUCCEEDED);
    const { operation: preview } = await world.clusters.inspect(alpha, 'done-one', 'preview');
    await world.operations.cancel(alpha, preview.id);
    const before = await world.records();
    assert.deepEqual(await refusal(world.operations.cancel(alpha, provision.id)), {
      status: 409,
      detail: `operation ${provision.id} is already succeeded; nothing to cancel`,
      errors: [],
    });
    assert.deepEqual(await refusal(world.operations.cancel(alpha, preview.id)), {
      status: 409,
      detail: `operation ${preview.id} is already cancelled; nothing to cancel`,
      errors: [],
    });
    assert.deepEqual(await world.records(), before);
    assert.deepEqual(world.ports.cancelled, [preview.id]);
  });

  it("answers 404 to another team's cancel and leaves the operation queued", async ({ world }) => {
    const { operation } = await world.clusters.create(alpha, createBody('theirs'));
    assert.equal((await refusal(world.operations.cancel(beta, operation.id))).status, 404);
    assert.deepEqual([(await world.operations.get(alpha, operation.id)).status, world.ports.cancelled], ['queued', []]);
  });

  it('lets a cluster be changed again once its queued destroy is cancelled', async ({ world }) => {
    await world.clusters.create(alpha, createBody('reprieved'));
    const { operation: destroy } = await world.clusters.destroy(alpha, 'reprieved');
    await world.operations.cancel(alpha, destroy.id);
    const { operation } = await world.clusters.update(alpha, 'reprieved', { labels: { kept: 'yes' } });
    assert.equal(operation?.kind, 'update');
  });
});
