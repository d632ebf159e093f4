/**
 * How a rollout moves on, as pure decisions over what its records say: a member after its operation
 * ended, a member about to start, and the rollout between stages. The driver applies them under the
 * rollout's locks; the API applies the same stage completion when someone approves.
 */
import type { Blueprint } from '../blueprints/blueprint.js';
import type { ClusterRecord } from '../domain/cluster.js';
import { IN_FLIGHT_STATES, SETTLED_STATES, type RolloutMember, type RolloutRecord, type RolloutStage } from '../domain/rollout.js';
import { nodeCapacity } from '../guardrails/policy-rules.js';
import { describeIssues } from '../lifecycle/zod-issues.js';
import type { MemberMove, MemberOperation, RolloutHead, RolloutPatch } from '../store/rollout-store.js';
import { concurrencyOf, nextStep, plannedSteps } from './rollout-plan.js';

/** What the decisions need besides the records: the blueprints, and the spec in clear and sealed. */
export interface SpecAccess {
  blueprint(name: string): Blueprint<any> | undefined;
  open(spec: Record<string, unknown>): Record<string, unknown>;
  seal(blueprint: Blueprint<any>, spec: Record<string, unknown>): Record<string, unknown>;
}

const failed = (code: string, title: string, completedStep = false): MemberMove => ({
  to: 'settled',
  state: 'failed',
  error: { code, title },
  completedStep,
});

/** Why a cluster can take no change now, or null. `now`: the database's clock, in ms. */
function unavailable(cluster: ClusterRecord, now: number): string | null {
  if (cluster.status === 'destroyed') return 'the cluster was destroyed';
  if (cluster.status === 'destroying') return 'the cluster is being destroyed';
  if (cluster.expiresAt !== null && Date.parse(cluster.expiresAt) <= now) return 'the cluster expired';
  return null;
}

/** The member's next move from the cluster's desired spec of this moment: a step, the check, or done. */
function continueChange(rollout: RolloutHead, cluster: ClusterRecord, specs: SpecAccess, completedStep: boolean): MemberMove {
  const blueprint = specs.blueprint(cluster.blueprint);
  if (!blueprint) return failed('blueprint-unknown', `blueprint "${cluster.blueprint}" is not registered`, completedStep);
  const next = nextStep(blueprint, specs.open(cluster.spec), rollout.change);
  if ('issues' in next) return failed('change-refused', `the change is refused: ${describeIssues(next.issues)}`, completedStep);
  if (next.step) {
    const nodes = blueprint.facts ? nodeCapacity(blueprint.facts(next.step.specAfter)) : null;
    return { to: 'step', spec: specs.seal(blueprint, next.step.specAfter), nodeCapacity: nodes, completedStep };
  }
  if (rollout.waitForCleanDriftCheck) return { to: 'check', completedStep };
  return { to: 'settled', state: 'succeeded', completedStep, reason: completedStep ? null : 'the cluster already carries the change' };
}

/** A pending member of a running rollout, about to take a slot. */
export function startMember(
  rollout: RolloutHead,
  member: RolloutMember,
  cluster: ClusterRecord,
  specs: SpecAccess,
  now: number,
): MemberMove | null {
  if (rollout.status !== 'running' || member.state !== 'pending' || member.stage > rollout.currentStage) return null;
  const gone = unavailable(cluster, now);
  if (gone) return { to: 'settled', state: 'skipped', reason: gone, completedStep: false };
  return rollout.mode === 'preview' ? previewChange(rollout, cluster, specs) : continueChange(rollout, cluster, specs, false);
}

/** A preview rollout's member: a preview of the spec its whole change reaches, from its desired spec of this moment. */
function previewChange(rollout: RolloutHead, cluster: ClusterRecord, specs: SpecAccess): MemberMove {
  const blueprint = specs.blueprint(cluster.blueprint);
  if (!blueprint) return failed('blueprint-unknown', `blueprint "${cluster.blueprint}" is not registered`);
  const planned = plannedSteps(blueprint, specs.open(cluster.spec), rollout.change);
  if ('issues' in planned) return failed('change-refused', `the change is refused: ${describeIssues(planned.issues)}`);
  const last = planned.steps.at(-1);
  if (!last) return { to: 'settled', state: 'succeeded', completedStep: false, reason: 'the cluster already carries the change' };
  return { to: 'preview', spec: specs.seal(blueprint, last.specAfter) };
}

/** A member whose operation `op` has ended. */
export function afterOperation(
  rollout: RolloutHead,
  member: RolloutMember,
  cluster: ClusterRecord,
  op: MemberOperation,
  specs: SpecAccess,
  now: number,
): MemberMove | null {
  if (!IN_FLIGHT_STATES.has(member.state) || member.currentOperationId !== op.id) return null;
  switch (op.status) {
    case 'queued':
    case 'running':
    case 'awaiting-approval':
      return null;
    case 'superseded':
      // A later update of the same cluster took its place (it carries the rollout's change too).
      return op.supersededBy ? { to: 'follow', operationId: op.supersededBy } : failed('superseded', 'its operation was superseded');
    case 'cancelled':
      return rollout.status === 'cancelled'
        ? { to: 'settled', state: 'cancelled', reason: 'the rollout was cancelled', completedStep: false }
        : failed('cancelled', 'its operation was cancelled');
    case 'failed':
      return failed(op.error?.code ?? 'operation-failed', op.error?.title ?? `its ${op.kind} failed`);
    case 'succeeded':
      break;
  }
  if (op.kind === 'preview') return { to: 'settled', state: 'succeeded', summary: op.summary, completedStep: false };
  if (op.kind === 'drift-check') {
    if (op.drift === null) return null;
    if (op.drift === 'clean') return { to: 'settled', state: 'succeeded', completedStep: false };
    return op.drift === 'drifted'
      ? failed('drift-after-change', 'the drift check after the change found drift')
      : failed('drift-check-failed', 'the drift check after the change failed');
  }
  const gone = unavailable(cluster, now);
  if (gone) return { to: 'settled', state: 'skipped', reason: gone, completedStep: true };
  // Cancelled meanwhile: the step that ran is kept, nothing more starts.
  if (rollout.status === 'cancelled')
    return { to: 'settled', state: 'cancelled', reason: 'the rollout was cancelled', completedStep: true };
  return continueChange(rollout, cluster, specs, true);
}

const membersOf = (rollout: RolloutRecord, stage: number) => rollout.members.filter((m) => m.stage === stage);

/** Failed members of a stage beyond those a resume accepted. */
const failuresCounted = (rollout: RolloutRecord, stage: number) =>
  membersOf(rollout, stage).filter((m) => m.state === 'failed').length - (rollout.stages[stage]?.acceptedFailures ?? 0);

/** The current stage done: the next one starts, or the rollout has succeeded. */
export function completeStage(rollout: RolloutRecord, nowIso: string): RolloutPatch {
  const index = rollout.currentStage;
  const stages: RolloutStage[] = rollout.stages.map((s, i) => (i === index ? { ...s, status: 'completed', completedAt: nowIso } : s));
  const next = index + 1;
  if (next >= stages.length) return { status: 'succeeded', currentStage: next, stages, reason: null, finished: true };
  stages[next] = { ...stages[next]!, status: 'running', startedAt: nowIso };
  return { status: 'running', currentStage: next, stages };
}

/** Where the rollout stands between its members' moves; null when nothing changes. `now`: database clock, ms. */
export function advanceRollout(rollout: RolloutRecord, now: number): RolloutPatch | null {
  if (rollout.finishedAt) return null;
  const nowIso = new Date(now).toISOString();
  const index = rollout.currentStage;
  const stage = rollout.stages[index];
  const inFlight = rollout.members.some((m) => IN_FLIGHT_STATES.has(m.state));
  switch (rollout.status) {
    case 'cancelled':
      return inFlight ? null : { finished: true };
    case 'succeeded':
      return { finished: true };
    case 'paused':
    case 'halted':
      return null;
    case 'pending':
      if (!stage) return { status: 'succeeded', finished: true };
      return {
        status: 'running',
        stages: rollout.stages.map((s, i) => (i === index ? { ...s, status: 'running', startedAt: nowIso } : s)),
      };
    case 'running':
    case 'soaking':
    case 'awaiting-approval':
      break;
  }
  if (!stage) return { status: 'succeeded', finished: true };
  // A preview reports every member, failures included, and waits for nobody.
  if (rollout.mode === 'preview') {
    return membersOf(rollout, index).every((m) => SETTLED_STATES.has(m.state)) ? completeStage(rollout, nowIso) : null;
  }
  const failures = failuresCounted(rollout, index);
  if (failures > stage.maxFailures) {
    return {
      status: 'halted',
      reason: `stage "${stage.name}": ${failures} member(s) failed, over its budget of ${stage.maxFailures}; running members finish, nothing new starts`,
    };
  }
  const members = membersOf(rollout, index);
  if (!members.every((m) => SETTLED_STATES.has(m.state))) return null;
  // A stage with no member has nothing to soak or approve.
  if (!members.length) return completeStage(rollout, nowIso);
  if (stage.soakMs > 0 && stage.soakUntil === null) {
    const soakUntil = new Date(now + stage.soakMs).toISOString();
    return { status: 'soaking', stages: rollout.stages.map((s, i) => (i === index ? { ...s, status: 'soaking', soakUntil } : s)) };
  }
  if (stage.soakUntil !== null && Date.parse(stage.soakUntil) > now) return rollout.status === 'soaking' ? null : { status: 'soaking' };
  if (stage.approval && !stage.approvedAt) {
    if (rollout.status === 'awaiting-approval') return null;
    return {
      status: 'awaiting-approval',
      stages: rollout.stages.map((s, i) => (i === index ? { ...s, status: 'awaiting-approval' } : s)),
    };
  }
  return completeStage(rollout, nowIso);
}

/** Pending members of the stages reached: those that may start once a slot and their window allow. */
export function startableMembers(rollout: RolloutRecord): RolloutMember[] {
  if (rollout.status !== 'running') return [];
  return rollout.members.filter((m) => m.state === 'pending' && m.stage <= rollout.currentStage && m.stage < rollout.stages.length);
}

/**
 * Members to start now: pending ones of the stages reached, up to each stage's free slots, in order.
 * Those in `waiting` (their maintenance window is closed) take no slot and leave it to the next.
 */
export function membersToStart(rollout: RolloutRecord, waiting: ReadonlySet<string> = new Set()): RolloutMember[] {
  const startable = startableMembers(rollout);
  const chosen: RolloutMember[] = [];
  for (let index = 0; index <= rollout.currentStage && index < rollout.stages.length; index++) {
    const members = membersOf(rollout, index);
    const free = concurrencyOf(rollout.stages[index]!, members.length) - members.filter((m) => IN_FLIGHT_STATES.has(m.state)).length;
    const ready = startable.filter((m) => m.stage === index && !waiting.has(m.clusterId));
    chosen.push(...ready.slice(0, Math.max(0, free)));
  }
  return chosen;
}
