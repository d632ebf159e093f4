import type { WebhookEventType, WebhookPayload } from './webhook-event.js';

/** A URL that receives signed deliveries of some event types. Its signing secret is not part of the record. */
export interface WebhookSubscription {
  id: string;
  /** The team whose events it receives; null: every team's (created with an admin token). */
  team: string | null;
  url: string;
  eventTypes: WebhookEventType[];
  description: string | null;
  /** Who created it: the token's name and team (or `admin`). */
  createdBy: string;
  active: boolean;
  createdAt: string;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One try at sending a delivery. */
export interface DeliveryAttempt {
  /** 1-based. */
  attempt: number;
  at: string;
  /** The receiver's HTTP status, or null when no answer came (see `error`). */
  statusCode: number | null;
  /** Why the attempt failed without an answer (timeout, refused connection), or a non-2xx status in words. */
  error: string | null;
  durationMs: number;
}

/** One event sent (or to be sent) to one subscription, with its retries. */
export interface WebhookDelivery {
  id: string;
  seq: number;
  subscriptionId: string;
  eventId: string;
  eventType: WebhookPayload['type'];
  /** The JSON body sent; holds no secret. */
  payload: WebhookPayload;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  nextAttemptAt: string;
  finishedAt: string | null;
}
