import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

const SECRET = 'drift-secret-value-42';

const it = harnessTest({
  env: {
    ...ALLOW_LOOPBACK_RECEIVERS,
    WORKER_CONCURRENCY: '3',
    DRIFT_MAX_CONCURRENT_CHECKS: '2',
    DRIFT_SWEEP_POLL_MS: '200',
    DRIFT_SWEEP_CRON: 'off',
    WEBHOOK_BACKOFF_MS: '50',
  },
});

describe('drift detection and remediation, with the real engine', () => {
  let h: Harness;
  let alphaToken: string;
  let receiver: Receiver;

  const poolFile = (cluster: string, pool = 'default') => path.join(h.dataDir, 'local-clusters', cluster, 'pools', `${pool}.json`);
  const editJson = (file: string, change: Record<string, unknown>) =>
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }));

  async function create(name: string, over: Record<string, unknown> = {}, team = 'alpha') {
    const { driftPolicy, ...spec } = over;
    const res = await h.api('POST', '/v1/clusters', {
      body: {
        team,
        name,
        blueprint: 'local-files',
        spec: localSpec({ secretValue: SECRET, ...spec }),
        ...(driftPolicy ? { driftPolicy } : {}),
      },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
  }

  async function sweep(): Promise<any> {
    const res = await h.api('POST', '/v1/drift/sweeps');
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.headers.get('location'), `/v1/drift/sweeps/${res.body.id}`);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const s = (await h.api('GET', `/v1/drift/sweeps/${res.body.id}`)).body;
      if (s.status !== 'running') return s;
      assert.ok(Date.now() < deadline, 'sweep did not finish');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * The cluster's latest report once its remediation is decided: the decision follows the check's
   * outcome (from the outbox), so a read right after the check may come before it.
   */
  async function decidedReport(name: string): Promise<any> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const latest = (await h.api('GET', `/v1/clusters/${name}/drift`)).body.latest;
      if (latest?.remediation?.action !== 'none' || Date.now() > deadline) return latest;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    alphaToken = await h.teamToken('alpha');
    const sub = await h.api('POST', '/v1/webhooks', {
      body: { url: receiver.url('/fleet'), events: ['drift.detected', 'drift.remediated'] },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    await create('drift-notify');
    await create('drift-auto', { driftPolicy: 'auto' });
    await create('drift-clean', {}, 'beta');
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('reports a clean cluster clean and a changed resource with the exact property and both values', async () => {
    editJson(poolFile('drift-notify'), { size: 9 });
    editJson(poolFile('drift-auto'), { size: 7 });
    const s = await sweep();
    assert.deepEqual(
      { status: s.status, total: s.total, clean: s.clean, drifted: s.drifted, failed: s.failed, skipped: s.skipped },
      { status: 'succeeded', total: 3, clean: 1, drifted: 2, failed: 0, skipped: [] },
    );

    const notify = { latest: await decidedReport('drift-notify') };
    assert.equal(notify.latest.status, 'drifted');
    assert.equal(notify.latest.sweepId, s.id);
    assert.deepEqual(notify.latest.kinds, ['cloud']);
    assert.deepEqual(
      notify.latest.resources.map((r: any) => ({ type: r.type, name: r.name, drift: r.drift, diffs: r.diffs })),
      [
        {
          type: 'pulumi-nodejs:dynamic/local-files:NodePool',
          name: 'pool-default',
          drift: 'cloud',
          diffs: [{ property: 'size', state: 2, actual: 9 }],
        },
      ],
    );
    assert.deepEqual(notify.latest.remediation, { action: 'notified' });
    assert.equal((await h.api('GET', '/v1/clusters/drift-clean/drift')).body.latest.status, 'clean');
    assert.equal(JSON.parse(readFileSync(poolFile('drift-notify'), 'utf8')).size, 9, 'notify must not touch the cluster');
  });

  it('remediates a cluster under the auto policy with a recorded operation', async () => {
    const report = await decidedReport('drift-auto');
    assert.equal(report.remediation.action, 'remediating');
    const op = await h.waitFor(report.remediation.operationId);
    assert.deepEqual(
      { kind: op.kind, status: op.status, requestedBy: op.requestedBy },
      { kind: 'remediate', status: 'succeeded', requestedBy: 'clusterd (drift remediation)' },
    );
    assert.equal(JSON.parse(readFileSync(poolFile('drift-auto'), 'utf8')).size, 2);
    const check = await h.waitFor((await h.api('POST', '/v1/clusters/drift-auto/drift-check')).body.operation.id);
    assert.equal(check.status, 'succeeded');
    assert.equal((await h.api('GET', '/v1/clusters/drift-auto/drift')).body.latest.status, 'clean');
  });

  it('tells subscribers: drift detected on both drifted clusters, remediated on the auto one, without secrets', async () => {
    const bodies = (await receiver.waitFor('/fleet', 3)).map((r) => r.body);
    const events = bodies
      .map((b) => JSON.parse(b))
      .map((e) => `${e.type} ${e.cluster}`)
      .sort();
    assert.deepEqual(events, ['drift.detected drift-auto', 'drift.detected drift-notify', 'drift.remediated drift-auto']);
    const notify = bodies.map((b) => JSON.parse(b)).find((e) => e.type === 'drift.detected' && e.cluster === 'drift-notify');
    assert.deepEqual(
      notify.data.resources.map((r: any) => [r.name, r.drift, r.properties]),
      [['pool-default', 'cloud', ['size']]],
    );
    assert.ok(bodies.every((b) => !b.includes(SECRET)));
  });

  it('masks a secret value that shows up in a drifted property, and no report carries a secret', async () => {
    editJson(poolFile('drift-notify'), { tags: { leaked: SECRET } });
    const check = await h.waitFor((await h.api('POST', '/v1/clusters/drift-notify/drift-check')).body.operation.id);
    assert.equal(check.status, 'succeeded');
    const body = (await h.api('GET', '/v1/clusters/drift-notify/drift')).body;
    const tags = body.latest.resources.flatMap((r: any) => r.diffs).find((d: any) => d.property === 'tags');
    assert.deepEqual(tags, { property: 'tags', state: {}, actual: { leaked: '[secret]' } }, JSON.stringify(body.latest));
    assert.ok(!JSON.stringify(body).includes(SECRET));
    assert.ok(!JSON.stringify((await h.api('GET', `/v1/operations/${check.id}`)).body).includes(SECRET));
    assert.equal(body.items.length, 2, 'history keeps both reports, newest first');
    assert.equal(body.items[0].id, body.latest.id);
  });

  it('summarises the fleet per team and blueprint; a team sees only its own', async () => {
    const fleet = (await h.api('GET', '/v1/drift')).body;
    assert.deepEqual(
      { clusters: fleet.clusters, checked: fleet.checked, clean: fleet.clean, drifted: fleet.drifted, failed: fleet.failed },
      { clusters: 3, checked: 3, clean: 2, drifted: 1, failed: 0 },
    );
    assert.deepEqual(fleet.byTeam.beta, { clusters: 1, checked: 1, clean: 1, drifted: 0, failed: 0, neverChecked: 0 });
    assert.equal(fleet.byBlueprint['local-files'].clusters, 3);
    const alpha = (await h.api('GET', '/v1/drift', { token: alphaToken })).body;
    assert.deepEqual(Object.keys(alpha.byTeam), ['alpha']);
    assert.equal((await h.api('GET', '/v1/clusters/drift-clean/drift', { token: alphaToken })).status, 404);
    assert.equal((await h.api('POST', '/v1/drift/sweeps', { token: alphaToken })).status, 403);
  });

  it('does not auto-remediate again and again a cluster whose last update failed', async () => {
    const failing = await h.waitFor(
      (await h.api('PATCH', '/v1/clusters/drift-auto', { body: { spec: { failOn: 'update', tags: { try: '1' } } } })).body.operation.id,
    );
    assert.equal(failing.status, 'failed');
    editJson(poolFile('drift-auto'), { size: 5 });
    const check = await h.waitFor((await h.api('POST', '/v1/clusters/drift-auto/drift-check')).body.operation.id);
    assert.equal(check.status, 'succeeded');
    const report = await decidedReport('drift-auto');
    assert.equal(report.status, 'drifted');
    assert.deepEqual(report.kinds, ['cloud', 'spec'], 'the failed update left the state behind the desired spec too');
    assert.equal(report.remediation.action, 'skipped');
    assert.match(report.remediation.reason, /^the last update \(operation [0-9a-f-]+\) failed/);
    const kinds = (await h.api('GET', '/v1/clusters/drift-auto/operations')).body.items.map((o: any) => o.kind);
    assert.equal(kinds[0], 'drift-check', 'no remediation was queued');
  });

  it('checks a busy cluster once its operation is done, and a check yields to an operation someone asks for', async () => {
    await create('drift-busy', { readDelayMs: 1500 });
    // A slow update keeps the cluster busy when the sweep starts.
    const slow = (await h.api('PATCH', '/v1/clusters/drift-busy', { body: { spec: { delayMs: 3000, tags: { slow: 'yes' } } } })).body
      .operation;
    const sweepRes = await h.api('POST', '/v1/drift/sweeps');
    assert.equal(sweepRes.status, 202);
    assert.equal((await h.api('POST', '/v1/drift/sweeps')).status, 409, 'a sweep never piles on a running one');
    const updated = await h.waitFor(slow.id);
    assert.equal(updated.status, 'succeeded');
    // Once its check runs (reads take 1.5 s per resource), someone asks for a preview: the check makes way.
    // The sweep may check the other clusters first (two at a time): on a loaded machine that takes a while.
    let check: any;
    for (const until = Date.now() + 180_000; !check && Date.now() < until;) {
      const ops = (await h.api('GET', '/v1/clusters/drift-busy/operations')).body.items;
      check = ops.find((o: any) => o.kind === 'drift-check' && o.status === 'running');
      if (!check) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(check, 'the sweep checked the busy cluster after its update');
    const preview = await h.waitFor((await h.api('POST', '/v1/clusters/drift-busy/preview')).body.operation.id);
    assert.equal(preview.status, 'succeeded');
    const finishedCheck = await h.waitFor(check.id);
    assert.equal(finishedCheck.status, 'succeeded');
    assert.ok(finishedCheck.attempts >= 2, 'the check stopped for the preview and ran again');
    assert.ok(Date.parse(finishedCheck.finishedAt) > Date.parse(preview.finishedAt));
    const deadline = Date.now() + 120_000;
    let s: any;
    do {
      s = (await h.api('GET', `/v1/drift/sweeps/${sweepRes.body.id}`)).body;
      await new Promise((r) => setTimeout(r, 250));
    } while (s.status === 'running' && Date.now() < deadline);
    assert.equal(s.status, 'succeeded');
    assert.deepEqual(s.skipped, []);
    assert.equal(s.clean + s.drifted + s.failed, s.total);
  });

  it('answers 400 naming the field for a bad drift policy, and 404 for an unknown sweep', async () => {
    const bad = await h.api('PATCH', '/v1/clusters/drift-clean', { body: { driftPolicy: 'sometimes' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'driftPolicy');
    const ok = await h.api('PATCH', '/v1/clusters/drift-clean', { body: { driftPolicy: 'auto' } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual({ policy: ok.body.cluster.driftPolicy, operation: ok.body.operation }, { policy: 'auto', operation: null });
    assert.equal((await h.api('GET', '/v1/drift/sweeps/00000000-0000-4000-8000-000000000000')).status, 404);
  });
});
