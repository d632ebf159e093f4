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
