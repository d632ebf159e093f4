import type { OperationEvent, OperationRecord } from '../domain/operation.js';
import type { Page } from '../domain/page.js';

/**
 * Operations and their events, as the API and the reconciler read them, and cancel. The writes of a
 * run (start, events, finish) are the lane holder's: see LaneStore. Every method is atomic.
 */
export interface OperationStore {
  getOperation(id: string): Promise<OperationRecord | null>;
  /** Newest first. */
  listOperations(clusterId: string, limit: number, cursor?: string): Promise<Page<OperationRecord>>;
  /** Operations of the cluster that are queued, running or awaiting approval, oldest first. */
  pendingOperations(clusterId: string): Promise<OperationRecord[]>;
  /**
   * A queued operation (or one awaiting approval) becomes `cancelled` at once; a running one gets
   * cancelRequested (not with `onlyQueued`). Returns the updated record, or null if it was already terminal (or running, with `onlyQueued`).
   */
  requestCancel(id: string, options?: { onlyQueued?: boolean }): Promise<OperationRecord | null>;
  /** Cluster ids with queued operations (but those waiting for a maintenance window that has not come), or running ones whose lane lease has expired (for the reconciler). */
  clustersNeedingWork(): Promise<string[]>;
  /** Events with seq > afterSeq, oldest first. */
  listEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]>;
}
