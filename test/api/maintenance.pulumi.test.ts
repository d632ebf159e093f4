import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const it = harnessTest({
  env: {
    WORKER_CONCURRENCY: '3',
    ROLLOUT_DRIVER_INTERVAL_MS: '200',
    EXPIRY_CHECK_INTERVAL_MS: '300',
    RECONCILE_INTERVAL_MS: '1000',
    DRIFT_SWEEP_CRON: 'off',
  },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A weekly window (UTC) that opens at `at`, to the second, and stays open an hour. */
function windowOpeningAt(at: number) {
  const d = new Date(at);
  return { days: [DAYS[d.getUTCDay()]], start: d.toISOString().slice(11, 19), duration: '1h', timezone: 'UTC' };
}

async function provision(h: Harness, token: string, name: string, extra: Record<string, unknown> = {}) {
  const res = await h.api('POST', '/v1/clusters', { token, body: { name, blueprint: 'local-files', spec: localSpec(), ...extra } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal((await h.waitFor(res.body.operation.id)).status, 'succeeded', 'a person’s provision runs at once');
}

/** Polls `path` until `done` holds of its body. */
async function until(h: Harness, p: string, done: (body: any) => boolean, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await h.api('GET', p);
    if (done(body)) return body;
    if (Date.now() > deadline) throw new Error(`${p} never got there: ${JSON.stringify(body)}`);
    await sleep(150);
  }
}

describe('maintenance windows, with the real engine', () => {
  it('holds a rollout member until its cluster’s window opens and starts it in the window, while a person’s change runs at once', async ({
    harness: h,
  }) => {
    const token = await h.teamToken('alpha');
    await provision(h, token, 'mw-open', { labels: { fleet: 'mw' } });
    await provision(h, token, 'mw-windowed', { labels: { fleet: 'mw' } });
    // Far enough ahead for the other member's update and the person's change to start first on a loaded machine.
    const opensAt = Math.ceil((Date.now() + 15_000) / 1000) * 1000;
    const policy = { windows: [windowOpeningAt(opensAt)] };
    const set = await h.api('PATCH', '/v1/clusters/mw-windowed', { token, body: { maintenance: policy } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    expect(set.body.cluster.maintenance).toEqual({ ...policy, exclusions: [] });
    const shown = (await h.api('GET', '/v1/clusters/mw-windowed', { token })).body.maintenanceWindow;
    expect(shown).toEqual({
      source: 'cluster',
      policy: { ...policy, exclusions: [] },
      open: false,
      closesAt: null,
      waitingFor: { reason: 'maintenance-window', next: new Date(opensAt).toISOString(), detail: 'outside every maintenance window' },
    });

    const created = await h.api('POST', '/v1/rollouts', {
      token,
      body: {
        name: 'in-the-window',
        selector: { blueprint: 'local-files', labels: { fleet: 'mw' } },
        change: { upgrade: { version: '1.31' } },
        strategy: { stages: [{ name: 'all', maxConcurrency: 2 }] },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;
    const member = (r: any, name: string) => r.members.find((m: any) => m.cluster === name);
    const held = await until(
      h,
      `/v1/rollouts/${id}`,
      (r) => member(r, 'mw-open').state === 'succeeded' && member(r, 'mw-windowed').waitingFor,
    );
    expect(member(held, 'mw-windowed')).toMatchObject({
      state: 'pending',
      operations: [],
      waitingFor: { reason: 'maintenance-window', next: new Date(opensAt).toISOString() },
    });
    expect(held.waitingFor).toEqual({
      reason: 'maintenance-window',
      next: new Date(opensAt).toISOString(),
      detail: "1 member(s) wait for their cluster's maintenance window",
    });

    // A person's change of the waiting member runs at once: nothing of the rollout stands in its way.
    const patched = await h.api('PATCH', '/v1/clusters/mw-windowed', {
      token,
      body: { spec: { nodePools: [{ name: 'default', size: 3 }] } },
    });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    const personal = await h.waitFor(patched.body.operation.id);
    assert.equal(personal.status, 'succeeded');
    assert.ok(
      Date.parse(personal.startedAt) < opensAt,
      `the person’s update started before the window opened (${personal.startedAt}, window ${new Date(opensAt).toISOString()})`,
    );

    const done = await until(h, `/v1/rollouts/${id}`, (r) => r.status === 'succeeded');
    const step = (await h.api('GET', `/v1/operations/${member(done, 'mw-windowed').operations[0]}`)).body;
    expect(step).toMatchObject({ kind: 'update', status: 'succeeded', respectMaintenance: true, waitingFor: null });
    assert.ok(
      Date.parse(step.queuedAt) >= opensAt,
      `the member started in its window (${step.queuedAt}, window ${new Date(opensAt).toISOString()})`,
    );
    expect(done.waitingFor).toBeNull();
    const after = (await h.api('GET', '/v1/clusters/mw-windowed', { token })).body;
    expect(after.spec).toEqual(localSpec({ version: '1.31', nodePools: [{ name: 'default', size: 3 }] }));
    expect(after.maintenanceWindow).toMatchObject({ source: 'cluster', open: true, closesAt: new Date(opensAt + 3_600_000).toISOString() });
  });

  it('holds a remediation, an expiry destroy and a respectMaintenance update under a team freeze; a person’s own operations run at once; the work starts when the freeze ends', async ({
    harness: h,
  }) => {
    const beta = await h.teamToken('beta');
    const freeze = {
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'release freeze',
    };
    expect((await h.api('PUT', '/v1/teams/beta/maintenance', { token: beta, body: { exclusions: [freeze] } })).status).toBe(403);
    const put = await h.api('PUT', '/v1/teams/beta/maintenance', { body: { exclusions: [freeze] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    expect(put.body).toEqual({ team: 'beta', policy: { windows: [], exclusions: [freeze] } });
    expect((await h.api('GET', '/v1/teams/beta/maintenance', { token: beta })).body.policy.exclusions).toEqual([freeze]);
    expect((await h.api('GET', '/v1/teams/alpha/maintenance', { token: beta })).status).toBe(404);
    const invalid = await h.api('PUT', '/v1/teams/beta/maintenance', {
      body: { windows: [{ days: ['sat'], start: '2:00', duration: '4h', timezone: 'UTC' }] },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([expect.objectContaining({ field: 'windows.0.start', rule: 'invalid_format' })]);

    await provision(h, beta, 'mx-frozen', { driftPolicy: 'auto' });
    const ops = async () => (await h.api('GET', '/v1/clusters/mx-frozen/operations', { token: beta })).body.items as any[];

    // Drift found by a person's check (which runs at once): the remediation the service queues waits.
    const pool = path.join(h.dataDir, 'local-clusters', 'mx-frozen', 'pools', 'default.json');
    writeFileSync(pool, JSON.stringify({ ...JSON.parse(readFileSync(pool, 'utf8')), size: 7 }));
    const check = await h.api('POST', '/v1/clusters/mx-frozen/drift-check', { token: beta });
    assert.equal((await h.waitFor(check.body.operation.id)).status, 'succeeded');
    const remediation = await until(h, '/v1/clusters/mx-frozen/operations', (b) =>
      b.items.some((o: any) => o.kind === 'remediate' && o.waitingFor),
    ).then((b) => b.items.find((o: any) => o.kind === 'remediate'));
    expect(remediation).toMatchObject({
      status: 'queued',
      respectMaintenance: true,
      requestedBy: 'clusterd (drift remediation)',
      waitingFor: { reason: 'maintenance-window', next: freeze.end, detail: 'maintenance exclusion: release freeze' },
    });

    // A person may ask to wait too; a later change of theirs without it runs at once and replaces it.
    const polite = await h.api('PATCH', '/v1/clusters/mx-frozen', {
      token: beta,
      body: { spec: { nodePools: [{ name: 'default', size: 3 }] }, respectMaintenance: true },
    });
    assert.equal(polite.status, 202, JSON.stringify(polite.body));
    await until(h, `/v1/operations/${polite.body.operation.id}`, (o) => o.waitingFor?.detail === 'maintenance exclusion: release freeze');
    const urgent = await h.api('PATCH', '/v1/clusters/mx-frozen', {
      token: beta,
      body: { spec: { nodePools: [{ name: 'default', size: 4 }] } },
    });
    assert.equal((await h.waitFor(urgent.body.operation.id)).status, 'succeeded');
    expect((await h.api('GET', `/v1/operations/${polite.body.operation.id}`)).body).toMatchObject({
      status: 'superseded',
      supersededBy: urgent.body.operation.id,
    });

    // The cluster expires: its destroy is queued at once, and waits.
    const expiring = await h.api('PATCH', '/v1/clusters/mx-frozen', {
      token: beta,
      body: { expiresAt: new Date(Date.now() + 1_000).toISOString() },
    });
    assert.equal(expiring.status, 200, JSON.stringify(expiring.body));
    const destroy = await until(h, '/v1/clusters/mx-frozen/operations', (b) =>
      b.items.some((o: any) => o.kind === 'destroy' && o.waitingFor),
    ).then((b) => b.items.find((o: any) => o.kind === 'destroy'));
    expect(destroy).toMatchObject({ status: 'queued', respectMaintenance: true, requestedBy: 'clusterd (expiry)' });
    expect((await h.api('GET', '/v1/clusters/mx-frozen', { token: beta })).body.maintenanceWindow).toMatchObject({
      source: 'team',
      open: false,
      waitingFor: { detail: 'maintenance exclusion: release freeze' },
    });
    await sleep(1_500);
    const still = await ops();
    expect([remediation.id, destroy.id].map((id) => still.find((o) => o.id === id)?.status)).toEqual(['queued', 'queued']);

    // The freeze is cut short: what waited is looked at again, and starts once it ends.
    const endsAt = Math.ceil((Date.now() + 3_000) / 1000) * 1000;
    const shortened = { ...freeze, end: new Date(endsAt).toISOString() };
    assert.equal((await h.api('PUT', '/v1/teams/beta/maintenance', { body: { exclusions: [shortened] } })).status, 200);
    const remediated = await h.waitFor(remediation.id);
    const destroyed = await h.waitFor(destroy.id);
    expect([remediated.status, destroyed.status]).toEqual(['succeeded', 'succeeded']);
    assert.ok(Date.parse(remediated.startedAt) >= endsAt, `the remediation waited for the end of the freeze (${remediated.startedAt})`);
    assert.ok(Date.parse(destroyed.startedAt) >= Date.parse(remediated.finishedAt), 'then the destroy, in order');
    expect((await h.api('GET', '/v1/clusters/mx-frozen', { token: beta })).body.status).toBe('destroyed');
  });
});
