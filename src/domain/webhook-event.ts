import type { OperationErrorCode } from './operation-error.js';
import type { OperationRecord } from './operation.js';

/** Event types a subscription may ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'operation.succeeded',
  'operation.failed',
  'operation.cancelled',
  'operation.awaiting-approval',
  'operation.approved',
  'operation.rejected',
  'drift.detected',
  'drift.remediated',
  'cluster.expiring',
  'cluster.expiry-refused',
  'cluster.support-ending',
  'rollout.started',
  'rollout.stage-completed',
  'rollout.awaiting-approval',
  'rollout.halted',
  'rollout.finished',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent only by `POST /v1/webhooks/{id}/test`, to that one subscription; nobody subscribes to it. */
export const PING_EVENT = 'ping';

/** What a publisher says happened. `data` must carry no secret: it is stored and sent as is. */
export interface WebhookEventInput {
  type: WebhookEventType;
  /** The team the event belongs to: its subscriptions and the all-teams ones receive it; null: only the all-teams ones (an admin's rollout over every team). */
  team: string | null;
  /** The cluster concerned, if any. */
  cluster: string | null;
  data: Record<string, unknown>;
}

/** The JSON body of every delivery (the envelope); the same event id reaches every subscription. */
export interface WebhookPayload {
  /** Event id (UUID), the same in every subscription's delivery of this event. */
  id: string;
  type: WebhookEventType | typeof PING_EVENT;
  /** When the event happened (ISO-8601, UTC). */
  createdAt: string;
  team: string | null;
  cluster: string | null;
  data: Record<string, unknown>;
}

/** `data` of the `operation.*` events: what happened, never spec values, outputs or resource details. */
export interface OperationEventData {
  operation: {
    id: string;
    kind: OperationRecord['kind'];
    status: OperationRecord['status'];
    generation: number;
    requestedBy: string;
    attempts: number;
    queuedAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    /** Counts of resource changes (create, update, replace, delete, same), or null when the run produced none. */
    counts: Record<string, number> | null;
    /** The error's stable code and one-line title; its detail stays in the API. */
    error: { code: OperationErrorCode; title: string } | null;
    href: string;
  };
  cluster: { name: string; team: string; blueprint: string | null; href: string };
  /** The `operation.awaiting-approval`, `.approved` and `.rejected` events: where its approval stands. */
  approval?: {
    state: string;
    reasons: string[];
    required: number;
    expiresAt: string | null;
    decisions: Array<{ decision: string; by: string; comment: string | null; at: string }>;
  };
}
