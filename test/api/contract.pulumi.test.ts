import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, startHarness, type Harness } from '../support/harness.js';
import { OpenApiContract, parseEventStream } from '../support/openapi-contract.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

/**
 * The contract: every operation of the served /openapi.json is called for real, and every answer it
 * gives is held to the description (test/support/openapi-contract.ts: status documented, content
 * type, body against the schema, headers). Success answers come from the real engine (in-process
 * workers running the local-files test blueprint with the Pulumi CLI), so that they carry what only
 * real runs produce: succeeded, failed and cancelled operations with summaries, outputs and errors,
 * engine events, a drift report with its diffs, a finished sweep, deliveries with their attempts, a
 * kubeconfig. Each error the API gives is called where it exists: 400, 401, 403, 404, 409, 413, 415,
 * 422, 429. The last test fails if an operation, or a success status of one, was never answered.
 */
describe('every answer of every operation fits the OpenAPI description', () => {
  let h: Harness;
  let receiver: Receiver;
  let contract: OpenApiContract;
  let alpha: string;
  let beta: string;
  const cluster = 'contract-one';
  const failing = 'contract-fails';
  let provision: string;
  let webhookId: string;

  interface Answer {
    status: number;
    headers: Headers;
    body: any;
    text: string;
  }

  /** Calls the API (as admin unless a token or null is given) and holds the answer to the description. */
  async function call(
    method: string,
    url: string,
    opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const token = opts.token === undefined ? h.adminToken : opts.token;
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    };
    const res = await fetch(h.url + url, { method, headers, body: opts.body !== undefined ? JSON.stringify(opts.body) : opts.raw });
    const text = await res.text();
    const answer = {
      status: res.status,
      headers: res.headers,
      text,
      body: /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
    };
    contract.check(method, url, answer);
    return answer;
  }

  /** {@link call}, expecting `status`; the body. */
  async function answered(status: number, method: string, url: string, opts: Parameters<typeof call>[2] = {}): Promise<any> {
    const res = await call(method, url, opts);
    assert.equal(res.status, status, `${method} ${url}: ${res.text.slice(0, 500)}`);
    return res.body;
  }

  /** Polls an operation (every answer checked too) until it has finished. */
  async function finished(id: string, timeoutMs = 240_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const op = await answered(200, 'GET', `/v1/operations/${id}`);
      if (['succeeded', 'failed', 'cancelled', 'superseded'].includes(op.status)) return op;
      assert.ok(Date.now() < deadline, `operation ${id} still ${op.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Each operation's path with its parameters filled in. */
  const pathsOf = (values: { name: string; id: string }) =>
    contract.operationIds.map((operationId) => {
      const [method, template] = Object.entries<any>(contract.description.paths).flatMap(([t, item]) =>
        Object.entries<any>(item)
          .filter(([, op]) => op.operationId === operationId)
          .map(([m]) => [m.toUpperCase(), t]),
      )[0]!;
      return {
        operationId,
        method: method!,
        template: template!,
        url: template!.replace('{name}', values.name).replace('{id}', values.id).replace('{team}', values.name),
      };
    });

  beforeAll(async () => {
    receiver = await startReceiver();
    h = await startHarness({
      env: {
        ...ALLOW_LOOPBACK_RECEIVERS,
        DRIFT_SWEEP_CRON: 'off',
        DRIFT_SWEEP_POLL_MS: '200',
        WEBHOOK_BACKOFF_MS: '50',
        // Every /v1 operation is called without a token; this test is one client at one address.
        RATE_LIMIT_AUTH_FAILURES: '1000/1m',
        RATE_LIMIT_WEBHOOK_TESTS: '2/1m',
      },
    });
    const served = await fetch(`${h.url}/openapi.json`);
    assert.equal(served.status, 200);
    contract = new OpenApiContract(await served.json());
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('Health: alive, ready and scraped, without a token', async () => {
    assert.deepEqual(await answered(200, 'GET', '/healthz', { token: null }), { status: 'ok' });
    assert.equal((await answered(200, 'GET', '/readyz', { token: null })).status, 'ready');
    assert.match(await answered(200, 'GET', '/metrics', { token: null }), /^# HELP /m);
  });

  it('Tokens: issued by an admin (201), refused to a team (403) and a viewer (403), checked (400), listed, read and revoked (204, 404, 409 for the last admin), and the body parser refuses 413 and 415', async () => {
    alpha = (await answered(201, 'POST', '/v1/tokens', { body: { name: 'contract-alpha', team: 'alpha' } })).token;
    beta = (await answered(201, 'POST', '/v1/tokens', { body: { name: 'contract-beta', team: 'beta' } })).token;
    const admin = await answered(201, 'POST', '/v1/tokens', { body: { name: 'contract-admin', admin: true } });
    assert.equal(admin.role, 'admin');
    const viewer = await answered(201, 'POST', '/v1/tokens', {
      body: { name: 'contract-viewer', team: 'alpha', role: 'viewer', ttl: '1d' },
    });
    await answered(403, 'POST', '/v1/tokens', { token: alpha, body: { name: 'not-mine', team: 'alpha' } });
    await answered(403, 'POST', '/v1/tokens', { token: viewer.token, body: { name: 'not-mine', team: 'alpha' } });
    await answered(403, 'GET', '/v1/tokens', { token: alpha });
    const invalid = await answered(400, 'POST', '/v1/tokens', { body: { name: 'neither' } });
    assert.deepEqual(
      invalid.errors.map((e: any) => e.rule),
      ['team_by_role'],
    );
    const listed = await answered(200, 'GET', '/v1/tokens?limit=200');
    assert.ok(!listed.items.some((t: any) => 'token' in t));
    await answered(400, 'GET', '/v1/tokens?state=lost');
    assert.equal((await answered(200, 'GET', `/v1/tokens/${viewer.id}`)).role, 'viewer');
    await answered(204, 'DELETE', `/v1/tokens/${admin.id}`);
    await answered(404, 'DELETE', `/v1/tokens/${admin.id}`);
    // The bootstrap admin token is now the only active one.
    const bootstrap = listed.items.find((t: any) => t.name === 'bootstrap-admin');
    assert.match((await answered(409, 'DELETE', `/v1/tokens/${bootstrap.id}`)).detail, /last active admin token/);
    await answered(413, 'POST', '/v1/tokens', { body: { name: 'x'.repeat(70_000), team: 'alpha' } });
    await answered(415, 'POST', '/v1/tokens', {
      raw: JSON.stringify({ name: 'latin', team: 'alpha' }),
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
  });

  it('Blueprints: listed with their spec schemas', async () => {
    const { items } = await answered(200, 'GET', '/v1/blueprints', { token: alpha });
    assert.ok(items.some((b: any) => b.name === 'local-files'));
  });

  it('Webhooks: subscribed (201), refused a bad URL (400), listed, read, pinged (202); a third ping in the window is 429', async () => {
    receiver.answer('/alpha', [500, 200]);
    const created = await answered(201, 'POST', '/v1/webhooks', {
      token: alpha,
      body: { url: receiver.url('/alpha'), events: ['operation.succeeded', 'operation.failed', 'operation.cancelled', 'drift.detected'] },
    });
    webhookId = created.id;
    assert.ok(created.signingSecret);
    await answered(400, 'POST', '/v1/webhooks', { token: alpha, body: { url: 'ftp://example.com/hook', events: ['operation.failed'] } });
    assert.deepEqual(
      (await answered(200, 'GET', '/v1/webhooks', { token: alpha })).items.map((w: any) => w.id),
      [webhookId],
    );
    await answered(200, 'GET', `/v1/webhooks/${webhookId}`, { token: alpha });
    await answered(404, 'GET', `/v1/webhooks/${webhookId}`, { token: beta });
    await answered(202, 'POST', `/v1/webhooks/${webhookId}/test`, { token: alpha });

    const betaHook = (
      await answered(201, 'POST', '/v1/webhooks', { token: beta, body: { url: receiver.url('/beta'), events: ['operation.failed'] } })
    ).id;
    await answered(202, 'POST', `/v1/webhooks/${betaHook}/test`, { token: beta });
    await answered(202, 'POST', `/v1/webhooks/${betaHook}/test`, { token: beta });
    await answered(429, 'POST', `/v1/webhooks/${betaHook}/test`, { token: beta });
  });

  it('Clusters: created (202), replayed and refused under the same Idempotency-Key (422), a duplicate refused (409), a bad body refused (400)', async () => {
    const body = { name: cluster, blueprint: 'local-files', spec: localSpec({ secretValue: 'contract-secret' }) };
    const key = { 'idempotency-key': `contract-${randomUUID()}` };
    const accepted = await call('POST', '/v1/clusters', { token: alpha, body, headers: key });
    assert.equal(accepted.status, 202, accepted.text);
    provision = accepted.body.operation.id;
    const replay = await call('POST', '/v1/clusters', { token: alpha, body, headers: key });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    await answered(422, 'POST', '/v1/clusters', { token: alpha, body: { ...body, labels: { other: 'body' } }, headers: key });
    await answered(409, 'POST', '/v1/clusters', { token: alpha, body });
    await answered(400, 'POST', '/v1/clusters', {
      token: alpha,
      body: { name: 'contract-bad', blueprint: 'local-files', spec: localSpec(), ttl: '1h', expiresAt: '2999-01-01T00:00:00Z' },
    });
    await answered(202, 'POST', '/v1/clusters', {
      token: alpha,
      body: { name: failing, blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) },
    });
  });

  it('Operations: a succeeded and a failed provision, read, listed and streamed (engine, log, status and end events)', async () => {
    const op = await finished(provision);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.ok(op.summary.resources.length > 0);
    const [failed] = (await answered(200, 'GET', `/v1/clusters/${failing}/operations`, { token: alpha })).items;
    assert.equal((await finished(failed.id)).status, 'failed');
    const events = parseEventStream((await answered(200, 'GET', `/v1/operations/${provision}/events`, { token: alpha })) as string);
    assert.deepEqual([...new Set(events.map((e) => e.event))].sort(), ['end', 'engine', 'log', 'status']);
    await answered(200, 'GET', `/v1/operations/${failed.id}/events?after=1`, { token: alpha });
    await answered(400, 'GET', `/v1/operations/${provision}/events?after=-1`, { token: alpha });
    await answered(400, 'GET', `/v1/operations/${provision}/events`, { token: alpha, headers: { 'last-event-id': 'x' } });
    await answered(409, 'POST', `/v1/operations/${provision}/cancel`, { token: alpha });
    await answered(404, 'GET', `/v1/operations/${provision}`, { token: beta });
  });

  it('Clusters: listed, read, their kubeconfig read (200, 404 without one) and its reads listed', async () => {
    const page = await answered(200, 'GET', '/v1/clusters?limit=1', { token: alpha });
    assert.equal(page.items.length, 1);
    await answered(200, 'GET', `/v1/clusters?limit=1&cursor=${page.nextCursor}`, { token: alpha });
    await answered(400, 'GET', '/v1/clusters?limit=0', { token: alpha });
    assert.equal((await answered(200, 'GET', `/v1/clusters/${cluster}`, { token: alpha })).outputs.secretValue, '[secret]');
    await answered(404, 'GET', `/v1/clusters/${cluster}`, { token: beta });
    assert.match((await answered(200, 'GET', `/v1/clusters/${cluster}/kubeconfig`, { token: alpha })).kubeconfig, /Config/);
    await answered(404, 'GET', `/v1/clusters/${failing}/kubeconfig`, { token: alpha });
    assert.equal((await answered(200, 'GET', `/v1/clusters/${cluster}/kubeconfig/reads`, { token: alpha })).items.length, 1);
  });

  it('Drift: a settings change (200), a drift check that finds the edited pool (a report with diffs), a remediation, the fleet', async () => {
    assert.equal(
      (await answered(200, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { driftPolicy: 'notify' } })).operation,
      null,
    );
    await answered(400, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: {} });
    const pool = path.join(h.dataDir, 'local-clusters', cluster, 'pools', 'default.json');
    writeFileSync(pool, JSON.stringify({ ...JSON.parse(readFileSync(pool, 'utf8')), size: 9 }));
    const check = await answered(202, 'POST', `/v1/clusters/${cluster}/drift-check`, { token: alpha });
    assert.equal((await finished(check.operation.id)).status, 'succeeded');
    const drift = await answered(200, 'GET', `/v1/clusters/${cluster}/drift`, { token: alpha });
    assert.equal(drift.latest.status, 'drifted');
    assert.ok(drift.latest.resources.some((r: any) => r.diffs?.length));
    await answered(400, 'GET', `/v1/clusters/${cluster}/drift?cursor=%2B`, { token: alpha });
    const remediate = await answered(202, 'POST', `/v1/clusters/${cluster}/remediate`, { token: alpha });
    assert.equal((await finished(remediate.operation.id)).status, 'succeeded');
    assert.ok((await answered(200, 'GET', '/v1/drift')).clusters >= 1);
    await answered(200, 'GET', '/v1/drift?team=alpha');
    await answered(200, 'GET', '/v1/drift', { token: alpha });
    await answered(400, 'GET', '/v1/drift?team=Not_A_Team');
  });

  it('Drift: sweeps are run by an admin (202, 403 to a team, 409 while one runs) and read until finished', async () => {
    await answered(403, 'POST', '/v1/drift/sweeps', { token: alpha });
    const sweep = await answered(202, 'POST', '/v1/drift/sweeps');
    await answered(409, 'POST', '/v1/drift/sweeps');
    await answered(404, 'GET', `/v1/drift/sweeps/${sweep.id}`, { token: alpha });
    const deadline = Date.now() + 240_000;
    let read = sweep;
    while (read.status === 'running') {
      assert.ok(Date.now() < deadline, 'the sweep did not finish');
      await new Promise((r) => setTimeout(r, 250));
      read = await answered(200, 'GET', `/v1/drift/sweeps/${sweep.id}`);
    }
    assert.equal(read.status, 'succeeded', JSON.stringify(read));
  });

  it('Clusters and operations: a preview and a refresh, a spec change (202), a queued preview cancelled (202)', async () => {
    const refresh = await answered(202, 'POST', `/v1/clusters/${cluster}/refresh`, { token: alpha });
    const preview = await answered(202, 'POST', `/v1/clusters/${cluster}/preview`, { token: alpha });
    assert.equal((await finished(refresh.operation.id)).status, 'succeeded');
    assert.equal((await finished(preview.operation.id)).status, 'succeeded');
    const update = await answered(202, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { spec: { tags: { contract: 'yes' } } } });
    // Behind the update on the cluster's lane: cancelled before it runs, or while it runs.
    const queued = await answered(202, 'POST', `/v1/clusters/${cluster}/preview`, { token: alpha });
    await answered(202, 'POST', `/v1/operations/${queued.operation.id}/cancel`, { token: alpha });
    assert.equal((await finished(update.operation.id)).status, 'succeeded');
    assert.equal((await finished(queued.operation.id)).status, 'cancelled');
    assert.ok((await answered(200, 'GET', `/v1/clusters/${cluster}/operations?limit=200`, { token: alpha })).items.length >= 6);
  });

  it('Webhooks: deliveries listed with every attempt (a 500 then a 200), a subscription deleted (204, then 404)', async () => {
    const deadline = Date.now() + 60_000;
    let deliveries: any[] = [];
    while (!deliveries.some((d) => d.status === 'succeeded' && d.attempts.length > 1)) {
      assert.ok(Date.now() < deadline, `no delivery succeeded after a failed attempt: ${JSON.stringify(deliveries)}`);
      await new Promise((r) => setTimeout(r, 250));
      deliveries = (await answered(200, 'GET', `/v1/webhooks/${webhookId}/deliveries?limit=200`, { token: alpha })).items;
    }
    assert.ok(deliveries.some((d) => d.event.type === 'drift.detected'));
    await answered(400, 'GET', `/v1/webhooks/${webhookId}/deliveries?limit=201`, { token: alpha });
    await answered(204, 'DELETE', `/v1/webhooks/${webhookId}`, { token: alpha });
    await answered(404, 'DELETE', `/v1/webhooks/${webhookId}`, { token: alpha });
  });

  /** Polls a rollout (every answer checked too) until `done` holds of it. */
  async function rolloutUntil(id: string, done: (r: any) => boolean, timeoutMs = 120_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rollout = await answered(200, 'GET', `/v1/rollouts/${id}`, { token: alpha });
      if (done(rollout)) return rollout;
      assert.ok(Date.now() < deadline, `rollout ${id} still ${rollout.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('Rollouts: previewed (200), started (201, 409 while one holds the cluster), paused and resumed, approved, halted and retried, cancelled', async () => {
    // A label that only this cluster carries (the other one of the file never provisioned).
    const labelled = await answered(202, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { labels: { rollout: 'contract' } } });
    assert.equal((await finished(labelled.operation.id)).status, 'succeeded');
    const rollout = (change: object, approval = false) => ({
      name: 'contract-rollout',
      selector: { blueprint: 'local-files', labels: { rollout: 'contract' } },
      change,
      strategy: { stages: [{ name: 'all', maxConcurrency: 1, approval }] },
    });
    const tagged = rollout({ spec: { tags: { rollout: 'contract' } } }, true);
    const plan = await answered(200, 'POST', '/v1/rollouts/preview', { token: alpha, body: tagged });
    assert.equal(plan.stages[0].members.length, 1, JSON.stringify(plan));
    const first = await answered(201, 'POST', '/v1/rollouts', { token: alpha, body: tagged });
    await answered(409, 'POST', '/v1/rollouts', { token: alpha, body: tagged });
    await answered(400, 'POST', '/v1/rollouts', { token: alpha, body: { ...tagged, strategy: { stages: [] } } });
    assert.equal((await answered(200, 'GET', '/v1/rollouts', { token: alpha })).items[0].id, first.id);
    assert.equal((await answered(200, 'POST', `/v1/rollouts/${first.id}/pause`, { token: alpha })).status, 'paused');
    assert.equal((await answered(200, 'POST', `/v1/rollouts/${first.id}/resume`, { token: alpha })).status, 'running');
    await rolloutUntil(first.id, (r) => r.status === 'awaiting-approval');
    await answered(400, 'GET', `/v1/rollouts/${first.id}/events?after=x`, { token: alpha });
    await answered(404, 'GET', `/v1/rollouts/${first.id}/events`, { token: beta });
    // The starter may not approve; an admin may.
    await answered(403, 'POST', `/v1/rollouts/${first.id}/approve`, { token: alpha });
    assert.equal((await answered(200, 'POST', `/v1/rollouts/${first.id}/approve`)).status, 'succeeded');
    await answered(409, 'POST', `/v1/rollouts/${first.id}/cancel`, { token: alpha });
    // Over: its stream replays everything and ends.
    const told = parseEventStream((await answered(200, 'GET', `/v1/rollouts/${first.id}/events`, { token: alpha })) as string);
    assert.deepEqual(told.at(-1), { event: 'end', data: JSON.stringify({ status: 'succeeded' }) }, JSON.stringify(told));
    // Previewed with the engine: a rollout in preview mode whose member gathers what its change would do.
    const peek = await answered(202, 'POST', '/v1/rollouts/preview', { token: alpha, body: { ...tagged, enginePreview: true } });
    assert.equal(peek.mode, 'preview');
    const peeked = await rolloutUntil(peek.id, (r) => r.finishedAt !== null);
    assert.equal(peeked.members[0].state, 'succeeded', JSON.stringify(peeked.members[0]));

    // A change its provider refuses: the member fails and the rollout halts at its budget of 0.
    const failing = await answered(201, 'POST', '/v1/rollouts', { token: alpha, body: rollout({ spec: { failOn: 'update' } }) });
    await rolloutUntil(failing.id, (r) => r.status === 'halted' && r.counts.failed === 1);
    await answered(409, 'POST', `/v1/rollouts/${failing.id}/approve`);
    assert.equal((await answered(200, 'POST', `/v1/rollouts/${failing.id}/retry-failed`, { token: alpha })).status, 'running');
    assert.equal((await answered(200, 'POST', `/v1/rollouts/${failing.id}/cancel`, { token: alpha })).status, 'cancelled');
    await rolloutUntil(failing.id, (r) => r.finishedAt !== null);
  });

  it('Teams and maintenance windows: a team default set (200), read (200, 404 to another team), refused to a team token (403) and bad input (400), removed (204); a cluster’s own policy set (200) and shown with its window', async () => {
    const policy = { windows: [{ days: ['sat', 'sun'], start: '02:00', duration: '4h', timezone: 'Europe/Paris' }], exclusions: [] };
    assert.deepEqual(await answered(200, 'PUT', '/v1/teams/alpha/maintenance', { body: policy }), { team: 'alpha', policy });
    assert.deepEqual((await answered(200, 'GET', '/v1/teams/alpha/maintenance', { token: alpha })).policy, policy);
    await answered(404, 'GET', '/v1/teams/alpha/maintenance', { token: beta });
    await answered(403, 'PUT', '/v1/teams/alpha/maintenance', { token: alpha, body: policy });
    await answered(403, 'DELETE', '/v1/teams/alpha/maintenance', { token: alpha });
    await answered(400, 'PUT', '/v1/teams/alpha/maintenance', { body: { windows: [{ ...policy.windows[0], timezone: 'Nowhere/Land' }] } });
    const shown = await answered(200, 'GET', `/v1/clusters/${cluster}`, { token: alpha });
    assert.deepEqual({ source: shown.maintenanceWindow.source, policy: shown.maintenanceWindow.policy }, { source: 'team', policy });
    await answered(204, 'DELETE', '/v1/teams/alpha/maintenance');
    const limits = { maxClusters: 50, maxNodes: 500, requiredLabels: { env: [] } };
    assert.deepEqual(await answered(200, 'PUT', '/v1/teams/alpha/policy', { body: limits }), { team: 'alpha', policy: limits });
    assert.deepEqual((await answered(200, 'GET', '/v1/teams/alpha/policy', { token: alpha })).policy, limits);
    await answered(403, 'PUT', '/v1/teams/alpha/policy', { token: alpha, body: limits });
    await answered(400, 'PUT', '/v1/teams/alpha/policy', { body: { maxClusters: -1 } });
    const refused = await answered(403, 'POST', '/v1/clusters', {
      token: alpha,
      body: { name: 'unlabelled', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(refused.errors[0].rule, 'policy.requiredLabels');
    assert.equal((await answered(200, 'GET', '/v1/teams/alpha', { token: alpha })).limits.length, 2);
    await answered(404, 'GET', '/v1/teams/alpha', { token: beta });
    await answered(204, 'DELETE', '/v1/teams/alpha/policy');
    assert.equal((await answered(200, 'GET', '/v1/teams/alpha/maintenance')).policy, null);
    const own = await answered(200, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { maintenance: { exclusions: [] } } });
    assert.deepEqual(own.cluster.maintenance, { windows: [], exclusions: [] });
    const window = (await answered(200, 'GET', `/v1/clusters/${cluster}`, { token: alpha })).maintenanceWindow;
    assert.deepEqual(window, { source: 'cluster', policy: { windows: [], exclusions: [] }, open: true, closesAt: null, waitingFor: null });
    await answered(200, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { maintenance: null } });
    const preview = await answered(202, 'POST', `/v1/clusters/${cluster}/preview?respectMaintenance=true`, { token: alpha });
    assert.equal(preview.operation.respectMaintenance, true);
    assert.equal((await finished(preview.operation.id)).status, 'succeeded');
    await answered(400, 'POST', `/v1/clusters/${cluster}/preview?respectMaintenance=yes`, { token: alpha });
  });

  it('Fleet: the versions view (200, a team sees its own) and bad input (400)', async () => {
    const fleet = await answered(200, 'GET', '/v1/fleet/versions?horizonDays=3650&limit=5');
    assert.ok(Array.isArray(fleet.counts) && fleet.endingSoon.items.length <= 5);
    await answered(200, 'GET', '/v1/fleet/versions', { token: alpha });
    await answered(400, 'GET', '/v1/fleet/versions?horizonDays=soon');
  });

  it('Clusters: destroyed (202); a second destroy and a change after it are 409', async () => {
    const destroy = await answered(202, 'DELETE', `/v1/clusters/${cluster}`, { token: alpha });
    await answered(409, 'DELETE', `/v1/clusters/${cluster}`, { token: alpha });
    assert.equal((await finished(destroy.operation.id)).status, 'succeeded');
    assert.equal((await answered(200, 'GET', `/v1/clusters/${cluster}`, { token: alpha })).status, 'destroyed');
    await answered(409, 'PATCH', `/v1/clusters/${cluster}`, { token: alpha, body: { spec: { version: '1.31' } } });
    await answered(409, 'POST', `/v1/clusters/${cluster}/drift-check`, { token: alpha });
  });

  it('Approvals: a refresh and a destroy wait for approval; rejected (200), approved (200), refused to the requester (403) and answered twice (409)', async () => {
    await answered(200, 'PUT', '/v1/teams/gamma/policy', { body: { approval: { kinds: ['refresh', 'destroy'] } } });
    const gamma = await h.teamToken('gamma');
    const approver = await h.teamToken('gamma', 'approver');
    const name = 'contract-approved';
    const created = await answered(202, 'POST', '/v1/clusters', {
      token: gamma,
      body: { name, blueprint: 'local-files', spec: { version: '1.30', nodePools: [{ name: 'default', size: 1 }] } },
    });
    assert.equal((await finished(created.operation.id)).status, 'succeeded');
    const waitFor = async (id: string) => {
      for (let op = await answered(200, 'GET', `/v1/operations/${id}`); ; op = await answered(200, 'GET', `/v1/operations/${id}`)) {
        if (op.status !== 'queued' && op.status !== 'running') return op;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const refresh = await answered(202, 'POST', `/v1/clusters/${name}/refresh`, { token: gamma });
    assert.equal((await waitFor(refresh.operation.id)).status, 'awaiting-approval');
    await answered(403, 'POST', `/v1/operations/${refresh.operation.id}/approve`, { token: gamma, body: {} });
    await answered(400, 'POST', `/v1/operations/${refresh.operation.id}/reject`, { token: approver, body: {} });
    const rejected = await answered(200, 'POST', `/v1/operations/${refresh.operation.id}/reject`, {
      token: approver,
      body: { comment: 'not now' },
    });
    assert.equal(rejected.error.code, 'approval-rejected');
    const destroy = await answered(202, 'DELETE', `/v1/clusters/${name}`, { token: gamma });
    assert.equal((await waitFor(destroy.operation.id)).status, 'awaiting-approval');
    const approved = await answered(200, 'POST', `/v1/operations/${destroy.operation.id}/approve`, { token: approver });
    assert.equal(approved.approval.state, 'approved');
    await answered(409, 'POST', `/v1/operations/${destroy.operation.id}/approve`, { body: { comment: 'late' } });
    assert.equal((await finished(destroy.operation.id)).status, 'succeeded');
  });

  it('every /v1 operation answers 401 without a token, and with a token it does not know', async () => {
    for (const { operationId, method, template, url } of pathsOf({ name: cluster, id: randomUUID() })) {
      if (!template.startsWith('/v1/')) continue;
      const res = await call(method, url, { token: null });
      assert.equal(res.status, 401, `${operationId}: ${res.text}`);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="clusterd"');
    }
    const refused = await call('GET', '/v1/clusters', { token: 'not-a-token' });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('every operation with a path parameter answers 400 to a malformed one and 404 to an unknown one', async () => {
    for (const { operationId, method, template } of pathsOf({ name: '', id: '' })) {
      if (!template.includes('{')) continue;
      const [bad] = pathsOf({ name: 'Not_A_Name', id: 'not-a-uuid' }).filter((p) => p.operationId === operationId);
      const [unknown] = pathsOf({ name: 'no-such-cluster', id: randomUUID() }).filter((p) => p.operationId === operationId);
      const body = method === 'PATCH' ? { driftPolicy: 'none' } : operationId === 'rejectOperation' ? { comment: 'no' } : undefined;
      assert.equal((await call(method, bad!.url, { body })).status, 400, `${operationId} ${bad!.url}`);
      // Any well-formed team name is a team (with no policy yet): only another team's token gets 404.
      if (template.includes('{team}')) continue;
      assert.equal((await call(method, unknown!.url, { body })).status, 404, `${operationId} ${unknown!.url}`);
    }
  });

  it('called every operation of the description, with every success status it documents', () => {
    contract.assertEverythingChecked();
    const statuses = [...contract.checked].map(([id, s]) => `${id} ${[...s].sort().join(',')}`);
    console.log(`${contract.checked.size} of ${contract.operationIds.length} operations called; statuses checked:\n${statuses.join('\n')}`);
  });
});
