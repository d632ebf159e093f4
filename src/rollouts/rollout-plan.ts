/**
 * What a rollout will do, decided before anything is recorded: which stage each selected cluster
 * belongs to, the steps its change takes on it (each one recorded update operation), and which
 * clusters are left out and why. Pure: the same rules run again before each step, on the desired
 * spec of that moment.
 */
import type { Blueprint } from '../blueprints/blueprint.js';
import type { ClusterRecord } from '../domain/cluster.js';
import type { ExcludedCluster, RolloutChange, RolloutStep, StagePlan } from '../domain/rollout.js';
import type { FieldIssue } from '../errors.js';
import { mergePatch } from '../lifecycle/merge-patch.js';
import { fieldIssues } from '../lifecycle/zod-issues.js';
import { changeOf, PERCENT_PATTERN, soakMs, type CreateRolloutBody } from './requests.js';

type Spec = Record<string, unknown>;

/** A step checked against the blueprint, with the spec it leads to. */
export interface CheckedStep extends RolloutStep {
  specAfter: Spec;
}

/** A chain of steps is cut here: a change that never settles is a bug, not a plan. */
const MAX_STEPS = 50;

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The next step of `change` for a cluster whose desired spec is `spec` (opened), checked by the
 * blueprint as a PATCH would be: null once the spec carries the change.
 */
export function nextStep(
  blueprint: Blueprint<any>,
  spec: Spec,
  change: RolloutChange,
): { step: CheckedStep | null } | { issues: FieldIssue[] } {
  let step: RolloutStep | null;
  if ('upgrade' in change) {
    if (!blueprint.nextUpgradeStep) {
      const message = `blueprint "${blueprint.name}" has no upgrade rules: change its version with a spec change instead`;
      return { issues: [{ field: 'change.upgrade', rule: 'upgrade_unsupported', message }] };
    }
    const next = blueprint.nextUpgradeStep(spec, change.upgrade.version);
    if ('issues' in next) return next;
    step = next.step;
  } else if ('addons' in change) {
    step = { title: 'patch the add-ons', patch: { addons: change.addons } };
  } else {
    step = { title: 'patch the spec', patch: change.spec };
  }
  if (!step) return { step: null };
  const merged = mergePatch(spec, step.patch);
  if (sameJson(merged, spec)) return { step: null };
  const parsed = blueprint.specSchema.safeParse(merged);
  if (!parsed.success) return { issues: fieldIssues(parsed.error, 'spec') };
  // A patch that leaves out what the schema fills in (a new pool's defaults) is carried once parsed.
  if (sameJson(parsed.data, spec)) return { step: null };
  const issues = blueprint.validateChange?.(spec, parsed.data, { allowReplace: false }) ?? [];
  if (issues.length) return { issues };
  return { step: { ...step, specAfter: parsed.data as Spec } };
}

/** Every step of `change` from `spec`, each checked on the spec the previous one leads to. */
export function plannedSteps(
  blueprint: Blueprint<any>,
  spec: Spec,
  change: RolloutChange,
): { steps: CheckedStep[] } | { issues: FieldIssue[] } {
  const steps: CheckedStep[] = [];
  let current = spec;
  for (;;) {
    const next = nextStep(blueprint, current, change);
    if ('issues' in next) return next;
    if (!next.step) return { steps };
    if (steps.length === MAX_STEPS) {
      return { issues: [{ field: 'change', rule: 'too_many_steps', message: `takes more than ${MAX_STEPS} steps on this cluster` }] };
    }
    steps.push(next.step);
    current = next.step.specAfter;
  }
}

/** The stages as asked for, with their durations in milliseconds. */
export function stagePlans(body: CreateRolloutBody): StagePlan[] {
  return body.strategy.stages.map((s) => ({
    name: s.name,
    ...(s.selector ? { selector: s.selector } : {}),
    maxConcurrency: s.maxConcurrency,
    soakMs: soakMs(s.soak ?? '0'),
    maxFailures: s.maxFailures ?? 0,
    approval: s.approval ?? false,
  }));
}

/** Members changed at once in a stage of `members` members. */
export function concurrencyOf(stage: Pick<StagePlan, 'maxConcurrency'>, members: number): number {
  if (typeof stage.maxConcurrency === 'number') return stage.maxConcurrency;
  const percent = Number(PERCENT_PATTERN.exec(stage.maxConcurrency)![1]);
  return Math.max(1, Math.ceil((percent * members) / 100));
}

const carries = (labels: Record<string, string>, wanted: Record<string, string> | undefined) =>
  Object.entries(wanted ?? {}).every(([k, v]) => labels[k] === v);

export interface PlannedMember {
  cluster: ClusterRecord;
  stage: number;
  steps: CheckedStep[];
}

export interface RolloutPlan {
  stages: StagePlan[];
  members: PlannedMember[];
  excluded: ExcludedCluster[];
}

/**
 * Splits the selected clusters (live ones, in name order) into stages and checks the change on each.
 * `open` gives a cluster's desired spec with its write-only fields in clear, as the rules read them.
 */
export function planRollout(
  body: CreateRolloutBody,
  clusters: ClusterRecord[],
  blueprint: Blueprint<any>,
  open: (cluster: ClusterRecord) => Spec,
  change: RolloutChange = changeOf(body.change),
  /** Rules of the cluster's team on the change from its spec to the one the last step leads to (its policy). @defaultValue none */
  policy: (cluster: ClusterRecord, from: Spec, to: Spec) => FieldIssue[] = () => [],
): RolloutPlan {
  const stages = stagePlans(body);
  const members: PlannedMember[] = [];
  const excluded: ExcludedCluster[] = [];
  for (const cluster of clusters) {
    // The first stage whose labels it carries; a stage without a selector takes every cluster left.
    const stage = stages.findIndex((s) => carries(cluster.labels, s.selector));
    if (stage < 0) {
      excluded.push({ clusterName: cluster.name, reason: 'unstaged', issues: [] });
      continue;
    }
    const spec = open(cluster);
    const planned = plannedSteps(blueprint, spec, change);
    const last = 'steps' in planned ? planned.steps.at(-1) : undefined;
    const issues = 'issues' in planned ? planned.issues : last ? policy(cluster, spec, last.specAfter) : [];
    if (issues.length || 'issues' in planned) excluded.push({ clusterName: cluster.name, reason: 'invalid', issues });
    else members.push({ cluster, stage, steps: planned.steps });
  }
  return { stages, members, excluded };
}
