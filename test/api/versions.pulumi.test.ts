import { afterAll, describe, expect } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

/**
 * The version lifecycle through the API, on the test blueprint's own calendar (test/blueprints/
 * local-files.ts, relative to the service's start): 1.20 past all support, 1.21 in extended support,
 * 1.22 in standard support for 20 more days, 1.23 for 400.
 */
const it = harnessTest({
  env: {
    ...ALLOW_LOOPBACK_RECEIVERS,
    SUPPORT_CHECK_INTERVAL_MS: '300',
    SUPPORT_WARNING_DAYS: '60,30,7',
    WEBHOOK_BACKOFF_MS: '50',
    DRIFT_SWEEP_CRON: 'off',
  },
});

const fieldsOf = (body: any) => (body.errors ?? []).map((e: any) => `${e.field}|${e.rule}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the version lifecycle, with the real engine', () => {
  let h: Harness;
  let receiver: Receiver;
  let alpha: string;
  let beta: string;

  async function provision(name: string, spec: Record<string, unknown>, token?: string) {
    const res = await h.api('POST', '/v1/clusters', {
      token,
      body: { team: token ? undefined : 'alpha', name, blueprint: 'local-files', spec },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await h.waitFor(res.body.operation.id)).status).toBe('succeeded');
    return res.body;
  }
  const warnings = () =>
    receiver.received
      .filter((r) => r.path === '/alpha')
      .map((r) => JSON.parse(r.body))
      .filter((p) => p.type === 'cluster.support-ending');

  it.beforeAll(async ({ harness }) => {
    h = harness;
    receiver = await startReceiver();
    alpha = await h.teamToken('alpha');
    beta = await h.teamToken('beta');
    const sub = await h.api('POST', '/v1/webhooks', {
      token: alpha,
      body: { url: receiver.url('/alpha'), events: ['cluster.support-ending'] },
    });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('refuses a new cluster on a version past its standard support, naming the rule and the dates, and records nothing', async () => {
    const jobs = await h.queuedJobs();
    const ended = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'too-old', blueprint: 'local-files', spec: localSpec({ version: '1.20' }) },
    });
    expect([ended.status, fieldsOf(ended.body)]).toEqual([400, ['spec.version|support.ended']]);
    expect(ended.body.errors[0].message).toMatch(
      /standard support ended \d{4}-\d\d-\d\d, extended support \d{4}-\d\d-\d\d.*1\.23 is the newest/,
    );
    const extended = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'too-old', blueprint: 'local-files', spec: localSpec({ version: '1.21' }) },
    });
    expect([extended.status, fieldsOf(extended.body)]).toEqual([400, ['spec.version|support.standard_ended']]);
    // This blueprint's provider has no extended support to allow.
    const allowed = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'too-old', blueprint: 'local-files', spec: localSpec({ version: '1.21' }), allowExtendedSupport: true },
    });
    expect([allowed.status, fieldsOf(allowed.body)]).toEqual([400, ['allowExtendedSupport|support.no_extended']]);
    expect((await h.api('GET', '/v1/clusters/too-old')).status).toBe(404);
    expect(await h.queuedJobs()).toBe(jobs);
  });

  it('gives a new cluster the newest version in standard support, and shows its support status', async () => {
    const created = await provision('newest', { nodePools: [{ name: 'default', size: 1 }] });
    expect(created.cluster.spec.version).toBe('1.23');
    expect(created.cluster.support).toMatchObject({
      version: '1.23',
      status: 'standard',
      nextVersion: null,
      newestInStandardSupport: '1.23',
    });
    const got = (await h.api('GET', '/v1/clusters/newest')).body;
    expect(got.support).toMatchObject({ version: '1.23', targetVersion: null, status: 'standard', extendedSupport: null });
    expect(got.support.daysToEndOfStandardSupport).toBeGreaterThanOrEqual(398);
    // A version the calendar does not list has no status.
    await provision('unlisted', localSpec({ version: '1.31' }));
    expect((await h.api('GET', '/v1/clusters/unlisted')).body.support).toBeNull();
  });

  it('warns once per threshold before the end of standard support, for the tightest passed, and again only for a new version', async () => {
    await provision('ending', localSpec({ version: '1.22' }));
    const [first] = await receiver.waitFor('/alpha', 1, 30_000);
    const warning = JSON.parse(first!.body);
    expect(warning).toMatchObject({
      type: 'cluster.support-ending',
      team: 'alpha',
      cluster: 'ending',
      data: { version: '1.22', status: 'standard', threshold: 30, nextVersion: '1.23', newestInStandardSupport: '1.23' },
    });
    expect(warning.data.daysToEndOfStandardSupport).toBeLessThanOrEqual(20);
    // More passes (every 300 ms) send nothing more: the 60-day threshold was passed with it, the 7-day one is not yet.
    await sleep(2_000);
    expect(warnings().map((w) => `${w.cluster}@${w.data.version}/${w.data.threshold}`)).toEqual(['ending@1.22/30']);
    // Upgraded, the cluster is 400 days from the end: nothing more.
    const up = await h.api('PATCH', '/v1/clusters/ending', { body: { spec: { version: '1.23' } } });
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    expect(up.body.cluster.support).toMatchObject({ version: '1.22', targetVersion: '1.23' });
    expect((await h.waitFor(up.body.operation.id)).status).toBe('succeeded');
    await sleep(1_500);
    expect(warnings()).toHaveLength(1);
    expect((await h.api('GET', '/v1/clusters/ending')).body.support).toMatchObject({ version: '1.23', targetVersion: null });
  });

  it('counts the fleet by blueprint, version and status, lists what ends within the horizon, and shows a team only its own', async () => {
    await provision('soon', localSpec({ version: '1.22' }));
    await provision('beta-soon', localSpec({ version: '1.22' }), beta);
    const fleet = (await h.api('GET', '/v1/fleet/versions?horizonDays=30')).body;
    const count = (version: string | null) => fleet.counts.find((c: any) => c.blueprint === 'local-files' && c.version === version);
    expect(count('1.22')).toEqual({ blueprint: 'local-files', version: '1.22', status: 'standard', clusters: 2 });
    expect(count('1.23')).toMatchObject({ status: 'standard', clusters: 2 });
    expect(count(null)).toMatchObject({ status: 'unknown' });
    expect(fleet.endingSoon.items.map((c: any) => c.cluster).sort()).toEqual(['beta-soon', 'soon']);
    expect(fleet.endingSoon.items[0]).toMatchObject({
      blueprint: 'local-files',
      version: '1.22',
      endOfStandardSupport: expect.any(String),
    });
    expect((await h.api('GET', '/v1/fleet/versions?horizonDays=10')).body.endingSoon.total).toBe(0);

    const own = (await h.api('GET', '/v1/fleet/versions?horizonDays=30', { token: beta })).body;
    expect(own.endingSoon.items.map((c: any) => c.cluster)).toEqual(['beta-soon']);
    expect(own.counts).toEqual([{ blueprint: 'local-files', version: '1.22', status: 'standard', clusters: 1 }]);
    const other = (await h.api('GET', '/v1/fleet/versions?team=alpha', { token: beta })).body;
    expect([other.counts, other.endingSoon.total]).toEqual([[], 0]);
    const bad = await h.api('GET', '/v1/fleet/versions?horizonDays=-1');
    expect([bad.status, fieldsOf(bad.body)]).toEqual([400, ['query.horizonDays|invalid_type']]);
  });

  it('upgrades a fleet to the newest version in standard support, pinned when the rollout is created', async () => {
    const res = await h.api('POST', '/v1/rollouts', {
      token: beta,
      body: {
        name: 'to-newest',
        selector: { blueprint: 'local-files' },
        strategy: { stages: [{ name: 'all', maxConcurrency: 1 }] },
        change: { upgrade: { version: 'newest-standard' } },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.change).toEqual({ upgrade: { version: '1.23', requested: 'newest-standard' } });
    const deadline = Date.now() + 120_000;
    let rollout = res.body;
    while (rollout.status !== 'succeeded' && Date.now() < deadline) {
      await sleep(250);
      rollout = (await h.api('GET', `/v1/rollouts/${res.body.id}`, { token: beta })).body;
      expect(['halted', 'cancelled']).not.toContain(rollout.status);
    }
    expect(rollout.status).toBe('succeeded');
    expect((await h.api('GET', '/v1/clusters/beta-soon')).body.support).toMatchObject({ version: '1.23', status: 'standard' });
  });
});
