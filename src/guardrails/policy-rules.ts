/**
 * A team policy's rules on what a request declares (pure): allowed blueprints, regions and
 * instance types, required labels. A change is held only to what it changes, so that a policy
 * tightened after a cluster was made refuses new growth and leaves the cluster as it is. Quotas
 * need the team's usage, read in the transaction that records: the store checks them.
 */
import type { ClusterFacts } from '../blueprints/blueprint.js';
import type { TeamPolicy } from '../domain/team-policy.js';
import type { FieldIssue } from '../errors.js';

/** `*` matches any run of characters; everything else is literal. */
function matches(value: string, patterns: string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.split('*').map(escape).join('.*')}$`).test(value));
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface Declared {
  blueprint: string;
  /** null when the blueprint declares no facts. */
  facts: ClusterFacts | null;
  labels: Record<string, string>;
}

/** Whether an issue is a team policy's or quota's refusal (403), not a malformed request's (400). */
export function byPolicy(issue: FieldIssue): boolean {
  return issue.rule.startsWith('policy.') || issue.rule.startsWith('quota.');
}

/** Every rule of `policy` a new cluster breaks. */
export function creationIssues(policy: TeamPolicy, team: string, declared: Declared): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (policy.blueprints && !policy.blueprints.includes(declared.blueprint))
    issues.push({
      field: 'blueprint',
      rule: 'policy.blueprints',
      message: `"${declared.blueprint}" is not a blueprint team "${team}" may use (allowed: ${policy.blueprints.join(', ')})`,
    });
  issues.push(...factIssues(policy, team, declared.blueprint, null, declared.facts), ...labelIssues(policy, team, declared.labels));
  return issues;
}

/** Every rule of `policy` a change breaks, in what it changes: a new region or instance type, labels when they are given. */
export function changeIssues(
  policy: TeamPolicy,
  team: string,
  change: { blueprint: string; from: ClusterFacts | null; to: ClusterFacts | null; labels?: Record<string, string> },
): FieldIssue[] {
  return [
    ...factIssues(policy, team, change.blueprint, change.from, change.to),
    ...(change.labels ? labelIssues(policy, team, change.labels) : []),
  ];
}

function factIssues(policy: TeamPolicy, team: string, blueprint: string, from: ClusterFacts | null, to: ClusterFacts | null): FieldIssue[] {
  const rules = policy.rules && Object.hasOwn(policy.rules, blueprint) ? policy.rules[blueprint] : undefined;
  if (!rules || !to) return [];
  const issues: FieldIssue[] = [];
  if (rules.regions && to.region !== null && to.region !== from?.region && !matches(to.region, rules.regions))
    issues.push({
      field: 'spec.region',
      rule: 'policy.regions',
      message: `${to.region} is not a region team "${team}" may use on ${blueprint} (allowed: ${rules.regions.join(', ')})`,
    });
  if (rules.instanceTypes) {
    const before = new Map((from?.nodePools ?? []).map((p) => [p.name, p.instanceType]));
    to.nodePools.forEach((pool, i) => {
      const type = pool.instanceType;
      if (type === null || before.get(pool.name) === type || matches(type, rules.instanceTypes!)) return;
      issues.push({
        field: `spec.nodePools.${i}`,
        rule: 'policy.instanceTypes',
        message: `${type} is not an instance type team "${team}" may use on ${blueprint} (allowed: ${rules.instanceTypes!.join(', ')})`,
      });
    });
  }
  return issues;
}

function labelIssues(policy: TeamPolicy, team: string, labels: Record<string, string>): FieldIssue[] {
  return Object.entries(policy.requiredLabels ?? {}).flatMap(([key, allowed]): FieldIssue[] => {
    const value = Object.hasOwn(labels, key) ? labels[key] : undefined;
    if (value === undefined)
      return [{ field: `labels.${key}`, rule: 'policy.requiredLabels', message: `is required on every cluster of team "${team}"` }];
    if (allowed.length && !allowed.includes(value))
      return [
        {
          field: `labels.${key}`,
          rule: 'policy.requiredLabels',
          message: `must be one of ${allowed.join(', ')} on clusters of team "${team}", got ${value}`,
        },
      ];
    return [];
  });
}

/** The nodes a spec may grow to: the sum of its pools' maximum sizes (0 without facts). */
export function nodeCapacity(facts: ClusterFacts | null): number {
  return (facts?.nodePools ?? []).reduce((sum, p) => sum + p.maxSize, 0);
}

/** One member of a change over many clusters (a rollout): its team and how many nodes of maximum size it adds. */
export interface MemberGrowth {
  cluster: string;
  team: string;
  nodes: number;
}

/**
 * The quota issue of every growing member whose team the change as a whole would take past its
 * `maxNodes` (all of that team's growing members: which of them would fit depends on the order they
 * run in). `limits`: each team's limit and usage now.
 */
export function outgrownQuotas(
  members: MemberGrowth[],
  limits: Map<string, { maxNodes?: number; usage: number }>,
): Map<string, FieldIssue[]> {
  const growth = new Map<string, number>();
  for (const m of members) if (m.nodes > 0) growth.set(m.team, (growth.get(m.team) ?? 0) + m.nodes);
  const issues = new Map<string, FieldIssue[]>();
  for (const m of members) {
    const limit = limits.get(m.team);
    const total = growth.get(m.team) ?? 0;
    if (m.nodes <= 0 || limit?.maxNodes === undefined || limit.usage + total <= limit.maxNodes) continue;
    issues.set(m.cluster, [
      {
        field: 'change',
        rule: 'quota.maxNodes',
        message: `the rollout would add ${total} nodes of maximum size to the ${limit.usage} of team "${m.team}"; its limit is ${limit.maxNodes}`,
        limit: limit.maxNodes,
        usage: limit.usage,
      },
    ]);
  }
  return issues;
}
