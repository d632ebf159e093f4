import type { OperationRecord } from '../domain/operation.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { assertMayApprove, assertMayChange } from '../auth/permissions.js';
import type { ApprovalStore, DecisionOutcome } from '../store/approval-store.js';
import type { Page } from '../domain/page.js';
import type { OperationDispatcher } from '../ports.js';
import type { OperationStore } from '../store/operation-store.js';
import type { ClusterService } from './cluster-service.js';

export interface OperationServiceDeps {
  store: OperationStore;
  approvals: ApprovalStore;
  clusters: ClusterService;
  /** Told when a queued operation is cancelled, so that the cluster's lane settles its status. */
  dispatcher: OperationDispatcher;
  /**
   * Wakes a cluster's lane whose operation has run before (its plan): answered or cancelled, an
   * operation awaiting approval frees the lane, which its own dispatch no longer can (it was used).
   */
  wake(clusterId: string): Promise<void>;
  /** Called once a queued operation's cancel is committed, to carry out its outbox entry (webhook event) at once; must not throw. @defaultValue none */
  afterCancel?(operationId: string): Promise<void>;
  /** Called once an answer to an approval is committed, to carry out its outbox entries (webhook events) at once; must not throw. @defaultValue none */
  afterDecision?(operation: OperationRecord, outcome: DecisionOutcome['outcome']): Promise<void>;
}

/** Reads operations and their events for a caller, and cancels them. */
export class OperationService {
  constructor(private readonly deps: OperationServiceDeps) {}

  async get(principal: Principal, id: string): Promise<OperationRecord> {
    const op = await this.deps.store.getOperation(id);
    if (!op || (!principal.admin && op.team !== principal.team)) throw new NotFoundError(`no operation with id ${id}`);
    return op;
  }

  async listForCluster(principal: Principal, name: string, limit: number, cursor?: string): Promise<Page<OperationRecord>> {
    const cluster = await this.deps.clusters.get(principal, name);
    return this.deps.store.listOperations(cluster.id, limit, cursor);
  }

  /**
   * A queued operation is cancelled at once and never runs; a running one is flagged,
   * and its worker asks the engine to stop gracefully.
   */
  async cancel(principal: Principal, id: string): Promise<OperationRecord> {
    const op = await this.get(principal, id);
    const updated = await this.deps.store.requestCancel(op.id);
    if (!updated) throw new ConflictError(`operation ${id} is already ${op.status}; nothing to cancel`);
    if (updated.status === 'cancelled') await this.cancelled(updated);
    return updated;
  }

  /** Cancels the operation if it is still queued; one already running or over is left alone (a rollout's cancel). */
  async cancelIfQueued(id: string): Promise<void> {
    const updated = await this.deps.store.requestCancel(id, { onlyQueued: true });
    if (updated?.status === 'cancelled') await this.cancelled(updated);
  }

  /**
   * One approval of an operation awaiting it, by an admin or an approver of its team who did not
   * request it. Enough approvals queue it to run, bound to the plan approved.
   */
  approve(principal: Principal, id: string, comment: string | null): Promise<OperationRecord> {
    return this.decide(principal, id, 'approved', comment);
  }

  /** Rejects an operation awaiting approval: it ends `failed` (approval-rejected) without changing anything. */
  reject(principal: Principal, id: string, comment: string): Promise<OperationRecord> {
    return this.decide(principal, id, 'rejected', comment);
  }

  private async decide(
    principal: Principal,
    id: string,
    decision: 'approved' | 'rejected',
    comment: string | null,
  ): Promise<OperationRecord> {
    const op = await this.get(principal, id);
    assertMayChange(principal);
    assertMayApprove(principal, { team: op.team, requestedByTokenId: op.requestedByTokenId });
    const role = principal.admin ? 'admin' : 'approver';
    const { outcome, operation } = await this.deps.approvals.decide(op.id, {
      decision,
      by: describePrincipal(principal),
      tokenId: principal.tokenId,
      role,
      comment,
    });
    // Approved, it runs; rejected or expired, what waited behind it runs.
    if (outcome !== 'recorded') await this.deps.wake(operation.clusterId);
    await this.deps.afterDecision?.(operation, outcome);
    if (outcome === 'expired')
      throw new ConflictError(
        `operation ${id} waited for approval until ${op.approval?.expiresAt ?? '?'}: it has expired and ended failed`,
      );
    return operation;
  }

  private async cancelled(op: OperationRecord): Promise<void> {
    // One that had started waited for approval: its own dispatch was used when it ran its plan.
    if (op.startedAt) await this.deps.wake(op.clusterId);
    else await this.deps.dispatcher.dispatch(op);
    await this.deps.afterCancel?.(op.id);
  }
}
