import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import type { DriftPolicy } from '../../src/domain/cluster.js';
import type { OperationRecord } from '../../src/domain/operation.js';
import type { EngineResult } from '../../src/engine/engine.js';
import { driftFound, ENGINE_FAILED, ENGINE_SUCCEEDED } from './recording-ports.js';
import { admin, createBody, it, member, NOW, refusal, type World } from './support.js';

const alpha = member('alpha');
const beta = member('beta');

/**
 * alpha's cluster `name` under `policy`, provisioned, its updates ending as `updates` say, then one
 * drift check per result in `checks`, each run as a worker does; the last check and the cluster after it.
 */
async function checked(
  world: World,
  name: string,
  checks: EngineResult[],
  { policy = 'notify', updates = [] }: { policy?: DriftPolicy; updates?: EngineResult[] } = {},
) {
  const { operation } = await world.clusters.create(alpha, createBody(name, { driftPolicy: policy }));
  await world.run(operation.id, ENGINE_SUCCEEDED);
  for (const [i, outcome] of updates.entries())
    await world.run((await world.clusters.update(alpha, name, { labels: { n: String(i) } })).operation!.id, outcome);
  let check: OperationRecord | undefined;
  for (const result of checks) check = await world.run((await world.clusters.inspect(alpha, name, 'drift-check')).operation.id, result);
  return { check: check!, cluster: await world.clusters.get(alpha, name) };
}

describe('DriftService sweeps', () => {
  it('records a manual sweep running and hands it to the sweeps queue', async ({ world }) => {
    const sweep = await world.drift.startSweep(admin);
    assert.deepEqual(
      {
        status: sweep.status,
        trigger: sweep.trigger,
        requestedBy: sweep.requestedBy,
        maxConcurrent: sweep.maxConcurrent,
        finishedAt: sweep.finishedAt,
      },
      { status: 'running', trigger: 'manual', requestedBy: 'root', maxConcurrent: 4, finishedAt: null },
    );
    assert.deepEqual(world.ports.sweeps.started, [sweep.id]);
    assert.deepEqual(await world.drift.sweep(admin, sweep.id), sweep);
  });

  it('answers 409 naming the running sweep to a second one, and queues nothing more; once it ends the next may start', async ({
    world,
  }) => {
    const running = await world.drift.startSweep(admin);
    assert.deepEqual(await refusal(world.drift.startSweep(admin)), {
      status: 409,
      detail: `sweep ${running.id} is still running`,
      errors: [],
    });
    assert.deepEqual(world.ports.sweeps.started, [running.id]);
    await world.driftStore.finishSweep(running.id, { status: 'succeeded', skipped: [] });
    const next = await world.drift.startSweep(admin);
    assert.deepEqual(world.ports.sweeps.started, [running.id, next.id]);
  });

  it('refuses a team token (403) and records no sweep; a team reads no sweep either (404)', async ({ world }) => {
    assert.deepEqual(await refusal(world.drift.startSweep(alpha)), {
      status: 403,
      detail: 'running a fleet sweep needs an admin token',
      errors: [],
    });
    const sweep = await world.drift.startSweep(admin);
    assert.deepEqual(await refusal(world.drift.sweep(alpha, sweep.id)), { status: 404, detail: `no sweep ${sweep.id}`, errors: [] });
  });

  it('fails the sweep the queue could not take, so that it blocks no later sweep', async ({ world }) => {
    world.ports.sweeps.down = true;
    await assert.rejects(world.drift.startSweep(admin), /ECONNREFUSED/);
    world.ports.sweeps.down = false;
    const next = await world.drift.startSweep(admin);
    assert.deepEqual(world.ports.sweeps.started, [next.id]);
  });

  it('fails a running sweep that stopped heartbeating for longer than staleMs when the next one starts', async ({ world }) => {
    const drift = world.driftService({ staleMs: 0 });
    const silent = await drift.startSweep(admin);
    await drift.startSweep(admin);
    const ended = await drift.sweep(admin, silent.id);
    assert.deepEqual([ended.status, ended.error], ['failed', 'the process running the sweep stopped']);
  });
});

describe('DriftService reports', () => {
  it("gives a cluster's latest report and its history newest first, a page at a time", async ({ world }) => {
    await checked(world, 'watched', [driftFound('tags'), ENGINE_SUCCEEDED]);
    const first = await world.drift.forCluster(alpha, 'watched', 1);
    assert.deepEqual([first.latest?.status, first.history.items.map((r) => r.status)], ['clean', ['clean']]);
    const second = await world.drift.forCluster(alpha, 'watched', 1, first.history.nextCursor!);
    assert.deepEqual(
      [second.latest?.id, second.history.items.map((r) => r.status), second.history.nextCursor],
      [first.latest?.id, ['drifted'], null],
    );
    assert.deepEqual(
      second.history.items[0]?.resources.map((r) => [r.name, r.drift, r.properties]),
      [['main', 'cloud', ['tags']]],
    );
  });

  it("answers 404 for another team's cluster", async ({ world }) => {
    await checked(world, 'private', [driftFound()]);
    assert.deepEqual(await refusal(world.drift.forCluster(beta, 'private', 10)), {
      status: 404,
      detail: 'no cluster named "private"',
      errors: [],
    });
  });

  it('sums up the fleet: a team its own clusters whatever it asks for, an admin all or one team', async ({ world }) => {
    // Two clusters in each team, blueprint and state: the counts are added up, not merely seen.
    await checked(world, 'drifting', [driftFound()]);
    await checked(world, 'drifting-too', [driftFound()]);
    await world.clusters.create(beta, createBody('unchecked'));
    await world.clusters.create(beta, createBody('unchecked-too'));
    const counts = ({ clusters, checked: c, clean, drifted, failed, neverChecked }: Awaited<ReturnType<World['drift']['fleet']>>) => ({
      clusters,
      checked: c,
      clean,
      drifted,
      failed,
      neverChecked,
    });
    const alphaOnly = { clusters: 2, checked: 2, clean: 0, drifted: 2, failed: 0, neverChecked: 0 };
    const betaOnly = { clusters: 2, checked: 0, clean: 0, drifted: 0, failed: 0, neverChecked: 2 };
    assert.deepEqual(counts(await world.drift.fleet(alpha, 'beta')), alphaOnly);
    assert.deepEqual(counts(await world.drift.fleet(admin, 'beta')), betaOnly);
    const fleet = await world.drift.fleet(admin);
    assert.deepEqual(counts(fleet), { clusters: 4, checked: 2, clean: 0, drifted: 2, failed: 0, neverChecked: 2 });
    assert.deepEqual(fleet.byTeam, { alpha: alphaOnly, beta: betaOnly });
    assert.deepEqual(fleet.byBlueprint, { [createBody('x').blueprint]: counts(fleet) });
  });
});

/**
 * What follows a finished drift check under the cluster's drift policy: the report's remediation,
 * the `drift.*` webhook events, and the `remediate` operation. The outbox runs these reactions in
 * the service; here they run on the records a worker's run left.
 */
const identity = () => ({ driftEventId: randomUUID(), createdAt: new Date(NOW).toISOString() });

/** alpha's subscription to the drift events, at a public address. */
const subscribe = (world: World) =>
  world.webhooks
    .create(alpha, { url: 'https://93.184.215.14/hooks', events: ['drift.detected', 'drift.remediated'] })
    .then((s) => s.subscription.id);

const latestRemediation = async (world: World) => (await world.drift.forCluster(alpha, 'drifty', 1)).latest?.remediation;
const deliveries = async (world: World, subscription: string) =>
  (await world.webhooks.deliveries(alpha, subscription, 50)).items.map((d) => ({
    type: d.eventType,
    remediation: (d.payload.data as { remediation?: unknown }).remediation,
  }));
const queuedKinds = (world: World) => world.ports.operations.dispatched.map((o) => o.kind);

describe('the reactions to a drift check', () => {
  it('under policy none, file the report and do nothing more', async ({ world }) => {
    const subscription = await subscribe(world);
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'none' });
    await world.reactions.afterOperation(check, cluster, identity());
    assert.deepEqual(await latestRemediation(world), { action: 'none' });
    assert.deepEqual(await deliveries(world, subscription), []);
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check']);
  });

  it('under policy notify, tell the team of the drift and queue nothing', async ({ world }) => {
    const subscription = await subscribe(world);
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'notify' });
    await world.reactions.afterOperation(check, cluster, identity());
    assert.deepEqual(await latestRemediation(world), { action: 'notified' });
    assert.deepEqual(await deliveries(world, subscription), [{ type: 'drift.detected', remediation: { action: 'notified' } }]);
    assert.equal(world.ports.deliveries.queued.length, 1);
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check']);
  });

  it('under policy auto, queue one remediation and say so, even when the outbox runs the reactions again', async ({ world }) => {
    const subscription = await subscribe(world);
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'auto' });
    const same = identity();
    await world.reactions.afterOperation(check, cluster, same);
    await world.reactions.afterOperation(check, cluster, same);
    const remediate = world.ports.operations.dispatched.at(-1)!;
    assert.deepEqual([remediate.kind, remediate.requestedBy], ['remediate', 'clusterd (drift remediation)']);
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check', 'remediate']);
    const remediation = { action: 'remediating', operationId: remediate.id };
    assert.deepEqual(await latestRemediation(world), remediation);
    assert.deepEqual(await deliveries(world, subscription), [{ type: 'drift.detected', remediation }]);
  });

  it('under policy auto, skip the remediation while another change is pending', async ({ world }) => {
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'auto' });
    await world.clusters.update(alpha, 'drifty', { labels: { after: 'check' } });
    await world.reactions.afterOperation(check, cluster, identity());
    assert.deepEqual(await latestRemediation(world), {
      action: 'skipped',
      reason: 'another operation on the cluster is pending and will apply the desired spec',
    });
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check', 'update']);
  });

  it('under policy auto, skip the remediation of a cluster destroyed since its check, naming why', async ({ world }) => {
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'auto' });
    const { operation: destroy } = await world.clusters.destroy(alpha, 'drifty');
    await world.run(destroy.id, ENGINE_SUCCEEDED);
    await world.reactions.afterOperation(check, cluster, identity());
    assert.deepEqual(await latestRemediation(world), { action: 'skipped', reason: 'cluster "drifty" is destroyed' });
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check', 'destroy']);
  });

  it("under policy auto, skip the remediation while the cluster's last change failed", async ({ world }) => {
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'auto', updates: [ENGINE_FAILED] });
    await world.reactions.afterOperation(check, cluster, identity());
    const remediation = await latestRemediation(world);
    assert.equal(remediation?.action, 'skipped');
    assert.match(
      remediation?.reason ?? '',
      /^the last update \(operation [0-9a-f-]{36}\) failed; remediation resumes after a successful update$/,
    );
    assert.deepEqual(queuedKinds(world), ['provision', 'update', 'drift-check']);
  });

  it('do nothing for a clean check, whatever the policy', async ({ world }) => {
    const subscription = await subscribe(world);
    const { check, cluster } = await checked(world, 'drifty', [ENGINE_SUCCEEDED], { policy: 'auto' });
    await world.reactions.afterOperation(check, cluster, identity());
    const { latest } = await world.drift.forCluster(alpha, 'drifty', 1);
    assert.deepEqual([latest?.status, latest?.remediation], ['clean', { action: 'none' }]);
    assert.deepEqual(await deliveries(world, subscription), []);
    assert.deepEqual(queuedKinds(world), ['provision', 'drift-check']);
  });

  it('tell the team once the remediation succeeded', async ({ world }) => {
    const subscription = await subscribe(world);
    const { check, cluster } = await checked(world, 'drifty', [driftFound()], { policy: 'auto' });
    await world.reactions.afterOperation(check, cluster, identity());
    const remediated = await world.run(world.ports.operations.dispatched.at(-1)!.id, ENGINE_SUCCEEDED);
    await world.reactions.afterOperation(remediated, cluster, identity());
    assert.deepEqual(
      (await deliveries(world, subscription)).map((d) => d.type),
      ['drift.remediated', 'drift.detected'],
    );
  });
});
