import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { defaultEksVersion, defaultGkeVersion } from '../../programs/index.js';
import { EKS_CALENDAR, GKE_CALENDAR } from '../../programs/version-calendars.js';
import { supportOf, type SupportStatus, type VersionCalendarEntry } from '../../src/domain/version-support.js';
import { type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

// Versions picked by the calendars on the day the test runs, so that it holds as dates pass.
const today = Date.now();
const inStatus = (calendar: readonly VersionCalendarEntry[], status: SupportStatus) =>
  calendar.map((e) => e.version).find((v) => supportOf(calendar, v, today)?.status === status);
const eksNewest = defaultEksVersion(today);
const eksExtended = inStatus(EKS_CALENDAR, 'extended');
const eksEnded = inStatus(EKS_CALENDAR, 'unsupported');
const gkeExtended = inStatus(GKE_CALENDAR, 'extended');

const eks = {
  region: 'eu-west-1',
  version: eksNewest,
  nodePools: [{ name: 'general', instanceType: 'm6i.xlarge', minSize: 3, maxSize: 9, desiredSize: 3 }],
  access: { teamRoleArn: 'arn:aws:iam::123456789012:role/payments-admins' },
};
const gke = {
  projectId: 'acme-payments-prod',
  region: 'europe-west1',
  version: defaultGkeVersion(today),
  nodePools: [{ name: 'general', machineType: 'e2-standard-8', minSize: 3, maxSize: 12 }],
  access: { teamGroup: 'payments@acme.example' },
};

// No cloud here: make sure no stray credentials or plugins from the machine are used.
const it = harnessTest({ env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', GOOGLE_CREDENTIALS: '', DRIFT_SWEEP_CRON: 'off' } });

describe('the eks and gke blueprints through the API', () => {
  let h: Harness;
  const locks = () =>
    readdirSync(path.join(h.dataDir, 'state'), { recursive: true })
      .map(String)
      .filter((f) => f.includes('locks') && f.endsWith('.json'));

  it.beforeAll(({ harness }) => {
    h = harness;
  });

  it('lists both built-in blueprints with their spec schemas', async () => {
    const items = (await h.api('GET', '/v1/blueprints')).body.items;
    const names = items.map((b: any) => b.name);
    assert.ok(names.includes('eks') && names.includes('gke'), names.join());
    assert.equal(items.find((b: any) => b.name === 'eks').specSchema.type, 'object');
  });

  it('answers 400 naming the field for a bad spec, and queues nothing', async () => {
    const jobs = await h.queuedJobs();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['eks', { ...eks, version: '1.99' }, 'spec.version'],
      ['eks', { ...eks, nodePools: [{ ...eks.nodePools[0], minSize: 5, maxSize: 2 }] }, 'spec.nodePools.0'],
      ['eks', { ...eks, nodePools: [{ ...eks.nodePools[0], instanceType: 'huge' }] }, 'spec.nodePools.0.instanceType'],
      ['gke', { ...gke, nodePools: [gke.nodePools[0], gke.nodePools[0]] }, 'spec.nodePools'],
      ['gke', { ...gke, projectId: undefined }, 'spec.projectId'],
    ];
    for (const [blueprint, spec, field] of cases) {
      const res = await h.api('POST', '/v1/clusters', { body: { team: 'payments', name: `bad-${blueprint}`, blueprint, spec } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.ok(
        res.body.errors.some((e: any) => e.field.startsWith(field)),
        `${field}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    assert.equal(await h.queuedJobs(), jobs);
  });

  it('refuses a new cluster on a version past its standard support; on EKS, allowExtendedSupport creates it in extended support and says so', async () => {
    const jobs = await h.queuedJobs();
    const create = (name: string, blueprint: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      h.api('POST', '/v1/clusters', { body: { team: 'payments', name, blueprint, spec, ...extra } });
    const fields = (res: { body: any }) => res.body.errors.map((e: any) => `${e.field}|${e.rule}`);
    assert.ok(
      eksExtended && eksEnded && gkeExtended,
      'the calendars list versions in each status (refresh the test when they no longer do)',
    );
    const ended = await create('old-eks', 'eks', { ...eks, version: eksEnded }, { allowExtendedSupport: true });
    assert.deepEqual([ended.status, fields(ended)], [400, ['spec.version|support.ended']]);
    const past = await create('old-eks', 'eks', { ...eks, version: eksExtended });
    assert.deepEqual([past.status, fields(past)], [400, ['spec.version|support.standard_ended']]);
    const dates = supportOf(EKS_CALENDAR, eksExtended, today)!;
    assert.ok(
      past.body.errors[0].message.includes(`(${dates.endOfStandardSupport}); its extended support ends ${dates.endOfExtendedSupport}`),
    );
    const gkePast = await create('old-gke', 'gke', { ...gke, version: gkeExtended }, { allowExtendedSupport: true });
    assert.deepEqual([gkePast.status, fields(gkePast)], [400, ['allowExtendedSupport|support.no_extended']]);
    const contradicting = await create(
      'old-eks',
      'eks',
      { ...eks, version: eksExtended, upgradePolicy: 'STANDARD' },
      { allowExtendedSupport: true },
    );
    assert.deepEqual([contradicting.status, fields(contradicting)], [400, ['spec.upgradePolicy|support.extended_required']]);
    assert.equal(await h.queuedJobs(), jobs, 'nothing queued');

    const extended = await create('old-eks', 'eks', { ...eks, version: eksExtended }, { allowExtendedSupport: true });
    assert.equal(extended.status, 202, JSON.stringify(extended.body));
    assert.equal(extended.body.cluster.spec.upgradePolicy, 'EXTENDED');
    assert.equal(extended.body.cluster.support.status, 'extended');
    assert.equal(extended.body.cluster.support.extendedSupport, true);
    assert.match(extended.body.notices[0], /is past the end of its standard support .*spec\.upgradePolicy is "EXTENDED"/);
    const cancel = await h.api('POST', `/v1/operations/${extended.body.operation.id}/cancel`);
    assert.ok([200, 202, 409].includes(cancel.status), JSON.stringify(cancel.body));
    await h.waitFor(extended.body.operation.id, undefined, 240_000);
    // Without a version: the newest in standard support whose add-on pins are verified.
    const newest = await create('new-eks', 'eks', { ...eks, version: undefined });
    assert.equal(newest.status, 202, JSON.stringify(newest.body));
    assert.equal(newest.body.cluster.spec.version, newest.body.cluster.support.newestInStandardSupport);
    await h.api('POST', `/v1/operations/${newest.body.operation.id}/cancel`);
    await h.waitFor(newest.body.operation.id, undefined, 240_000);
  });

  for (const [blueprint, spec] of [
    ['eks', eks],
    ['gke', gke],
  ] as const) {
    it(`accepts a good ${blueprint} spec; the run ends failed saying what is missing, and leaves no lock`, async () => {
      const res = await h.api('POST', '/v1/clusters', { body: { team: 'payments', name: `real-${blueprint}`, blueprint, spec } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.cluster.spec.deletionProtection, true, 'production default');
      const op = await h.waitFor(res.body.operation.id, undefined, 240_000);
      assert.equal(op.status, 'failed');
      assert.ok(['provider-plugin-missing', 'cloud-credentials-missing'].includes(op.error.code), JSON.stringify(op.error));
      assert.match(`${op.error.title} ${op.error.detail}`, /plugin|credential/i);
      assert.deepEqual(locks(), []);
      const destroy = await h.api('DELETE', `/v1/clusters/real-${blueprint}`);
      assert.equal(destroy.status, 400, 'deletion protection is on');
      assert.equal(destroy.body.errors[0].field, 'spec.deletionProtection');
    });
  }
});
