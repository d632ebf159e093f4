/** The answers of /v1/rollouts, typed by their schemas (server/schemas/rollout.ts). */
import type { z } from 'zod';
import { maskSpec } from '../src/blueprints/write-only.js';
import type { WaitingFor } from '../src/domain/maintenance.js';
import type { Page } from '../src/domain/page.js';
import { MEMBER_STATES, type ExcludedCluster, type RolloutRecord } from '../src/domain/rollout.js';
import { concurrencyOf, type RolloutPlan } from '../src/rollouts/rollout-plan.js';
import type { rolloutPageSchema, rolloutPreviewSchema, rolloutSchema } from './schemas/rollout.js';

const excludedView = (e: ExcludedCluster) => ({ cluster: e.clusterName, reason: e.reason, issues: e.issues });

/** Members that wait for their window, summed up: the first to open, and how many wait. */
function rolloutWaiting(r: RolloutRecord): WaitingFor | null {
  if (r.status !== 'running') return null;
  const waiting = r.members.filter((m) => m.state === 'pending' && m.waitingFor);
  if (!waiting.length) return null;
  const opens = waiting.map((m) => m.waitingFor!.next).filter((n): n is string => n !== null);
  return {
    reason: 'maintenance-window',
    next: opens.length ? opens.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null,
    detail: `${waiting.length} member(s) wait for their cluster's maintenance window`,
  };
}

export function rolloutView(r: RolloutRecord): z.infer<typeof rolloutSchema> {
  const counts = Object.fromEntries(MEMBER_STATES.map((s) => [s, r.members.filter((m) => m.state === s).length])) as z.infer<
    typeof rolloutSchema
  >['counts'];
  return {
    id: r.id,
    name: r.name,
    team: r.team,
    requestedBy: r.requestedBy,
    mode: r.mode,
    selector: r.selector,
    change: r.change,
    onInvalid: r.onInvalid,
    waitForCleanDriftCheck: r.waitForCleanDriftCheck,
    status: r.status,
    reason: r.reason,
    waitingFor: rolloutWaiting(r),
    currentStage: r.finishedAt ? null : (r.stages[r.currentStage]?.name ?? null),
    stages: r.stages.map((s, i) => ({
      name: s.name,
      ...(s.selector ? { selector: s.selector } : {}),
      maxConcurrency: s.maxConcurrency,
      soakMs: s.soakMs,
      maxFailures: s.maxFailures,
      approval: s.approval,
      status: s.status,
      members: r.members.filter((m) => m.stage === i).length,
      startedAt: s.startedAt,
      soakUntil: s.soakUntil,
      approvedBy: s.approvedBy,
      approvedAt: s.approvedAt,
      completedAt: s.completedAt,
    })),
    members: r.members.map((m) => ({
      cluster: m.clusterName,
      team: m.team,
      stage: r.stages[m.stage]?.name ?? String(m.stage),
      state: m.state,
      steps: m.steps,
      stepsDone: m.stepsDone,
      operations: m.operationIds,
      currentOperation: m.currentOperationId,
      error: m.error,
      reason: m.reason,
      attempts: m.attempts,
      waitingFor: m.waitingFor,
      summary: m.summary,
      startedAt: m.startedAt,
      finishedAt: m.finishedAt,
    })),
    excluded: r.excluded.map(excludedView),
    counts,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
  };
}

export function rolloutPageView(page: Page<RolloutRecord>): z.infer<typeof rolloutPageSchema> {
  return { items: page.items.map(rolloutView), nextCursor: page.nextCursor };
}

/** The plan, with the write-only fields of each spec masked. */
export function rolloutPreviewView(plan: RolloutPlan, writeOnly: string[]): z.infer<typeof rolloutPreviewSchema> {
  return {
    stages: plan.stages.map((s, i) => {
      const members = plan.members.filter((m) => m.stage === i);
      return {
        name: s.name,
        maxConcurrency: concurrencyOf(s, members.length),
        members: members.map((m) => ({
          cluster: m.cluster.name,
          steps: m.steps.map((step) => ({ title: step.title, patch: step.patch })),
          specAfter: maskSpec(m.steps.at(-1)?.specAfter ?? m.cluster.spec, writeOnly),
        })),
      };
    }),
    excluded: plan.excluded.map(excludedView),
  };
}
