import type { OperationApproval } from '../domain/approval.js';
import type { ClusterRecord, ClusterStatus } from '../domain/cluster.js';
import type { DriftFindings } from '../domain/drift.js';
import type { MaintenancePolicy, WaitingFor } from '../domain/maintenance.js';
import type { ChangeSummary, OperationError, OperationEvent, OperationRecord, OperationStatus } from '../domain/operation.js';

/**
 * A worker's hold on a cluster's lane. `epoch` is the fencing token: it grows with every take-over,
 * and a hold is current only while its epoch is the cluster's. Every write below names the hold it
 * is made under and is refused with LaneLostError once that hold is no longer current, so a worker
 * that lost its lane (paused, partitioned, slow) cannot change anything after another took over.
 */
export interface LaneHold {
  clusterId: string;
  /** Unique per take: a worker never shares an owner string between two holds. */
  owner: string;
  epoch: number;
}

/** What a start hands the runner: the operation, and whether the stack must be recovered first. */
export interface StartedOperation {
  operation: OperationRecord;
  /**
   * An earlier run on this cluster did not end cleanly (killed, crashed, cancelled, its worker died or
   * lost its lane): before running, break the lock it may have left and clear pending operations.
   * Every such run has stopped: its holder stopped its engine before its lease could lapse.
   */
  recover: boolean;
}

/** What a finished run changes on its operation and on its cluster, applied in one transaction. */
export interface OperationOutcome {
  status: Extract<OperationStatus, 'succeeded' | 'failed' | 'cancelled'>;
  summary: ChangeSummary | null;
  outputs: Record<string, unknown> | null;
  error: OperationError | null;
  cluster: Partial<Pick<ClusterRecord, 'status' | 'appliedSpec' | 'appliedGeneration' | 'outputs'>>;
  /**
   * The run left the stack unlocked with no pending operations (it finished, or failed in a way that
   * leaves nothing behind): the cluster no longer needs recovery. False keeps the mark as it is.
   */
  stackClean: boolean;
  /** A drift check's findings, filed as its drift report in the same transaction. */
  driftReport?: DriftFindings;
}

/**
 * The per-cluster lane: at most one worker runs a cluster's operations at a time, and only the
 * current holder's writes to those operations take effect. Lease times come from the database clock.
 */
export interface LaneStore {
  /** Takes the lane if it is free or its lease has lapsed; null when someone holds it. */
  acquire(clusterId: string, owner: string, leaseMs: number): Promise<LaneHold | null>;
  /** Extends the lease by `leaseMs` from now; false when the hold is no longer current. */
  renew(hold: LaneHold, leaseMs: number): Promise<boolean>;
  /** Frees the lane if the hold is still current; otherwise does nothing. */
  release(hold: LaneHold): Promise<void>;
  /** When the current lease ends, or null if the lane is free or its lease has lapsed. */
  expiresAt(clusterId: string): Promise<Date | null>;
  /** How long, in ms by the database's clock, until the current lease ends; null if the lane is free or its lease has lapsed. */
  leaseLeftMs(clusterId: string): Promise<number | null>;

  /**
   * queued -> running (attempts + 1, startedAt on the first start, no longer waiting), or running -> running for an attempt
   * whose lane has been taken over since it started (its holder lost its lease). Sets the cluster's
   * lastOperationId and in-progress status; a mutating kind marks the cluster as needing recovery until
   * it finishes cleanly. Needs a current, unexpired hold.
   * @throws LaneLostError, ConflictError (finished, or already running under this hold), NotFoundError
   */
  startOperation(hold: LaneHold, id: string): Promise<StartedOperation>;
  /**
   * Notes why queued operations wait for a maintenance window and until when (ISO-8601): the
   * reconciler does not wake the lane for them before then. Operations no longer queued are left
   * alone, and nothing is noted unless `policy` (the one the wait was worked out from) is still the
   * cluster's policy in effect: a wait worked out from a policy changed meanwhile is worked out again.
   */
  markWaiting(
    hold: LaneHold,
    waits: Array<{ id: string; waitingFor: WaitingFor; until: string }>,
    policy: MaintenancePolicy | null,
  ): Promise<void>;
  /** Marks queued operations superseded by another. */
  supersede(hold: LaneHold, ids: string[], byId: string): Promise<void>;
  /** Appends events with consecutive seq numbers; returns the last seq. */
  appendEvents(hold: LaneHold, operationId: string, events: Array<Pick<OperationEvent, 'type' | 'data'>>): Promise<number>;
  /** Records the outcome on the operation and the cluster in one transaction. */
  finishOperation(hold: LaneHold, id: string, outcome: OperationOutcome): Promise<OperationRecord>;
  /**
   * running -> awaiting-approval, once its plan asks for approval: the plan becomes its summary and
   * its approval waits until `expiresInMs` from now (database clock). The plan changed nothing, so the
   * cluster no longer needs recovery for it, and one that showed `updating` shows its applied state
   * again. Records the `operation.approval` outbox entry of the wait.
   */
  awaitApproval(
    hold: LaneHold,
    id: string,
    plan: { summary: ChangeSummary | null; approval: OperationApproval },
    expiresInMs: number,
  ): Promise<OperationRecord>;
  /** Notes the approval of a running operation whose plan asked for none (it runs on as any other). */
  noteApproval(hold: LaneHold, id: string, approval: OperationApproval): Promise<void>;
  /** running -> queued, for an operation stopped before it finished that must run again later. Keeps attempts and startedAt. */
  requeueOperation(hold: LaneHold, id: string): Promise<void>;
  /** Sets the cluster's status outside an operation's outcome (a queued provision was cancelled, say). */
  setClusterStatus(hold: LaneHold, status: ClusterStatus): Promise<void>;
}
