import { derivedId } from '../domain/derived-id.js';
import type { OperationRecord } from '../domain/operation.js';
import type { ClusterStore } from '../store/cluster-store.js';
import type { OperationStore } from '../store/operation-store.js';
import type { OutboxEntry } from '../store/outbox-store.js';
import { parseApprovalSubject } from '../store/approval-store.js';
import { approvalEvent, operationEvent } from '../webhooks/events.js';
import type { WebhookNotifier } from '../webhooks/notifier.js';
import type { createDriftReactions } from '../drift/drift-reactions.js';

export interface OperationFollowUpDeps {
  store: Pick<OperationStore, 'getOperation'> & Pick<ClusterStore, 'getClusterById'>;
  webhooks: Pick<WebhookNotifier, 'record'>;
  /** Drift reports and remediation (worker processes); absent where only the webhook event is due. */
  reactions?: Pick<ReturnType<typeof createDriftReactions>, 'afterOperation'>;
  /** Told once its consequences are done (for the metrics); a retry after a crash may tell it twice. */
  afterFollowUp?: (op: OperationRecord, blueprint: string) => void;
}

/**
 * The outbox handler of `operation.finished`: the operation's webhook event (its id is the entry's, so
 * a retry records nothing twice), then its drift report and remediation. Throws when a step failed.
 */
export function createOperationFollowUp(deps: OperationFollowUpDeps) {
  return async function followUp(entry: OutboxEntry): Promise<void> {
    const op = await deps.store.getOperation(entry.subject);
    // Nothing left to tell about (removed by hand, or never existed).
    if (!op) return;
    const cluster = await deps.store.getClusterById(op.clusterId);
    const createdAt = op.finishedAt ?? entry.createdAt;
    const event = operationEvent(op, cluster);
    if (event) await deps.webhooks.record(event, { eventId: entry.id, createdAt });
    if (cluster && deps.reactions)
      await deps.reactions.afterOperation(op, cluster, { driftEventId: derivedId(entry.id, 'drift'), createdAt });
    if (cluster) deps.afterFollowUp?.(op, cluster.blueprint);
  };
}

/**
 * The outbox handler of `operation.approval`: the webhook event of one step of an operation's
 * approval (awaiting, approved, rejected), under the entry's id. Throws when it could not be recorded.
 */
export function createApprovalFollowUp(deps: Pick<OperationFollowUpDeps, 'store' | 'webhooks'>) {
  return async function followUp(entry: OutboxEntry): Promise<void> {
    const { operationId, step } = parseApprovalSubject(entry.subject);
    const op = await deps.store.getOperation(operationId);
    if (!op) return;
    const event = approvalEvent(op, await deps.store.getClusterById(op.clusterId), step);
    if (event) await deps.webhooks.record(event, { eventId: entry.id, createdAt: entry.createdAt });
  };
}
