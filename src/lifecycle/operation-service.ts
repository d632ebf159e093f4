import type { OperationRecord } from '../domain/operation.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import type { Page } from '../domain/page.js';
import type { OperationDispatcher } from '../ports.js';
import type { OperationStore } from '../store/operation-store.js';
import type { ClusterService } from './cluster-service.js';

export interface OperationServiceDeps {
  store: OperationStore;
  clusters: ClusterService;
  /** Told when a queued operation is cancelled, so that the cluster's lane settles its status. */
  dispatcher: OperationDispatcher;
  /** Called once a queued operation's cancel is committed, to carry out its outbox entry (webhook event) at once; must not throw. @defaultValue none */
  afterCancel?(operationId: string): Promise<void>;
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

  private async cancelled(op: OperationRecord): Promise<void> {
    await this.deps.dispatcher.dispatch(op);
    await this.deps.afterCancel?.(op.id);
  }
}
