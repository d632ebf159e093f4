import assert from 'node:assert/strict';
import { describe } from 'vitest';
import { localSpec, outputsOnlySpec, WITH_OUTPUTS_ONLY, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const create = (h: Harness, name: string, spec: Record<string, unknown>, blueprint = 'outputs-only') =>
  h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint, spec } });

// The order of runs is under test, not a provider: stacks of outputs only, whose runs wait without a
// plugin, except where the engine must be cancelled inside a resource.
const it = harnessTest({ env: { WORKER_CONCURRENCY: '2', ...WITH_OUTPUTS_ONLY } });

describe('scheduling: order per cluster, parallel across clusters, coalescing, cancel', () => {
  let h: Harness;
  it.beforeAll(({ harness }) => {
    h = harness;
  });

  it('runs two clusters in parallel', async () => {
    const a = await create(h, 'par-a', outputsOnlySpec({ delayMs: 3000 }));
    const b = await create(h, 'par-b', outputsOnlySpec({ delayMs: 3000 }));
    const [opA, opB] = await Promise.all([h.waitFor(a.body.operation.id), h.waitFor(b.body.operation.id)]);
    assert.equal(opA.status, 'succeeded', JSON.stringify(opA.error));
    assert.equal(opB.status, 'succeeded', JSON.stringify(opB.error));
    const overlap =
      Math.min(Date.parse(opA.finishedAt), Date.parse(opB.finishedAt)) - Math.max(Date.parse(opA.startedAt), Date.parse(opB.startedAt));
    assert.ok(overlap > 1000, `runs did not overlap (${overlap} ms)`);
  });

  it('runs one cluster in order, coalesces queued updates, and never swallows a destroy', async () => {
    const provision = await create(h, 'order-one', outputsOnlySpec({ delayMs: 2500 }));
    await h.waitFor(provision.body.operation.id, ['running']);
    const patch = (size: number) =>
      h.api('PATCH', '/v1/clusters/order-one', { body: { spec: { delayMs: 0, nodePools: [{ name: 'default', size }] } } });
    const u1 = await patch(3);
    const u2 = await patch(4);
    const u3 = await patch(5);
    const preview = await h.api('POST', '/v1/clusters/order-one/preview');
    const u4 = await patch(6);
    const destroy = await h.api('DELETE', '/v1/clusters/order-one');
    const ids = [provision, u1, u2, u3, preview, u4, destroy].map((r) => r.body.operation.id);
    const ops = [];
    for (const id of ids) ops.push(await h.waitFor(id));
    assert.deepEqual(
      ops.map((o) => o.status),
      ['succeeded', 'superseded', 'superseded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'],
    );
    assert.equal(ops[1].supersededBy, ids[3]);
    assert.equal(ops[2].supersededBy, ids[3]);
    const ran = ops.filter((o) => o.startedAt);
    for (let i = 1; i < ran.length; i++)
      assert.ok(Date.parse(ran[i].startedAt) >= Date.parse(ran[i - 1].finishedAt), `operation ${i} overlapped the one before`);
    assert.equal((await h.api('GET', '/v1/clusters/order-one')).body.status, 'destroyed');
  });

  it('cancels a queued operation so that it never runs', async () => {
    const provision = await create(h, 'cancel-q', outputsOnlySpec({ delayMs: 2000 }));
    const preview = await h.api('POST', '/v1/clusters/cancel-q/preview');
    const cancel = await h.api('POST', `/v1/operations/${preview.body.operation.id}/cancel`);
    assert.equal(cancel.status, 202);
    assert.equal(cancel.body.status, 'cancelled');
    assert.equal((await h.waitFor(provision.body.operation.id)).status, 'succeeded');
    const after = (await h.api('GET', `/v1/operations/${preview.body.operation.id}`)).body;
    assert.equal(after.status, 'cancelled');
    assert.equal(after.startedAt, null);
  });

  it('settles a cluster whose queued provision was cancelled to failed, and a later update provisions it', async () => {
    // Both workers busy, so that the new cluster's provision stays queued.
    const busy = [
      await create(h, 'busy-a', outputsOnlySpec({ delayMs: 4000 })),
      await create(h, 'busy-b', outputsOnlySpec({ delayMs: 4000 })),
    ];
    await Promise.all(busy.map((b) => h.waitFor(b.body.operation.id, ['running'])));
    const late = await create(h, 'never-built', outputsOnlySpec());
    const cancel = await h.api('POST', `/v1/operations/${late.body.operation.id}/cancel`);
    assert.equal(cancel.body.status, 'cancelled');
    for (const b of busy) await h.waitFor(b.body.operation.id);
    const deadline = Date.now() + 30_000;
    while ((await h.api('GET', '/v1/clusters/never-built')).body.status !== 'failed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    assert.equal((await h.api('GET', '/v1/clusters/never-built')).body.status, 'failed');
    const update = await h.waitFor((await h.api('PATCH', '/v1/clusters/never-built', { body: { spec: {} } })).body.operation.id);
    assert.equal(update.status, 'succeeded', JSON.stringify(update.error));
    assert.equal((await h.api('GET', '/v1/clusters/never-built')).body.status, 'ready');
  });

  it('cancels a running operation through the engine and leaves the stack usable', async () => {
    const provision = await create(h, 'cancel-r', localSpec({ delayMs: 60_000 }), 'local-files');
    await h.waitFor(provision.body.operation.id, ['running']);
    await new Promise((r) => setTimeout(r, 3000));
    const cancel = await h.api('POST', `/v1/operations/${provision.body.operation.id}/cancel`);
    assert.equal(cancel.status, 202);
    assert.equal(cancel.body.cancelRequested, true);
    const op = await h.waitFor(provision.body.operation.id, ['cancelled', 'failed', 'succeeded'], 60_000);
    assert.equal(op.status, 'cancelled', JSON.stringify(op.error));
    const retry = await h.api('PATCH', '/v1/clusters/cancel-r', { body: { spec: { delayMs: 0 } } });
    const next = await h.waitFor(retry.body.operation.id);
    assert.equal(next.status, 'succeeded', JSON.stringify(next.error));
    assert.equal((await h.api('GET', '/v1/clusters/cancel-r')).body.status, 'ready');
  });
});
