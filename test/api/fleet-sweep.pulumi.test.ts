import assert from 'node:assert/strict';
import { describe } from 'vitest';
import { OUTPUTS_ONLY_BLUEPRINT, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const FLEET = 50;
const CAP = 2;

/** The largest number of intervals open at one instant. */
function maxOverlap(intervals: Array<[number, number]>): number {
  const edges = intervals
    .flatMap(
      ([a, b]) =>
        [
          [a, 1],
          [b, -1],
        ] as const,
    )
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

// The sweep's scheduling is under test, not a provider: stacks of outputs only cost half as much to run.
const it = harnessTest({
  env: {
    CLUSTERD_BLUEPRINT_MODULES: OUTPUTS_ONLY_BLUEPRINT,
    WORKER_CONCURRENCY: String(CAP + 2),
    DRIFT_MAX_CONCURRENT_CHECKS: String(CAP),
    DRIFT_SWEEP_POLL_MS: '100',
    DRIFT_SWEEP_CRON: 'off',
  },
});

describe(`a sweep over a fleet of ${FLEET} clusters, with the real engine`, () => {
  let h: Harness;
  const names = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);

  it.beforeAll(async ({ harness }) => {
    h = harness;
    const ops = [];
    for (const name of names) {
      const res = await h.api('POST', '/v1/clusters', {
        // Every check lasts at least its preview's 1.5 s, sleeping: longer than an operation waits for a free slot.
        body: {
          team: 'fleet',
          name,
          blueprint: 'outputs-only',
          spec: { version: '1.30', nodePools: [{ name: 'default', size: 1 }], previewDelayMs: 1500 },
        },
      });
      assert.equal(res.status, 202);
      ops.push(res.body.operation.id);
    }
    for (const id of ops) assert.equal((await h.waitFor(id, undefined, 600_000)).status, 'succeeded');
  });

  it('checks every cluster, never more than the cap at once, and never delays an operation someone asks for meanwhile', async () => {
    const sweep = (await h.api('POST', '/v1/drift/sweeps')).body;
    // Once the sweep is under way, someone changes a cluster it has not reached yet.
    let progress = sweep;
    while (progress.clean < 5) {
      await new Promise((r) => setTimeout(r, 200));
      progress = (await h.api('GET', `/v1/drift/sweeps/${sweep.id}`)).body;
    }
    const user = (await h.api('PATCH', `/v1/clusters/${names[FLEET - 1]}`, { body: { spec: { tags: { owner: 'someone' } } } })).body
      .operation;
    const userOp = await h.waitFor(user.id, undefined, 120_000);
    assert.equal(userOp.status, 'succeeded');
    while (progress.status === 'running') {
      await new Promise((r) => setTimeout(r, 500));
      progress = (await h.api('GET', `/v1/drift/sweeps/${sweep.id}`)).body;
    }
    assert.deepEqual(
      {
        status: progress.status,
        total: progress.total,
        clean: progress.clean,
        drifted: progress.drifted,
        failed: progress.failed,
        skipped: progress.skipped,
      },
      { status: 'succeeded', total: FLEET, clean: FLEET, drifted: 0, failed: 0, skipped: [] },
    );

    const checks = [];
    for (const name of names) {
      const ops = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items;
      checks.push(...ops.filter((o: any) => o.kind === 'drift-check'));
    }
    assert.equal(checks.length, FLEET, 'one check per cluster');
    const busy = checks.map((o: any): [number, number] => [Date.parse(o.queuedAt), Date.parse(o.finishedAt)]);
    assert.ok(maxOverlap(busy) <= CAP, `at most ${CAP} checks queued or running at once, saw ${maxOverlap(busy)}`);
    const shortestCheck = Math.min(...checks.map((o: any) => Date.parse(o.finishedAt) - Date.parse(o.startedAt)));
    const waited = Date.parse(userOp.startedAt) - Date.parse(userOp.queuedAt);
    assert.ok(
      waited < shortestCheck,
      `the update waited ${waited} ms, the shortest check ran ${shortestCheck} ms: it waited behind a check`,
    );
  });
});
