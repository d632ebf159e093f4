import type { WaitingFor } from './maintenance.js';
import type { ChangeSummary } from './operation.js';

/**
 * A rollout applies one change to a snapshot of the fleet, stage by stage. `pending` until its
 * driver first looks at it; `soaking` and `awaiting-approval` between stages; `paused` and `halted`
 * until someone resumes it; `succeeded` and `cancelled` are final.
 */
export const ROLLOUT_STATUSES = [
  'pending',
  'running',
  'soaking',
  'awaiting-approval',
  'paused',
  'halted',
  'succeeded',
  'cancelled',
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export const FINAL_ROLLOUT_STATUSES: ReadonlySet<RolloutStatus> = new Set(['succeeded', 'cancelled']);

/**
 * A member's state: `pending` until its first step is queued, `running` while its steps run,
 * `verifying` while the drift check after its change runs; `succeeded` carries the change, `failed`
 * and `cancelled` may carry part of it (see its operations), `skipped` never started (its cluster
 * was destroyed, is being destroyed, or expired).
 */
export const MEMBER_STATES = ['pending', 'running', 'verifying', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/** States in which a member takes one of its stage's concurrency slots. */
export const IN_FLIGHT_STATES: ReadonlySet<MemberState> = new Set(['running', 'verifying']);
/** States a member does not leave on its own. */
export const SETTLED_STATES: ReadonlySet<MemberState> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export const STAGE_STATUSES = ['pending', 'running', 'soaking', 'awaiting-approval', 'completed'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** The change a rollout applies: a merge patch of the spec, a Kubernetes upgrade, or a merge patch of the add-ons. */
export type RolloutChange =
  | { spec: Record<string, unknown> }
  /** `requested`: what the request said when it was not a version (`newest-standard`), resolved to `version` at creation. */
  | { upgrade: { version: string; requested?: string } }
  | { addons: Record<string, unknown> };

/** Which clusters a rollout takes: live clusters of the blueprint, of the team and labels when given. */
export interface RolloutSelector {
  blueprint: string;
  team?: string;
  labels?: Record<string, string>;
}

/** One stage as asked for. */
export interface StagePlan {
  name: string;
  /** Labels a member must carry to belong here; absent: every member no earlier stage took. */
  selector?: Record<string, string>;
  /** Members changed at once: a count, or a percentage of the stage's members (rounded up, at least 1). */
  maxConcurrency: number | string;
  /** Wait after every member of the stage is done. Milliseconds. */
  soakMs: number;
  /** Failed members the stage tolerates; one more halts the rollout. */
  maxFailures: number;
  /** The next stage waits for POST /v1/rollouts/{id}/approve. */
  approval: boolean;
}

/** A stage as it runs. */
export interface RolloutStage extends StagePlan {
  status: StageStatus;
  startedAt: string | null;
  /** When the soak ends (database clock), once every member is done. */
  soakUntil: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  completedAt: string | null;
  /** Failed members a resume of the halted rollout accepted: they no longer count against the budget. */
  acceptedFailures: number;
}

/** One recorded update operation of a member's change: what it merges into the desired spec. */
export interface RolloutStep {
  title: string;
  patch: Record<string, unknown>;
}

export interface RolloutMember {
  clusterId: string;
  clusterName: string;
  team: string;
  /** Index into the rollout's stages. */
  stage: number;
  state: MemberState;
  /** The change as steps, pinned when the rollout was created. */
  steps: RolloutStep[];
  /** Steps done. */
  stepsDone: number;
  /** Every operation queued for this member, oldest first (steps, then the check). */
  operationIds: string[];
  /** The operation the member waits for, while in flight. */
  currentOperationId: string | null;
  /** Why it failed: the operation's error, or the drift found after the change. */
  error: { code: string; title: string } | null;
  /** Why it was skipped or cancelled. */
  reason: string | null;
  /** Times it was started (more than 1 after retry-failed). */
  attempts: number;
  /** Pending with a free slot, but its cluster's maintenance window is closed: why, and when it opens. */
  waitingFor: WaitingFor | null;
  /** A preview rollout: what the member's preview operation found would change. */
  summary: ChangeSummary | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A cluster the selector took that the rollout does not change, and why. */
export interface ExcludedCluster {
  clusterName: string;
  /** `invalid`: its blueprint refuses the change (see issues); `unstaged`: no stage's selector took it. */
  reason: 'invalid' | 'unstaged';
  /** The rules broken: each names the field (`spec.version`, `change.upgrade.version`) and the rule. */
  issues: Array<{ field: string; rule: string; message: string }>;
}

/**
 * `change` applies the change; `preview` (POST /v1/rollouts/preview with enginePreview) only runs a
 * preview operation of the spec each member would reach, stage by stage within each stage's
 * concurrency, and gathers what each would change. A preview holds no cluster, waits for no
 * window, soak or approval, and no failure halts it.
 */
export const ROLLOUT_MODES = ['change', 'preview'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];

/** What to do with members whose blueprint refuses the change: leave them out, or refuse the rollout. */
export const ON_INVALID = ['refuse', 'skip'] as const;
export type OnInvalid = (typeof ON_INVALID)[number];

export interface RolloutRecord {
  id: string;
  name: string;
  /** The team whose clusters it changes, or null for an admin's rollout over every team. */
  team: string | null;
  requestedBy: string;
  mode: RolloutMode;
  /** The token that started it: it may not approve its own stages. */
  startedByTokenId: string;
  selector: RolloutSelector;
  change: RolloutChange;
  onInvalid: OnInvalid;
  waitForCleanDriftCheck: boolean;
  status: RolloutStatus;
  /** Why it halted, was paused or was cancelled. */
  reason: string | null;
  /** Index of the stage under way (the number of stages once it is over). */
  currentStage: number;
  stages: RolloutStage[];
  members: RolloutMember[];
  excluded: ExcludedCluster[];
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** Who a member operation is requested by, as shown on the operation. */
export const rolloutRequester = (r: Pick<RolloutRecord, 'id' | 'name'>) => `rollout ${r.name} (${r.id})`;
