import type { ClusterRecord } from '../domain/cluster.js';
import type { ChangeSummary, OperationKind, OperationRecord, OperationStatus } from '../domain/operation.js';
import type { WaitingFor } from '../domain/maintenance.js';
import type { Page } from '../domain/page.js';
import type { RolloutEvent } from '../domain/rollout-events.js';
import type { MemberState, RolloutMember, RolloutRecord, RolloutStage, RolloutStatus, RolloutStep, StagePlan } from '../domain/rollout.js';

/** A rollout as it is recorded: what was asked, its stages as planned and its members. */
export interface NewRollout extends Pick<
  RolloutRecord,
  | 'name'
  | 'team'
  | 'requestedBy'
  | 'mode'
  | 'startedByTokenId'
  | 'selector'
  | 'change'
  | 'onInvalid'
  | 'waitForCleanDriftCheck'
  | 'excluded'
> {
  stages: StagePlan[];
  /** In the order they are started within a stage. */
  members: Array<{ clusterId: string; clusterName: string; team: string; stage: number; steps: RolloutStep[] }>;
}

export interface RolloutFilter {
  /** Only rollouts of this team (always set for a team token). */
  team?: string;
  /** Page size, 1-200. */
  limit: number;
  cursor?: string;
}

/** A rollout without its members: what a decision about one member needs to know of the rollout. */
export type RolloutHead = Omit<RolloutRecord, 'members'>;

/** What a rollout's driver sees of a member's operation. */
export interface MemberOperation {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  error: { code: string; title: string } | null;
  supersededBy: string | null;
  /** Drift checks: the outcome of the report, once it is filed. */
  drift: 'clean' | 'drifted' | 'failed' | null;
  /** Previews: what it found would change. */
  summary: ChangeSummary | null;
}

/** A change of a rollout decided under its row lock. Absent fields stay as they are. */
export interface RolloutPatch {
  status?: RolloutStatus;
  reason?: string | null;
  currentStage?: number;
  stages?: RolloutStage[];
  /** Over: stops being driven and frees its clusters for other rollouts. */
  finished?: boolean;
  /** Members whose state changes with the rollout's (pause, cancel, retry). */
  members?: Array<{ clusterId: string; state: MemberState; reason?: string | null; clearError?: boolean }>;
}

/** What happens to one member, decided under the locks of its rollout, its row and its cluster. */
export type MemberMove =
  /**
   * Sets the cluster's desired spec (sealed) and queues the update that applies it; records what the
   * spec may grow to (null: unknown, left as it was), held to the team's node quota: a step that
   * would take the team past it fails the member with `quota-exceeded` instead, changing nothing.
   */
  | { to: 'step'; spec: Record<string, unknown>; nodeCapacity: number | null; completedStep: boolean }
  /** Queues a drift check of the changed cluster. */
  | { to: 'check'; completedStep: boolean }
  /** A preview rollout: queues a preview operation of `spec` (sealed), leaving the desired spec as it is. */
  | { to: 'preview'; spec: Record<string, unknown> }
  /** Another operation took over the member's (a person's update superseded it): wait for that one. */
  | { to: 'follow'; operationId: string }
  | {
      to: 'settled';
      state: Extract<MemberState, 'succeeded' | 'failed' | 'skipped' | 'cancelled'>;
      error?: { code: string; title: string } | null;
      reason?: string | null;
      /** A preview's findings. */
      summary?: ChangeSummary | null;
      completedStep: boolean;
    };

/**
 * Rollouts and their members. Every write is atomic and holds the rollout's row, so the API's
 * actions (approve, pause, cancel...) and a driver's moves never interleave; a driver's writes are
 * refused once it no longer holds the rollout's lease.
 */
export interface RolloutStore {
  /** Records the rollout (`pending`) and its members. Throws ConflictError naming the rollout that holds one of the clusters. */
  createRollout(rollout: NewRollout): Promise<RolloutRecord>;
  getRollout(id: string): Promise<RolloutRecord | null>;
  /** Newest first. */
  listRollouts(filter: RolloutFilter): Promise<Page<RolloutRecord>>;
  /** Ids of the rollouts still to drive, oldest first. */
  unfinishedRollouts(): Promise<string[]>;
  /** Takes the rollout's driver lease if it is free or lapsed (database clock), or renews it for its holder; true when `driverId` holds it. */
  claimDriver(id: string, driverId: string, leaseMs: number): Promise<boolean>;
  /**
   * Under the rollout's row lock, `decide` sees it as it is and returns what to change (null: nothing).
   * With `driverId`, nothing is written unless that driver holds the lease. Returns the rollout after.
   */
  changeRollout(id: string, decide: (rollout: RolloutRecord) => RolloutPatch | null, driverId?: string): Promise<RolloutRecord>;
  /**
   * Under the locks of the rollout (leased to `driverId`), the member and its cluster, applies the
   * move `decide` returns (null: nothing). Returns the operation it queued, for the caller to dispatch.
   */
  moveMember(
    id: string,
    driverId: string,
    clusterId: string,
    decide: (rollout: RolloutHead, member: RolloutMember, cluster: ClusterRecord) => MemberMove | null,
  ): Promise<OperationRecord | null>;
  /** Notes why pending members wait for a maintenance window (null: they no longer do); nothing unless `driverId` holds the lease. */
  markMembersWaiting(id: string, driverId: string, waits: Array<{ clusterId: string; waitingFor: WaitingFor | null }>): Promise<void>;
  /** The rollout's events with seq > afterSeq, oldest first. */
  listEvents(id: string, afterSeq: number, limit: number): Promise<RolloutEvent[]>;
  getEvent(id: string, seq: number): Promise<RolloutEvent | null>;
  /** The operations of members, with the outcome of drift checks. */
  memberOperations(ids: string[]): Promise<Map<string, MemberOperation>>;
}
