import { describe, expect, it } from 'vitest';
import { builtInBlueprints, eksSpecSchema } from '../../programs/index.js';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createRolloutBody, soakMs, type CreateRolloutBody } from '../../src/rollouts/requests.js';
import { concurrencyOf, nextStep, planRollout, plannedSteps } from '../../src/rollouts/rollout-plan.js';
import { changeIssues } from '../../src/guardrails/policy-rules.js';
import localFiles from '../blueprints/local-files.js';

const local = localFiles({ dataDir: '/tmp/unused' });
const eks = builtInBlueprints.find((b) => b.name === 'eks')!;
const eksSpec = (spec: Record<string, unknown>) =>
  eksSpecSchema.parse({ region: 'eu-west-1', access: { teamRoleArn: 'arn:aws:iam::123456789012:role/admins' }, ...spec });

let serial = 0;
function cluster(name: string, labels: Record<string, string>, spec: Record<string, unknown>): ClusterRecord {
  serial += 1;
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    name,
    team: 'payments',
    blueprint: 'local-files',
    labels,
    spec,
    generation: 1,
    appliedSpec: spec,
    appliedGeneration: 1,
    status: 'ready',
    outputs: {},
    lastOperationId: null,
    driftPolicy: 'notify',
    expiresAt: null,
    maintenance: null,
    createdAt: '2026-11-30T00:00:00.000Z',
    updatedAt: '2026-11-30T00:00:00.000Z',
  };
}

const at = (version: string, size = 1) => ({ version, nodePools: [{ name: 'default', size }] });

function body(extra: Partial<CreateRolloutBody> = {}): CreateRolloutBody {
  return parseOrThrow(createRolloutBody, {
    name: 'fleet-upgrade',
    selector: { blueprint: 'local-files' },
    change: { upgrade: { version: '1.32' } },
    strategy: {
      stages: [
        { name: 'canary', selector: { ring: 'canary' }, maxConcurrency: 1, soak: '30s', approval: true },
        { name: 'rest', maxConcurrency: '25%', maxFailures: 1 },
      ],
    },
    ...extra,
  });
}

describe('the rollout plan', () => {
  it('puts each cluster in the first stage whose labels it carries; a stage without a selector takes the rest', () => {
    const clusters = [
      cluster('alpha', { ring: 'canary' }, at('1.30')),
      cluster('bravo', {}, at('1.31')),
      cluster('charlie', { ring: 'canary', env: 'prod' }, at('1.32')),
    ];
    const plan = planRollout(body(), clusters, local, (c) => c.spec);
    expect(plan.members.map((m) => [m.cluster.name, m.stage, m.steps.map((s) => s.title)])).toEqual([
      ['alpha', 0, ['control plane to 1.31', 'control plane to 1.32']],
      ['bravo', 1, ['control plane to 1.32']],
      // Already there: a member with nothing to do.
      ['charlie', 0, []],
    ]);
    expect(plan.excluded).toEqual([]);
    expect(plan.stages).toEqual([
      { name: 'canary', selector: { ring: 'canary' }, maxConcurrency: 1, soakMs: 30_000, maxFailures: 0, approval: true },
      { name: 'rest', maxConcurrency: '25%', soakMs: 0, maxFailures: 1, approval: false },
    ]);
  });

  it('leaves out, with the rule, a cluster whose blueprint refuses the change, and one no stage takes', () => {
    const onlyCanary = body({
      strategy: { stages: [{ name: 'canary', selector: { ring: 'canary' }, maxConcurrency: 1 }] },
    });
    const plan = planRollout(
      onlyCanary,
      [cluster('delta', { ring: 'canary' }, at('1.33')), cluster('echo', {}, at('1.30'))],
      local,
      (c) => c.spec,
    );
    expect(plan.members).toEqual([]);
    expect(plan.excluded).toEqual([
      {
        clusterName: 'delta',
        reason: 'invalid',
        issues: [{ field: 'change.upgrade.version', rule: 'version_downgrade', message: 'cannot go from 1.33 down to 1.32' }],
      },
      { clusterName: 'echo', reason: 'unstaged', issues: [] },
    ]);
  });

  it('checks a spec patch as a PATCH is checked: the schema, then the blueprint rules', () => {
    expect(plannedSteps(local, at('1.30'), { spec: { nodePools: [{ name: 'default', size: 500 }] } })).toEqual({
      issues: [{ field: 'spec.nodePools.0.size', rule: 'too_big', message: 'must be at most 100' }],
    });
    expect(plannedSteps(local, at('1.30'), { spec: { version: '1.32' } })).toEqual({
      issues: [{ field: 'spec.version', rule: 'version_skip', message: 'cannot go from 1.30 to 1.32 in one change' }],
    });
    const ok = plannedSteps(local, at('1.30'), { spec: { tags: { owner: 'payments' } } });
    expect(ok).toEqual({
      steps: [
        { title: 'patch the spec', patch: { tags: { owner: 'payments' } }, specAfter: { ...at('1.30'), tags: { owner: 'payments' } } },
      ],
    });
    // A patch that changes nothing is no step at all.
    expect(nextStep(local, { ...at('1.30'), tags: { owner: 'payments' } }, { spec: { tags: { owner: 'payments' } } })).toEqual({
      step: null,
    });
  });

  it('refuses an upgrade on a blueprint without upgrade rules, and add-ons on a spec without them', () => {
    const { nextUpgradeStep: _, ...noRules } = local;
    expect(plannedSteps(noRules, at('1.30'), { upgrade: { version: '1.31' } })).toEqual({
      issues: [
        {
          field: 'change.upgrade',
          rule: 'upgrade_unsupported',
          message: 'blueprint "local-files" has no upgrade rules: change its version with a spec change instead',
        },
      ],
    });
    expect(plannedSteps(local, at('1.30'), { addons: { metricsServer: { enabled: true } } })).toEqual({
      issues: [{ field: 'spec.addons', rule: 'unknown_field', message: 'is not a known field' }],
    });
  });

  it('upgrades a built-in cluster control plane first, one minor at a time, with pinned node pools catching up after each', () => {
    const spec = eksSpec({
      version: '1.31',
      nodePools: [
        { name: 'general', instanceType: 'm6i.large', minSize: 1, maxSize: 3, desiredSize: 2 },
        { name: 'pinned', instanceType: 'm6i.large', minSize: 1, maxSize: 3, desiredSize: 2, version: '1.31' },
      ],
    });
    const planned = plannedSteps(eks, spec, { upgrade: { version: '1.33' } });
    expect('steps' in planned && planned.steps.map((s) => s.title)).toEqual([
      'control plane to 1.32',
      'node pools to 1.32',
      'control plane to 1.33',
      'node pools to 1.33',
    ]);
    expect(plannedSteps(eks, spec, { upgrade: { version: '1.40' } })).toMatchObject({ issues: [{ field: 'spec.version' }] });
  });

  it('takes a percentage of a stage, rounded up, at least one', () => {
    expect(concurrencyOf({ maxConcurrency: '25%' }, 10)).toBe(3);
    expect(concurrencyOf({ maxConcurrency: '1%' }, 3)).toBe(1);
    expect(concurrencyOf({ maxConcurrency: '100%' }, 7)).toBe(7);
    expect(concurrencyOf({ maxConcurrency: 4 }, 2)).toBe(4);
    expect([soakMs('0'), soakMs('45s'), soakMs('30m'), soakMs('2h'), soakMs('1d')]).toEqual([0, 45_000, 1_800_000, 7_200_000, 86_400_000]);
  });
});

describe('the rollout request', () => {
  const refusal = (value: unknown) => {
    try {
      parseOrThrow(createRolloutBody, value);
    } catch (err) {
      return (err as { issues: unknown }).issues;
    }
    throw new Error('accepted');
  };
  const base = {
    name: 'r',
    selector: { blueprint: 'local-files' },
    change: { spec: {} },
    strategy: { stages: [{ name: 'all', maxConcurrency: 1 }] },
  };

  it('names the field and the rule of each mistake', () => {
    expect(refusal({ ...base, change: { spec: {}, upgrade: { version: '1.31' } } })).toEqual([
      { field: 'change', rule: 'exactly_one', message: 'give exactly one of spec, upgrade, addons' },
    ]);
    expect(refusal({ ...base, strategy: { stages: [{ name: 'a', maxConcurrency: '0%' }] } })).toEqual([
      { field: 'strategy.stages.0.maxConcurrency', rule: 'invalid_format', message: 'must be a count or a percentage from 1% to 100%' },
    ]);
    expect(refusal({ ...base, strategy: { stages: [{ name: 'a', maxConcurrency: 1, soak: '10 minutes' }] } })).toEqual([
      { field: 'strategy.stages.0.soak', rule: 'invalid_format', message: 'must be 0 or a duration like 30s, 30m, 2h or 1d' },
    ]);
    expect(
      refusal({
        ...base,
        strategy: {
          stages: [
            { name: 'a', maxConcurrency: 1 },
            { name: 'a', maxConcurrency: 2 },
          ],
        },
      }),
    ).toEqual([{ field: 'strategy.stages', rule: 'unique', message: 'stage names must be unique' }]);
    expect(refusal({ ...base, onInvalid: 'ignore' })).toMatchObject([{ field: 'onInvalid', rule: 'invalid_value' }]);
  });
});

describe('a rollout and team policies', () => {
  it("leaves out (or refuses, by onInvalid) a member whose change its team's policy refuses, naming the rule", () => {
    const pool = (instanceType: string) => ({ name: 'general', instanceType, minSize: 1, maxSize: 3 });
    const clusters = [
      cluster('ok', {}, eksSpec({ nodePools: [pool('m6i.large')] })),
      cluster('held', {}, eksSpec({ nodePools: [pool('m6i.large')] })),
    ];
    const rollout = body({
      selector: { blueprint: 'eks' },
      change: { spec: { nodePools: [pool('m6i.large'), { ...pool('p5.48xlarge'), name: 'gpu', minSize: 0 }] } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 1 }] },
    });
    const policy = (c: ClusterRecord, from: Record<string, unknown>, to: Record<string, unknown>) =>
      c.name !== 'held'
        ? []
        : changeIssues({ rules: { eks: { instanceTypes: ['m6i.*'] } } }, 'payments', {
            blueprint: 'eks',
            from: eks.facts!(from),
            to: eks.facts!(to),
          });
    const plan = planRollout(rollout, clusters, eks, (c) => c.spec, undefined, policy);
    expect(plan.members.map((m) => m.cluster.name)).toEqual(['ok']);
    expect(plan.excluded).toEqual([
      {
        clusterName: 'held',
        reason: 'invalid',
        issues: [expect.objectContaining({ field: 'spec.nodePools.1', rule: 'policy.instanceTypes' })],
      },
    ]);
  });
});
