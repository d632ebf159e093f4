import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe } from 'vitest';
import { localSpec, ROOT, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

/** The test blueprint's pack: pools of more than 50 nodes are refused (mandatory); a cluster without an owner tag is noted (advisory). */
const PACK = path.join(ROOT, 'test/policy-packs/local-files-guard');
const it = harnessTest({ env: { CLUSTERD_POLICY_PACKS: PACK, WORKER_CONCURRENCY: '3' } });

/** Operators' policy packs on every run, through the service and the real engine. */
describe.concurrent('policy packs', () => {
  const poolFile = (h: Harness, name: string, pool: string) => path.join(h.dataDir, 'local-clusters', name, 'pools', `${pool}.json`);
  const create = async (h: Harness, stem: string, spec: Record<string, unknown>) => {
    const name = `${stem}-${randomUUID().slice(0, 8)}`;
    const res = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint: 'local-files', spec } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return { name, op: await h.waitFor(res.body.operation.id, undefined, 300_000) };
  };

  it('fails a provision a mandatory policy refuses, with the structured list, and applies nothing', async ({ harness: h }) => {
    const { name, op } = await create(h, 'too-big', localSpec({ nodePools: [{ name: 'big', size: 60 }], tags: { owner: 'me' } }));
    assert.equal(op.status, 'failed');
    assert.equal(op.error.code, 'policy-violation', JSON.stringify(op.error));
    assert.deepEqual(
      op.error.violations.map((v: any) => [v.pack, v.policy, v.enforcement, v.resource.split('::').pop()]),
      [['local-files-guard', 'pool-size-limit', 'mandatory', 'pool-big']],
    );
    assert.match(op.error.violations[0].message, /node pool big has 60 nodes; at most 50 are allowed/);
    assert.match(op.error.detail, /local-files-guard\/pool-size-limit on pool-big: node pool big has 60 nodes/);
    assert.equal(existsSync(path.join(h.dataDir, 'local-clusters', name)), false, 'nothing may be applied');
  });

  const run = async (h: Harness, name: string, kind: 'preview' | 'drift-check') => {
    const res = await h.api('POST', `/v1/clusters/${name}/${kind}`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return h.waitFor(res.body.operation.id, undefined, 300_000);
  };
  const advisories = (op: any) => (op.summary?.policyViolations ?? []).map((v: any) => [v.policy, v.enforcement]);

  it('runs what only an advisory policy notes, and records the finding in its summary, on a drift check too', async ({ harness: h }) => {
    const { name, op } = await create(h, 'no-owner', localSpec());
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual(advisories(op), [['cluster-owner-tag', 'advisory']]);
    const check = await run(h, name, 'drift-check');
    assert.equal(check.status, 'succeeded', JSON.stringify(check.error));
    assert.deepEqual(advisories(check), [['cluster-owner-tag', 'advisory']]);
  });

  it('refuses an update into a violation and leaves the cluster as it was', async ({ harness: h }) => {
    const { name, op } = await create(h, 'grows', localSpec({ tags: { owner: 'me' } }));
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.summary.policyViolations, undefined);
    const grow = await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { nodePools: [{ name: 'default', size: 80 }] } } });
    assert.equal(grow.status, 202, JSON.stringify(grow.body));
    const done = await h.waitFor(grow.body.operation.id, undefined, 300_000);
    assert.equal(done.error?.code, 'policy-violation', JSON.stringify(done.error));
    assert.equal(JSON.parse(readFileSync(poolFile(h, name, 'default'), 'utf8')).size, 2);
    // The desired spec still asks for 80 nodes: a preview and a drift check of it meet the same policy.
    for (const kind of ['preview', 'drift-check'] as const) {
      const op = await run(h, name, kind);
      assert.equal(op.error?.code, 'policy-violation', `${kind}: ${JSON.stringify(op.error)}`);
      assert.deepEqual(
        op.error.violations.map((v: any) => [v.policy, v.enforcement]),
        [['pool-size-limit', 'mandatory']],
      );
    }
    assert.equal(JSON.parse(readFileSync(poolFile(h, name, 'default'), 'utf8')).size, 2);
  });
});
