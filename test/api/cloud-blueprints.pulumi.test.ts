import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const eks = {
  region: 'eu-west-1',
  version: '1.32',
  nodePools: [{ name: 'general', instanceType: 'm6i.xlarge', minSize: 3, maxSize: 9, desiredSize: 3 }],
  access: { teamRoleArn: 'arn:aws:iam::123456789012:role/payments-admins' },
};
const gke = {
  projectId: 'acme-payments-prod',
  region: 'europe-west1',
  version: '1.33',
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
