import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { closeRedis, connectRedis } from '../../src/redis.js';
import { localSpec, redisUrl, startHarness, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { startPrivatePostgres } from '../support/private-postgres.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';
import { openStream } from '../support/sse-client.js';

const it = harnessTest({
  env: { ...ALLOW_LOOPBACK_RECEIVERS, WORKER_CONCURRENCY: '4', ROLLOUT_DRIVER_INTERVAL_MS: '200', WEBHOOK_BACKOFF_MS: '50' },
});
const ROLLOUT_WEBHOOKS = ['rollout.started', 'rollout.stage-completed', 'rollout.awaiting-approval', 'rollout.halted', 'rollout.finished'];

/** Subscribes a receiver's `path` to every rollout webhook, with `token`'s team. */
async function subscribe(h: Harness, token: string, receiver: Receiver, path: string) {
  const res = await h.api('POST', '/v1/webhooks', { token, body: { url: receiver.url(path), events: ROLLOUT_WEBHOOKS } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

/** The webhook events `path` received, in the rollout's event order. */
async function rolloutWebhooks(receiver: Receiver, path: string, count: number) {
  const bodies = (await receiver.waitFor(path, count, 30_000)).map((r) => JSON.parse(r.body));
  return bodies.sort((a, b) => a.data.event.seq - b.data.event.seq);
}

/** The frames of a Server-Sent Events text: id, event and the parsed data of each. */
function framesOf(text: string): Array<{ id?: number; event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: '))
    .map((block) => {
      const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
      const id = field('id');
      return { ...(id ? { id: Number(id) } : {}), event: field('event')!, data: JSON.parse(field('data')!) };
    });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates the clusters (team alpha, the test blueprint) and waits until every one is provisioned. */
async function provision(h: Harness, token: string, clusters: Array<{ name: string; labels: Record<string, string>; spec?: object }>) {
  const ops = [];
  for (const c of clusters) {
    const res = await h.api('POST', '/v1/clusters', {
      token,
      body: { name: c.name, blueprint: 'local-files', labels: c.labels, spec: c.spec ?? localSpec() },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ops.push(res.body.operation.id as string);
  }
  for (const id of ops) assert.equal((await h.waitFor(id)).status, 'succeeded');
}

/** Polls the rollout until `done` holds of it. */
async function until(h: Harness, id: string, done: (r: any) => boolean, timeoutMs = 180_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await h.api('GET', `/v1/rollouts/${id}`);
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`rollout ${id} never got there: ${JSON.stringify(body)}`);
    await sleep(200);
  }
}

/** The most operations of `ops` running at once, from their start and finish times. */
function mostAtOnce(ops: Array<{ startedAt: string; finishedAt: string }>): number {
  const edges = ops.flatMap((o) => [
    { at: Date.parse(o.startedAt), d: 1 },
    { at: Date.parse(o.finishedAt), d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

/**
 * An upgrade rollout to 1.31 over `count` clusters labelled `set: <set>` whose updates take 1.5 s, two
 * at once, disrupted by `disrupt` once `ready` holds of it (a member under way by default). Checks that
 * it completed with every member changed by exactly one update and nothing else queued on its
 * clusters; returns the finished rollout.
 */
async function survives(
  h: Harness,
  set: string,
  count: number,
  disrupt: (id: string) => Promise<void>,
  ready: (r: any) => boolean = (r) => r.counts.running >= 1,
): Promise<any> {
  const token = await h.teamToken('alpha');
  const names = Array.from({ length: count }, (_, i) => `${set}-${i + 1}`);
  await provision(
    h,
    token,
    names.map((name) => ({ name, labels: { set }, spec: localSpec({ delayMs: 1500 }) })),
  );
  const created = await h.api('POST', '/v1/rollouts', {
    token,
    body: {
      name: `survives-${set}`,
      selector: { blueprint: 'local-files', labels: { set } },
      change: { upgrade: { version: '1.31' } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 2 }] },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  await until(h, id, ready);
  await disrupt(id);
  const done = await until(h, id, (r) => r.status === 'succeeded', 240_000);
  for (const m of done.members) {
    assert.equal(m.operations.length, 1, `${m.cluster}: ${JSON.stringify(m.operations)}`);
    expect((await h.api('GET', `/v1/operations/${m.operations[0]}`)).body).toMatchObject({ kind: 'update', status: 'succeeded' });
    expect((await h.api('GET', `/v1/clusters/${m.cluster}`)).body.appliedSpec.version).toBe('1.31');
  }
  for (const name of names) {
    const ops = (await h.api('GET', `/v1/clusters/${name}/operations`)).body.items;
    expect(ops.map((o: any) => o.kind).sort()).toEqual(['provision', 'update']);
  }
  return done;
}

describe('fleet rollouts, with the real engine', () => {
  it('upgrades twelve clusters in three stages: in order, never over a stage cap, soaking, and held for an approval that neither its starter nor a plain member can give', async ({
    harness: h,
  }) => {
    const starter = await h.teamToken('alpha');
    const approver = await h.teamToken('alpha', 'approver');
    const member = await h.teamToken('alpha');
    const rings = ['canary', 'canary', 'wave', 'wave', 'wave', 'wave', '', '', '', '', '', ''];
    await provision(
      h,
      starter,
      rings.map((ring, i) => ({
        name: `fleet-${String(i + 1).padStart(2, '0')}`,
        labels: { fleet: 'one', ...(ring ? { ring } : {}) },
      })),
    );
    const body = {
      name: 'to-1-31',
      selector: { blueprint: 'local-files', labels: { fleet: 'one' } },
      change: { upgrade: { version: '1.31' } },
      strategy: {
        stages: [
          { name: 'canary', selector: { ring: 'canary' }, maxConcurrency: 1, soak: '3s', approval: true },
          { name: 'wave', selector: { ring: 'wave' }, maxConcurrency: 2 },
          { name: 'rest', maxConcurrency: '50%' },
        ],
      },
    };
    const preview = await h.api('POST', '/v1/rollouts/preview', { token: starter, body });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    expect(preview.body.stages.map((s: any) => [s.name, s.maxConcurrency, s.members.length])).toEqual([
      ['canary', 1, 2],
      ['wave', 2, 4],
      ['rest', 3, 6],
    ]);
    expect(preview.body.stages[0].members[0]).toEqual({
      cluster: 'fleet-01',
      steps: [{ title: 'control plane to 1.31', patch: { version: '1.31' } }],
      specAfter: localSpec({ version: '1.31' }),
    });
    assert.equal((await h.api('GET', '/v1/rollouts', { token: starter })).body.items.length, 0, 'a preview records nothing');

    const receiver = await startReceiver();
    await subscribe(h, starter, receiver, '/alpha');
    const created = await h.api('POST', '/v1/rollouts', { token: starter, body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), `/v1/rollouts/${created.body.id}`);
    const id = created.body.id as string;
    // Followed live from its creation to its end.
    const live = await openStream(`${h.url}/v1/rollouts/${id}/events`, starter);
    assert.equal(live.status, 200);
    // A cluster is in one unfinished rollout at a time.
    const again = await h.api('POST', '/v1/rollouts', { token: starter, body });
    assert.equal(again.status, 409);
    assert.match(again.body.detail, new RegExp(`"fleet-01" is in rollout to-1-31 \\(${id}\\)`));

    const waiting = await until(h, id, (r) => r.status === 'awaiting-approval');
    expect(waiting.stages.map((s: any) => s.status)).toEqual(['awaiting-approval', 'pending', 'pending']);
    expect(waiting.counts).toMatchObject({ succeeded: 2, pending: 10 });
    const canaryDone = Math.max(...waiting.members.filter((m: any) => m.stage === 'canary').map((m: any) => Date.parse(m.finishedAt)));
    assert.ok(Date.parse(waiting.stages[0].soakUntil) - canaryDone >= 2_900, 'the canary stage soaked for its 3 s');
    const refused = await h.api('POST', `/v1/rollouts/${id}/approve`, { token: starter });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    // Nor may a plain member of the team: approving takes an approver (or an admin).
    const notApprover = await h.api('POST', `/v1/rollouts/${id}/approve`, { token: member });
    assert.equal(notApprover.status, 403, JSON.stringify(notApprover.body));
    assert.match(notApprover.body.detail, /a member token cannot approve/);
    await sleep(1_500);
    const held = (await h.api('GET', `/v1/rollouts/${id}`)).body;
    assert.equal(held.status, 'awaiting-approval', 'nothing moves without an approval');
    expect(held.counts).toMatchObject({ succeeded: 2, pending: 10 });
    const approved = await h.api('POST', `/v1/rollouts/${id}/approve`, { token: approver });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.stages[0].status, 'completed');
    assert.match(approved.body.stages[0].approvedBy, /team alpha/);

    const done = await until(h, id, (r) => r.status === 'succeeded');
    assert.ok(done.finishedAt);
    expect(done.counts).toMatchObject({ succeeded: 12, failed: 0, pending: 0 });
    const stageOps: Record<string, any[]> = { canary: [], wave: [], rest: [] };
    for (const m of done.members) {
      assert.equal(m.operations.length, 1, `${m.cluster} was changed exactly once`);
      const op = (await h.api('GET', `/v1/operations/${m.operations[0]}`)).body;
      expect(op).toMatchObject({ kind: 'update', status: 'succeeded', requestedBy: `rollout to-1-31 (${id})` });
      stageOps[m.stage]!.push(op);
      expect((await h.api('GET', `/v1/clusters/${m.cluster}`)).body).toMatchObject({ status: 'ready', spec: { version: '1.31' } });
    }
    expect({ canary: mostAtOnce(stageOps.canary!), wave: mostAtOnce(stageOps.wave!), rest: mostAtOnce(stageOps.rest!) }).toEqual({
      canary: 1,
      wave: 2,
      rest: expect.any(Number),
    });
    assert.ok(mostAtOnce(stageOps.rest!) <= 3, 'the last stage stayed within 50% of its six members');
    const last = (ops: any[]) => Math.max(...ops.map((o) => Date.parse(o.finishedAt)));
    const first = (ops: any[]) => Math.min(...ops.map((o) => Date.parse(o.startedAt)));
    assert.ok(first(stageOps.wave!) >= Date.parse(approved.body.stages[0].approvedAt), 'the wave waited for the approval');
    assert.ok(first(stageOps.rest!) >= last(stageOps.wave!), 'the last stage started after the wave');

    // The stream told every move, in order, and ended with the final status.
    await live.ended;
    const frames = framesOf(live.text());
    expect(frames.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
    expect(frames.slice(0, -1).map((f) => f.id)).toEqual(frames.slice(0, -1).map((_, i) => i + 1));
    const statuses = frames.filter((f) => f.event === 'status').map((f) => f.data.data.status);
    expect(statuses).toEqual(['pending', 'running', 'soaking', 'awaiting-approval', 'running', 'succeeded']);
    for (const m of done.members) {
      const moves = frames.filter((f) => f.event === 'member' && f.data.data.cluster === m.cluster).map((f) => f.data.data.state);
      expect(moves, m.cluster).toEqual(['running', 'succeeded']);
    }
    // A reader that comes back with Last-Event-ID gets only what came after.
    const resumed = await openStream(`${h.url}/v1/rollouts/${id}/events`, starter, { 'last-event-id': String(frames.length - 3) });
    await resumed.ended;
    expect(framesOf(resumed.text()).map((f) => f.id ?? f.event)).toEqual([frames.length - 2, frames.length - 1, 'end']);
    // Another team sees neither the rollout nor its stream.
    const other = await openStream(`${h.url}/v1/rollouts/${id}/events`, await h.teamToken('beta'));
    assert.equal(other.status, 404);
    other.close();

    // And the subscribers were told of each milestone.
    const hooks = await rolloutWebhooks(receiver, '/alpha', 6);
    expect(hooks.map((e) => [e.type, e.team, e.data.event.stage ?? null])).toEqual([
      ['rollout.started', 'alpha', 'canary'],
      ['rollout.awaiting-approval', 'alpha', 'canary'],
      ['rollout.stage-completed', 'alpha', 'canary'],
      ['rollout.stage-completed', 'alpha', 'wave'],
      ['rollout.stage-completed', 'alpha', 'rest'],
      ['rollout.finished', 'alpha', null],
    ]);
    expect(hooks.at(-1).data).toMatchObject({
      rollout: { id, name: 'to-1-31', href: `/v1/rollouts/${id}` },
      event: { status: 'succeeded' },
    });
    await receiver.close();
    // Over: its clusters are free for the next rollout.
    const next = await h.api('POST', '/v1/rollouts/preview', {
      token: starter,
      body: { ...body, change: { upgrade: { version: '1.32' } } },
    });
    assert.equal(next.status, 200);
  });

  it('chains a two-minor upgrade, leaves out or refuses a member its blueprint refuses, halts at the failure budget and retries once fixed', async ({
    harness: h,
  }) => {
    const token = await h.teamToken('alpha');
    const receiver = await startReceiver();
    await subscribe(h, token, receiver, '/chain');
    await provision(h, token, [
      { name: 'chain-a', labels: { set: 'chain' } },
      // Its provider refuses every update: its first step fails.
      { name: 'chain-b', labels: { set: 'chain' }, spec: localSpec({ failOn: 'update' }) },
      { name: 'chain-c', labels: { set: 'chain' }, spec: localSpec({ version: '1.33' }) },
    ]);
    const body = (onInvalid: string) => ({
      name: 'to-1-32',
      selector: { blueprint: 'local-files', labels: { set: 'chain' } },
      change: { upgrade: { version: '1.32' } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 2 }] },
      onInvalid,
    });
    const refused = await h.api('POST', '/v1/rollouts', { token, body: body('refuse') });
    assert.equal(refused.status, 400);
    expect(refused.body.errors).toEqual([
      { field: 'clusters.chain-c.change.upgrade.version', rule: 'version_downgrade', message: 'cannot go from 1.33 down to 1.32' },
    ]);
    const created = await h.api('POST', '/v1/rollouts', { token, body: body('skip') });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    expect(created.body.excluded).toEqual([
      {
        cluster: 'chain-c',
        reason: 'invalid',
        issues: [{ field: 'change.upgrade.version', rule: 'version_downgrade', message: 'cannot go from 1.33 down to 1.32' }],
      },
    ]);
    const id = created.body.id as string;

    const halted = await until(h, id, (r) => r.status === 'halted' && r.members.every((m: any) => m.state !== 'running'));
    const [haltHook] = (await rolloutWebhooks(receiver, '/chain', 2)).filter((e) => e.type === 'rollout.halted');
    expect(haltHook.data.event).toMatchObject({ status: 'halted', reason: halted.reason, stage: 'all' });
    assert.match(halted.reason, /stage "all": 1 member\(s\) failed, over its budget of 0/);
    const [a, b] = halted.members;
    expect(a).toMatchObject({ cluster: 'chain-a', state: 'succeeded', stepsDone: 2 });
    expect(b).toMatchObject({ cluster: 'chain-b', state: 'failed', stepsDone: 0, error: { code: 'resource-error' } });
    const aOps = await Promise.all(a.operations.map(async (op: string) => (await h.api('GET', `/v1/operations/${op}`)).body));
    expect(aOps.map((o: any) => [o.kind, o.status])).toEqual([
      ['update', 'succeeded'],
      ['update', 'succeeded'],
    ]);
    assert.ok(Date.parse(aOps[1].startedAt) >= Date.parse(aOps[0].finishedAt), 'one minor version at a time');
    expect((await h.api('GET', '/v1/clusters/chain-a')).body.appliedSpec.version).toBe('1.32');
    expect((await h.api('GET', '/v1/clusters/chain-c')).body.spec.version).toBe('1.33');

    // A person fixes chain-b during the rollout (their update runs at once), then the failed member runs again.
    const fix = await h.api('PATCH', '/v1/clusters/chain-b', { token, body: { spec: { failOn: null } } });
    assert.equal((await h.waitFor(fix.body.operation.id)).status, 'succeeded');
    const retried = await h.api('POST', `/v1/rollouts/${id}/retry-failed`, { token });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const done = await until(h, id, (r) => r.status === 'succeeded');
    expect(done.members.map((m: any) => [m.cluster, m.state, m.attempts])).toEqual([
      ['chain-a', 'succeeded', 1],
      ['chain-b', 'succeeded', 2],
    ]);
    expect((await h.api('GET', '/v1/clusters/chain-b')).body).toMatchObject({ status: 'ready', appliedSpec: { version: '1.32' } });
    expect((await rolloutWebhooks(receiver, '/chain', 4)).map((e) => e.type)).toEqual([
      'rollout.started',
      'rollout.halted',
      'rollout.stage-completed',
      'rollout.finished',
    ]);
    await receiver.close();
  });
});

describe('a rollout whose Redis data is lost', () => {
  it('completes from its records, every member changed exactly once', async ({ harness: h }) => {
    const done = await survives(h, 'lost', 4, async () => {
      // Every key of this deployment gone, jobs under way included, as after a FLUSHALL.
      const redis = connectRedis(redisUrl());
      try {
        const keys = await redis.keys(`${h.env.QUEUE_PREFIX}:*`);
        assert.ok(keys.length > 0);
        await redis.del(...keys);
      } finally {
        await closeRedis(redis);
      }
    });
    // Not even run twice: the runs under way finished and were recorded as they were.
    for (const m of done.members) expect((await h.api('GET', `/v1/operations/${m.operations[0]}`)).body.attempts).toBe(1);
  });
});

describe('an engine preview of a rollout', () => {
  it('previews each member’s resulting spec with the engine, within the stage’s concurrency, changing nothing and holding no cluster', async ({
    harness: h,
  }) => {
    const token = await h.teamToken('alpha');
    await provision(h, token, [
      { name: 'peek-a', labels: { set: 'peek' } },
      { name: 'peek-b', labels: { set: 'peek' } },
      { name: 'peek-c', labels: { set: 'peek' }, spec: localSpec({ version: '1.31' }) },
    ]);
    const body = {
      name: 'peek-at-1-32',
      selector: { blueprint: 'local-files', labels: { set: 'peek' } },
      change: { upgrade: { version: '1.32' } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 1, approval: true, soak: '1h' }] },
    };
    const started = await h.api('POST', '/v1/rollouts/preview', { token, body: { ...body, enginePreview: true } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.equal(started.headers.get('location'), `/v1/rollouts/${started.body.id}`);
    expect(started.body).toMatchObject({ mode: 'preview', status: 'pending' });
    // It holds nothing: a real rollout of the same clusters may start meanwhile (one whose change they all carry already).
    const real = await h.api('POST', '/v1/rollouts', { token, body: { ...body, name: 'no-op', change: { spec: { tags: null } } } });
    assert.equal(real.status, 201, JSON.stringify(real.body));

    // No soak, no approval: a preview waits for nobody.
    const done = await until(h, started.body.id, (r) => r.status === 'succeeded');
    const ops = [];
    for (const m of done.members) {
      expect(m.operations).toHaveLength(1);
      const op = (await h.api('GET', `/v1/operations/${m.operations[0]}`)).body;
      expect(op).toMatchObject({ kind: 'preview', status: 'succeeded', requestedBy: `rollout peek-at-1-32 (${started.body.id})` });
      expect(m.summary).toEqual(op.summary);
      ops.push(op);
    }
    assert.equal(mostAtOnce(ops), 1, 'one preview at a time, as the stage asks');
    // Two minor versions away or one, each member previews the spec its whole change reaches.
    for (const name of ['peek-a', 'peek-b', 'peek-c']) {
      const m = done.members.find((x: any) => x.cluster === name);
      expect(m.state).toBe('succeeded');
      expect(m.summary.counts.update).toBeGreaterThan(0);
      expect(m.summary.resources.some((r: any) => r.op === 'update' && r.properties.includes('version'))).toBe(true);
      // Nothing changed: the desired and applied specs are as they were.
      const cluster = (await h.api('GET', `/v1/clusters/${name}`, { token })).body;
      expect([cluster.spec.version, cluster.appliedSpec.version]).toEqual(name === 'peek-c' ? ['1.31', '1.31'] : ['1.30', '1.30']);
    }
  });
});

describe('a rollout that waits for a clean drift check after each member', () => {
  it('counts a member done only once the check after its change is clean, and fails one whose check finds drift', async ({
    harness: h,
  }) => {
    const token = await h.teamToken('alpha');
    // verify-b's drift check reads slowly: the test changes its "cloud" while the check runs.
    await provision(h, token, [
      { name: 'verify-a', labels: { set: 'verify' } },
      { name: 'verify-b', labels: { set: 'verify' }, spec: localSpec({ readDelayMs: 4_000 }) },
    ]);
    const created = await h.api('POST', '/v1/rollouts', {
      token,
      body: {
        name: 'tag-and-check',
        selector: { blueprint: 'local-files', labels: { set: 'verify' } },
        change: { spec: { tags: { owner: 'platform' } } },
        strategy: { stages: [{ name: 'all', maxConcurrency: 2 }], waitForCleanDriftCheck: true },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const member = (r: any, name: string) => r.members.find((m: any) => m.cluster === name);
    await until(h, id, (r) => member(r, 'verify-b').state === 'verifying');
    const pool = path.join(h.dataDir, 'local-clusters', 'verify-b', 'pools', 'default.json');
    writeFileSync(pool, JSON.stringify({ ...JSON.parse(readFileSync(pool, 'utf8')), size: 9 }));

    const halted = await until(h, id, (r) => r.status === 'halted');
    const a = member(halted, 'verify-a');
    const b = member(halted, 'verify-b');
    expect(b).toMatchObject({ state: 'failed', stepsDone: 1, error: { code: 'drift-after-change' } });
    expect(a).toMatchObject({ state: 'succeeded', stepsDone: 1 });
    for (const m of [a, b]) {
      const ops = await Promise.all(m.operations.map(async (op: string) => (await h.api('GET', `/v1/operations/${op}`)).body));
      expect(ops.map((o: any) => [o.kind, o.status, o.requestedBy])).toEqual([
        ['update', 'succeeded', `rollout tag-and-check (${id})`],
        ['drift-check', 'succeeded', `rollout tag-and-check (${id})`],
      ]);
      assert.ok(Date.parse(ops[1].startedAt) >= Date.parse(ops[0].finishedAt), 'the check ran after the change');
      if (m === a) assert.ok(Date.parse(a.finishedAt) >= Date.parse(ops[1].finishedAt), 'done only once its check was clean');
    }
    const report = (await h.api('GET', '/v1/clusters/verify-b/drift', { token })).body.latest;
    expect(report).toMatchObject({ status: 'drifted', operationId: b.operations[1] });
  });
});

describe('a rollout whose driving worker is SIGKILLed', () => {
  test('is taken over by another worker and completes, every member changed exactly once', { timeout: 300_000 }, async () => {
    const h = await startHarness({
      workers: 2,
      env: { WORKER_CONCURRENCY: '2', ROLLOUT_DRIVER_INTERVAL_MS: '200', ROLLOUT_DRIVER_LEASE_MS: '3000' },
    });
    try {
      await survives(
        h,
        'kill',
        6,
        async (id) => {
          // The worker that drives it: its lease names its process.
          const db = new pg.Client({ connectionString: h.env.DATABASE_URL });
          await db.connect();
          const { rows } = await db.query<{ driver_id: string }>('SELECT driver_id FROM rollouts WHERE id = $1', [id]);
          await db.end();
          const pid = Number(rows[0]!.driver_id.split(':')[1]);
          const driver = h.workers.find((w) => w.pid === pid);
          assert.ok(driver, `the driver ${rows[0]!.driver_id} is one of the workers`);
          driver.kill('SIGKILL');
          await new Promise((r) => driver.once('exit', r));
          await h.spawnWorker();
        },
        (r) => r.counts.succeeded >= 1 && r.counts.running >= 1,
      );
    } finally {
      await h.stop();
    }
  });
});

describe('a rollout whose record store restarts', () => {
  test('carries on once PostgreSQL is back and completes, every member changed by one operation', { timeout: 300_000 }, async () => {
    // A server of its own: the shared one serves the test files running beside this one.
    const server = await startPrivatePostgres();
    const h = await startHarness({ databaseServer: server.url, env: { WORKER_CONCURRENCY: '2', ROLLOUT_DRIVER_INTERVAL_MS: '200' } });
    try {
      await survives(h, 'pgr', 4, () => server.restart());
    } finally {
      await h.stop();
      server.stop();
    }
  });
});
