import type { ClusterRecord } from '../domain/cluster.js';
import type { OperationRecord } from '../domain/operation.js';
import type { OperationEventData, WebhookEventInput } from '../domain/webhook-event.js';

const OPERATION_EVENTS = { succeeded: 'operation.succeeded', failed: 'operation.failed', cancelled: 'operation.cancelled' } as const;

/**
 * The event for an operation that reached `succeeded`, `failed` or `cancelled`; null for any other
 * status (`superseded` has no event: the operation that replaced it reports).
 */
export function operationEvent(op: OperationRecord, cluster: Pick<ClusterRecord, 'blueprint'> | null): WebhookEventInput | null {
  const type = OPERATION_EVENTS[op.status as keyof typeof OPERATION_EVENTS];
  if (!type) return null;
  return { type, team: op.team, cluster: op.clusterName, data: eventData(op, cluster) as unknown as Record<string, unknown> };
}

const APPROVAL_EVENTS = {
  awaiting: 'operation.awaiting-approval',
  approved: 'operation.approved',
  rejected: 'operation.rejected',
} as const;

/** The event of one step of an operation's approval (`awaiting`, `approved`, `rejected`); null for any other step. */
export function approvalEvent(
  op: OperationRecord,
  cluster: Pick<ClusterRecord, 'blueprint'> | null,
  step: string,
): WebhookEventInput | null {
  const type = APPROVAL_EVENTS[step as keyof typeof APPROVAL_EVENTS];
  if (!type || !op.approval) return null;
  const { state, reasons, required, expiresAt, decisions } = op.approval;
  const data: OperationEventData = {
    ...eventData(op, cluster),
    approval: {
      state,
      reasons,
      required,
      expiresAt,
      decisions: decisions.map(({ decision, by, comment, at }) => ({ decision, by, comment, at })),
    },
  };
  return { type, team: op.team, cluster: op.clusterName, data: data as unknown as Record<string, unknown> };
}

function eventData(op: OperationRecord, cluster: Pick<ClusterRecord, 'blueprint'> | null): OperationEventData {
  return {
    operation: {
      id: op.id,
      kind: op.kind,
      status: op.status,
      generation: op.generation,
      requestedBy: op.requestedBy,
      attempts: op.attempts,
      queuedAt: op.queuedAt,
      startedAt: op.startedAt,
      finishedAt: op.finishedAt,
      counts: op.summary ? { ...op.summary.counts } : null,
      error: op.error ? { code: op.error.code, title: op.error.title } : null,
      href: `/v1/operations/${op.id}`,
    },
    cluster: { name: op.clusterName, team: op.team, blueprint: cluster?.blueprint ?? null, href: `/v1/clusters/${op.clusterName}` },
  };
}
