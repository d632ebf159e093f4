import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';
import { until } from '../support/until.js';

// Waits expire after a minute (the shortest APPROVAL_TTL): the other tests answer within seconds, and
// the expiry test moves its wait's deadline into the past rather than waiting for it.
const it = harnessTest({
  env: { ...ALLOW_LOOPBACK_RECEIVERS, WORKER_CONCURRENCY: '5', APPROVAL_TTL: '1m', APPROVAL_CHECK_INTERVAL_MS: '500' },
});

/** Team alpha's production clusters: a destroy, and any replace or delete in a plan, wait for one approval. */
const RULE = { kinds: ['destroy'], changes: ['replace', 'delete'], labels: { env: 'prod' }, approvers: 1 };
const APPROVAL_EVENTS = ['operation.awaiting-approval', 'operation.approved', 'operation.rejected'];

/** Approvals bound to the plan, on the real engine: the test blueprint's resources are files under the data directory. */
describe.concurrent('operations that wait for approval', () => {
  let h: Harness;
  let receiver: Receiver;
  let signingSecret: string;
  const tokens = {} as Record<'requester' | 'otherMember' | 'approver' | 'viewer' | 'betaApprover', string>;

  it.beforeAll(async ({ harness }) => {
    h = harness;
    receiver = await startReceiver();
    assert.equal((await h.api('PUT', '/v1/teams/alpha/policy', { body: { approval: RULE } })).status, 200);
    tokens.requester = await h.teamToken('alpha');
    tokens.otherMember = await h.teamToken('alpha');
    tokens.approver = await h.teamToken('alpha', 'approver');
    tokens.viewer = await h.teamToken('alpha', 'viewer');
    tokens.betaApprover = await h.teamToken('beta', 'approver');
    const hook = await h.api('POST', '/v1/webhooks', {
      token: tokens.requester,
      body: { url: receiver.url('/alpha'), events: APPROVAL_EVENTS },
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    signingSecret = hook.body.signingSecret;
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const poolFile = (name: string, pool: string) => path.join(h.dataDir, 'local-clusters', name, 'pools', `${pool}.json`);
  const clusterFile = (name: string) => path.join(h.dataDir, 'local-clusters', name, 'cluster.json');
  const as = (token: string, method: string, url: string, body?: unknown) => h.api(method, url, { token, ...(body ? { body } : {}) });
  const awaiting = (id: string) => h.waitFor(id, ['awaiting-approval', 'succeeded', 'failed', 'cancelled'], 300_000);
  const ended = (id: string) => h.waitFor(id, undefined, 300_000);
  const eventsOf = (operationId: string) =>
    receiver.received
      .map((r) => verifyWebhook<any>({ secret: signingSecret, headers: r.headers, body: r.body }))
      .filter((e) => e.data.operation.id === operationId);

  /** The operation's webhooks once `count` of them arrived, oldest first. */
  const delivered = (operationId: string, count: number) =>
    until(
      `${count} webhooks of operation ${operationId}`,
      async () => {
        const events = eventsOf(operationId);
        return events.length >= count ? events : undefined;
      },
      30_000,
      200,
    );

  /** Waits for the cluster's lane to settle it `ready` again, once nothing of its is left to run. */
  async function settlesReady(name: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await h.api('GET', `/v1/clusters/${name}`)).body.status !== 'ready' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    assert.equal((await h.api('GET', `/v1/clusters/${name}`)).body.status, 'ready');
  }

  /** A production cluster of alpha with pools a and b, provisioned: its plan only creates, so it needs no approval. */
  async function prodCluster(stem: string): Promise<string> {
    const name = `${stem}-${randomUUID().slice(0, 8)}`;
    const spec = localSpec({
      nodePools: [
        { name: 'a', size: 1 },
        { name: 'b', size: 1 },
      ],
    });
    const res = await as(tokens.requester, 'POST', '/v1/clusters', { name, blueprint: 'local-files', spec, labels: { env: 'prod' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.operation.approval.state, 'planning');
    const op = await ended(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.approval.state, 'not-needed');
    return name;
  }

  it('holds a destroy with its plan until an approver who did not ask approves it, then runs it', async () => {
    const name = await prodCluster('approve-destroy');
    const asked = await as(tokens.requester, 'DELETE', `/v1/clusters/${name}`);
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const waiting = await awaiting(asked.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval', JSON.stringify(waiting.error));
    assert.deepEqual(waiting.approval.reasons, ['kind:destroy', 'change:delete']);
    assert.ok(waiting.summary.counts.delete >= 3, JSON.stringify(waiting.summary.counts));
    assert.equal(Date.parse(waiting.approval.expiresAt) - Date.parse(waiting.approval.requestedAt), 60_000);
    assert.ok(existsSync(poolFile(name, 'a')), 'nothing may be destroyed before the approval');

    const url = `/v1/operations/${waiting.id}/approve`;
    for (const [token, status] of [
      [tokens.requester, 403],
      [tokens.otherMember, 403],
      [tokens.viewer, 403],
      [tokens.betaApprover, 404],
    ] as const) {
      const refused = await as(token, 'POST', url, { comment: 'ok' });
      assert.equal(refused.status, status, JSON.stringify(refused.body));
    }
    const approved = await as(tokens.approver, 'POST', url, { comment: 'checked the plan' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.approval.state, 'approved');
    assert.deepEqual(
      approved.body.approval.decisions.map((d: any) => [d.decision, d.role, d.comment]),
      [['approved', 'approver', 'checked the plan']],
    );
    const again = await as(h.adminToken, 'POST', url);
    assert.equal(again.status, 409, 'an approved operation awaits nothing more');

    const done = await ended(waiting.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(existsSync(poolFile(name, 'a')), false);
    assert.equal((await h.api('GET', `/v1/clusters/${name}`)).body.status, 'destroyed');
    const events = await delivered(waiting.id, 2);
    assert.deepEqual(
      events.map((e) => e.type),
      ['operation.awaiting-approval', 'operation.approved'],
    );
    assert.deepEqual(events[0].data.approval.reasons, ['kind:destroy', 'change:delete']);
    assert.equal(events[1].data.approval.decisions[0].comment, 'checked the plan');
  });

  it('holds an update that replaces a pool until it is approved, then runs that plan and records who approved it, and when', async () => {
    const name = await prodCluster('approve-replace');
    const asked = await as(tokens.requester, 'PATCH', `/v1/clusters/${name}`, {
      spec: {
        nodePools: [
          { name: 'a', size: 1, instanceType: 'large-2' },
          { name: 'b', size: 1 },
        ],
      },
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const waiting = await awaiting(asked.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval', JSON.stringify(waiting.error));
    assert.deepEqual(waiting.approval.reasons, ['change:replace']);
    assert.equal(waiting.summary.counts.replace, 1, JSON.stringify(waiting.summary.counts));
    assert.equal(JSON.parse(readFileSync(poolFile(name, 'a'), 'utf8')).instanceType, undefined, 'nothing is replaced before the approval');

    const before = Date.now();
    const approved = await as(tokens.approver, 'POST', `/v1/operations/${waiting.id}/approve`, { comment: 'larger machines for the sale' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const [decision] = approved.body.approval.decisions;
    assert.match(decision.by, /^alpha-\w+ \(team alpha\)$/);
    assert.deepEqual([decision.decision, decision.role, decision.comment], ['approved', 'approver', 'larger machines for the sale']);
    assert.ok(Date.parse(decision.at) >= before - 1000 && Date.parse(decision.at) <= Date.now() + 1000, decision.at);

    const done = await ended(waiting.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.summary.counts.replace, 1, JSON.stringify(done.summary.counts));
    assert.equal(JSON.parse(readFileSync(poolFile(name, 'a'), 'utf8')).instanceType, 'large-2');
    assert.deepEqual((await h.api('GET', `/v1/operations/${waiting.id}`)).body.approval.decisions, approved.body.approval.decisions);
  });

  it('holds an update that deletes a pool and what follows it; a rejection fails it, changes nothing, and lets the rest run', async () => {
    const name = await prodCluster('reject-update');
    const rename = await as(tokens.requester, 'PATCH', `/v1/clusters/${name}`, {
      spec: {
        nodePools: [
          { name: 'a', size: 1 },
          { name: 'c', size: 1 },
        ],
      },
    });
    assert.equal(rename.status, 202, JSON.stringify(rename.body));
    const waiting = await awaiting(rename.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval', JSON.stringify(waiting.error));
    assert.deepEqual(waiting.approval.reasons, ['change:delete']);
    assert.equal((await h.api('GET', `/v1/clusters/${name}`)).body.status, 'ready');
    const preview = await as(tokens.requester, 'POST', `/v1/clusters/${name}/preview`);
    assert.equal(preview.status, 202);
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await h.api('GET', `/v1/operations/${preview.body.operation.id}`)).body.status, 'queued', 'it waits behind the approval');

    const noReason = await as(tokens.approver, 'POST', `/v1/operations/${waiting.id}/reject`, {});
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body.errors[0].field, 'comment');
    const rejected = await as(tokens.approver, 'POST', `/v1/operations/${waiting.id}/reject`, { comment: 'pool b still serves traffic' });
    assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
    assert.equal(rejected.body.status, 'failed');
    assert.equal(rejected.body.error.code, 'approval-rejected');
    assert.equal(rejected.body.error.detail, 'pool b still serves traffic');
    assert.equal((await ended(preview.body.operation.id)).status, 'succeeded');
    assert.ok(existsSync(poolFile(name, 'b')) && !existsSync(poolFile(name, 'c')), 'a rejected plan changes nothing');
    const events = await delivered(waiting.id, 2);
    assert.deepEqual(
      events.map((e) => e.type),
      ['operation.awaiting-approval', 'operation.rejected'],
    );
    assert.deepEqual(
      events[1].data.approval.decisions.map((d: any) => [d.decision, d.comment]),
      [['rejected', 'pool b still serves traffic']],
    );
    assert.equal(events[1].data.operation.status, 'failed');
  });

  it('fails the apply with plan-changed, applying nothing, when the resources changed after the plan was made', async () => {
    const name = await prodCluster('plan-changed');
    const rename = await as(tokens.requester, 'PATCH', `/v1/clusters/${name}`, {
      spec: {
        nodePools: [
          { name: 'a', size: 1 },
          { name: 'c', size: 1 },
        ],
      },
    });
    const waiting = await awaiting(rename.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval', JSON.stringify(waiting.error));
    // Someone changes the "cloud" by hand: the refreshed plan at apply time now has an update the approved one did not.
    const cluster = JSON.parse(readFileSync(clusterFile(name), 'utf8'));
    writeFileSync(clusterFile(name), JSON.stringify({ ...cluster, version: '1.29' }));
    assert.equal((await as(h.adminToken, 'POST', `/v1/operations/${waiting.id}/approve`)).status, 200);
    const done = await ended(waiting.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error.code, 'plan-changed', JSON.stringify(done.error));
    assert.match(done.error.detail, /cluster: approved no change, now update/);
    assert.ok(existsSync(poolFile(name, 'b')) && !existsSync(poolFile(name, 'c')), 'nothing of the plan was applied');
  });

  it('runs at once what the rule does not name, and ends a wait on cancel', async () => {
    const name = await prodCluster('cancel-wait');
    const grow = await as(tokens.requester, 'PATCH', `/v1/clusters/${name}`, {
      spec: {
        nodePools: [
          { name: 'a', size: 2 },
          { name: 'b', size: 1 },
        ],
      },
    });
    const grown = await ended(grow.body.operation.id);
    assert.equal(grown.status, 'succeeded', JSON.stringify(grown.error));
    assert.equal(grown.approval.state, 'not-needed');

    const asked = await as(tokens.requester, 'DELETE', `/v1/clusters/${name}`);
    const waiting = await awaiting(asked.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval');
    const cancelled = await as(tokens.requester, 'POST', `/v1/operations/${waiting.id}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal((await as(tokens.approver, 'POST', `/v1/operations/${waiting.id}/approve`)).status, 409);
    await settlesReady(name);
    assert.ok(existsSync(poolFile(name, 'a')));
  });

  it("holds a rollout's member while its step's update waits for approval; approved it runs, rejected its member fails", async () => {
    // Team gamma asks an approval for every update of its production clusters: a rollout's steps are updates too.
    const rule = { kinds: ['update'], labels: { env: 'prod' }, approvers: 1 };
    assert.equal((await h.api('PUT', '/v1/teams/gamma/policy', { body: { approval: rule } })).status, 200);
    const [starter, approver] = [await h.teamToken('gamma'), await h.teamToken('gamma', 'approver')];
    const names = ['ship', 'hold'].map((stem) => `${stem}-${randomUUID().slice(0, 8)}`);
    const provisions = [];
    for (const name of names) {
      const res = await as(starter, 'POST', '/v1/clusters', { name, blueprint: 'local-files', spec: localSpec(), labels: { env: 'prod' } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      provisions.push(res.body.operation.id as string);
    }
    for (const id of provisions) assert.equal((await ended(id)).status, 'succeeded');
    const created = await as(starter, 'POST', '/v1/rollouts', {
      name: `gated-${randomUUID().slice(0, 8)}`,
      selector: { blueprint: 'local-files', labels: { env: 'prod' } },
      change: { upgrade: { version: '1.31' } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 2, maxFailures: 1 }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rollout = () => as(starter, 'GET', `/v1/rollouts/${created.body.id}`).then((r) => r.body);
    const members = await until(
      'both members waiting on their steps',
      async () => {
        const r = await rollout();
        return r.members.length === 2 && r.members.every((m: any) => m.operations.length === 1) ? r.members : undefined;
      },
      120_000,
      250,
    );
    const stepOf = (name: string) => members.find((m: any) => m.cluster === name).operations[0] as string;
    for (const name of names) {
      const waiting = await awaiting(stepOf(name));
      assert.equal(waiting.status, 'awaiting-approval', JSON.stringify(waiting.error));
      assert.deepEqual([waiting.kind, waiting.approval.reasons], ['update', ['kind:update']]);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(
      (await rollout()).members.map((m: any) => m.state),
      ['running', 'running'],
      'a member waits with its step',
    );

    assert.equal((await as(approver, 'POST', `/v1/operations/${stepOf(names[0]!)}/approve`, { comment: 'go' })).status, 200);
    const refused = await as(approver, 'POST', `/v1/operations/${stepOf(names[1]!)}/reject`, { comment: 'not during the sale' });
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    const done = await until(
      'the rollout to finish',
      async () => {
        const r = await rollout();
        return r.status === 'succeeded' ? r : undefined;
      },
      120_000,
      250,
    );
    const byName = (name: string) => done.members.find((m: any) => m.cluster === name);
    assert.equal(byName(names[0]!).state, 'succeeded');
    assert.deepEqual([byName(names[1]!).state, byName(names[1]!).error?.code], ['failed', 'approval-rejected']);
    const versions = await Promise.all(names.map(async (n) => (await h.api('GET', `/v1/clusters/${n}`)).body.appliedSpec.version));
    assert.deepEqual(versions, ['1.31', localSpec().version], 'only the approved step changed its cluster');
  });

  it('ends an unanswered wait failed once it expires, changing nothing, and refuses a late approval', async () => {
    const name = await prodCluster('expires');
    const asked = await as(tokens.requester, 'DELETE', `/v1/clusters/${name}`);
    const waiting = await awaiting(asked.body.operation.id);
    assert.equal(waiting.status, 'awaiting-approval');
    assert.ok(Date.parse(waiting.approval.expiresAt) - Date.parse(waiting.approval.requestedAt) >= 60_000, 'APPROVAL_TTL from acceptance');
    // A minute passes for this wait alone: its deadline moves into the past in the records, as the
    // database's clock would see it a minute on; the workers' watch does the rest.
    const db = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(
        `UPDATE operations SET approval = jsonb_set(approval, '{expiresAt}', to_jsonb(to_char((now() - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))) WHERE id = $1`,
        [waiting.id],
      );
    } finally {
      await db.end();
    }
    const expired = await h.waitFor(waiting.id, ['failed', 'succeeded'], 60_000);
    assert.equal(expired.error.code, 'approval-expired');
    assert.equal(expired.approval.state, 'expired');
    assert.equal((await as(tokens.approver, 'POST', `/v1/operations/${waiting.id}/approve`)).status, 409);
    assert.ok(existsSync(poolFile(name, 'a')), 'an expired destroy destroys nothing');
    await settlesReady(name);
  });
});
