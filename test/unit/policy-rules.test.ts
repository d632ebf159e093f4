import { describe, expect, it } from 'vitest';
import type { ClusterFacts } from '../../src/blueprints/blueprint.js';
import type { TeamPolicy } from '../../src/domain/team-policy.js';
import { changeIssues, creationIssues, nodeCapacity, outgrownQuotas } from '../../src/guardrails/policy-rules.js';
import { teamPolicySchema } from '../../src/guardrails/policy-schema.js';

const policy: TeamPolicy = {
  blueprints: ['eks', 'gke'],
  rules: { eks: { regions: ['eu-*'], instanceTypes: ['m6i.*', 't3.large'] } },
  requiredLabels: { env: ['dev', 'prod'], owner: [] },
};

const facts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  region: 'eu-west-1',
  version: '1.35',
  endpoint: { public: true, publicCidrs: null },
  nodePools: [
    { name: 'general', instanceType: 'm6i.xlarge', minSize: 2, maxSize: 6, desiredSize: 2 },
    { name: 'burst', instanceType: 't3.large', minSize: 0, maxSize: 10, desiredSize: 0 },
  ],
  ...over,
});
const labels = { env: 'prod', owner: 'payments' };
const rules = (issues: Array<{ field: string; rule: string }>) => issues.map((i) => `${i.field}|${i.rule}`);

describe('team policy rules', () => {
  it('lets through a new cluster that keeps to the policy', () => {
    expect(creationIssues(policy, 'alpha', { blueprint: 'eks', facts: facts(), labels })).toEqual([]);
    expect(creationIssues({}, 'alpha', { blueprint: 'anything', facts: null, labels: {} })).toEqual([]);
  });

  it('names every rule a new cluster breaks: blueprint, region, each pool, each label', () => {
    const bad = facts({
      region: 'us-east-1',
      nodePools: [
        { name: 'general', instanceType: 'p5.48xlarge', minSize: 1, maxSize: 2, desiredSize: 1 },
        { name: 'other', instanceType: 'm6i.large', minSize: 1, maxSize: 2, desiredSize: 1 },
      ],
    });
    expect(rules(creationIssues(policy, 'alpha', { blueprint: 'eks', facts: bad, labels: { env: 'staging' } }))).toEqual([
      'spec.region|policy.regions',
      'spec.nodePools.0|policy.instanceTypes',
      'labels.env|policy.requiredLabels',
      'labels.owner|policy.requiredLabels',
    ]);
    expect(rules(creationIssues(policy, 'alpha', { blueprint: 'aks', facts: null, labels }))).toEqual(['blueprint|policy.blueprints']);
    const [region] = creationIssues(policy, 'alpha', { blueprint: 'eks', facts: bad, labels });
    expect(region?.message).toBe('us-east-1 is not a region team "alpha" may use on eks (allowed: eu-*)');
  });

  it('matches * as any run of characters and everything else literally', () => {
    const dotted: TeamPolicy = { rules: { eks: { instanceTypes: ['m6i.*'] } } };
    const pool = (instanceType: string) => facts({ nodePools: [{ name: 'p', instanceType, minSize: 1, maxSize: 1, desiredSize: 1 }] });
    expect(creationIssues(dotted, 'a', { blueprint: 'eks', facts: pool('m6i.2xlarge'), labels: {} })).toEqual([]);
    // The dot is a dot, not any character.
    expect(rules(creationIssues(dotted, 'a', { blueprint: 'eks', facts: pool('m6iX2xlarge'), labels: {} }))).toEqual([
      'spec.nodePools.0|policy.instanceTypes',
    ]);
  });

  it('holds a change only to what it changes: a cluster made before the policy keeps its region and pools', () => {
    const old = facts({
      region: 'us-east-1',
      nodePools: [{ name: 'general', instanceType: 'p5.48xlarge', minSize: 1, maxSize: 2, desiredSize: 1 }],
    });
    const grown = { ...old, nodePools: [{ ...old.nodePools[0]!, maxSize: 3 }] };
    expect(changeIssues(policy, 'alpha', { blueprint: 'eks', from: old, to: grown })).toEqual([]);
    const added = {
      ...old,
      nodePools: [...old.nodePools, { name: 'gpu', instanceType: 'p4d.24xlarge', minSize: 0, maxSize: 1, desiredSize: 0 }],
    };
    expect(rules(changeIssues(policy, 'alpha', { blueprint: 'eks', from: old, to: added }))).toEqual([
      'spec.nodePools.1|policy.instanceTypes',
    ]);
    expect(rules(changeIssues(policy, 'alpha', { blueprint: 'eks', from: old, to: { ...old, region: 'ap-south-1' } }))).toEqual([
      'spec.region|policy.regions',
    ]);
    // Labels only when the change gives them.
    expect(changeIssues(policy, 'alpha', { blueprint: 'eks', from: old, to: old })).toEqual([]);
    expect(rules(changeIssues(policy, 'alpha', { blueprint: 'eks', from: old, to: old, labels: { env: 'prod' } }))).toEqual([
      'labels.owner|policy.requiredLabels',
    ]);
  });

  it("counts a spec's node capacity as the sum of its pools' maximum sizes", () => {
    expect(nodeCapacity(facts())).toBe(16);
    expect(nodeCapacity(null)).toBe(0);
  });

  it('validates a policy body, naming the field and rule', () => {
    const parsed = teamPolicySchema.safeParse({
      maxClusters: -1,
      rules: { eks: { regions: [] } },
      requiredLabels: { 'Bad Key': [] },
      maxTtl: '2 weeks',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'maxClusters',
      'maxTtl',
      'requiredLabels.Bad Key',
      'rules.eks.regions',
    ]);
  });
});

describe('a change over many clusters and the node quota', () => {
  it('names every growing member of a team the change as a whole would take past its limit, and no other', () => {
    const issues = outgrownQuotas(
      [
        { cluster: 'a1', team: 'a', nodes: 3 },
        { cluster: 'a2', team: 'a', nodes: 3 },
        { cluster: 'a3', team: 'a', nodes: -2 },
        { cluster: 'b1', team: 'b', nodes: 5 },
        { cluster: 'c1', team: 'c', nodes: 50 },
      ],
      new Map([
        ['a', { maxNodes: 10, usage: 5 }],
        ['b', { maxNodes: 10, usage: 5 }],
        ['c', { usage: 5 }],
      ]),
    );
    expect([...issues.keys()]).toEqual(['a1', 'a2']);
    expect(issues.get('a1')).toEqual([expect.objectContaining({ rule: 'quota.maxNodes', limit: 10, usage: 5 })]);
  });
});
