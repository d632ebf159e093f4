import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookDelivery } from '../domain/webhook.js';
import type { WebhookStore } from '../store/webhook-store.js';
import type { WebhookEventInput, WebhookPayload } from '../domain/webhook-event.js';

/** Where recorded deliveries go to be sent (the `webhooks` BullMQ queue). */
export interface DeliveryQueue {
  /** Queues the delivery; a second call for the same id while its job exists queues nothing. */
  enqueue(deliveryId: string): Promise<void>;
}

/**
 * Tells subscribers what happened. This is what the rest of the service calls: operations as they
 * finish, drift sweeps, expiry checks.
 */
export interface WebhookNotifier {
  /**
   * Records one pending delivery per active subscription of `event.type` (the event's team's and the
   * all-teams ones) and queues them. Never rejects: a failure is logged, and a delivery recorded
   * while Redis is down is queued later by the requeue pass.
   */
  publish(event: WebhookEventInput): Promise<void>;
  /**
   * Like `publish`, for a caller that must know it worked (the outbox relay): the event has the given id
   * and time, recording it again records nothing new, and a failure to record rejects.
   */
  record(event: WebhookEventInput, identity: { eventId: string; createdAt: string }): Promise<void>;
}

export interface WebhookNotifierDeps {
  store: Pick<WebhookStore, 'recordDeliveries'>;
  queue: DeliveryQueue;
  log: Logger;
}

/** The notifier, plus `deliver` for callers that need the deliveries and its errors (the test ping). */
export function createWebhookNotifier(deps: WebhookNotifierDeps): WebhookNotifier & {
  /** Records and queues deliveries of a ready payload; rejects if they cannot be recorded (a queue failure is only logged). */
  deliver(payload: WebhookPayload, options?: { only?: string }): Promise<WebhookDelivery[]>;
} {
  const { store, queue, log } = deps;

  async function deliver(payload: WebhookPayload, options: { only?: string } = {}): Promise<WebhookDelivery[]> {
    const deliveries = await store.recordDeliveries(payload, options);
    for (const d of deliveries) {
      try {
        await queue.enqueue(d.id);
      } catch (err) {
        log.warn({ err: (err as Error).message, deliveryId: d.id }, 'could not queue webhook delivery now; the requeue pass will');
      }
    }
    return deliveries;
  }

  return {
    deliver,
    async record(event, identity) {
      const payload: WebhookPayload = {
        id: identity.eventId,
        type: event.type,
        createdAt: identity.createdAt,
        team: event.team,
        cluster: event.cluster,
        data: event.data,
      };
      const deliveries = await deliver(payload);
      if (deliveries.length)
        log.debug({ eventId: payload.id, type: payload.type, deliveries: deliveries.length }, 'webhook event recorded');
    },
    async publish(event) {
      const payload: WebhookPayload = {
        id: randomUUID(),
        type: event.type,
        createdAt: new Date().toISOString(),
        team: event.team,
        cluster: event.cluster,
        data: event.data,
      };
      try {
        const deliveries = await deliver(payload);
        if (deliveries.length)
          log.debug({ eventId: payload.id, type: payload.type, deliveries: deliveries.length }, 'webhook event published');
      } catch (err) {
        // What happened is already recorded where it belongs; only its notification is lost.
        log.error({ err, eventId: payload.id, type: payload.type, cluster: payload.cluster }, 'could not record webhook deliveries');
      }
    },
  };
}
