import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { WebhookStore } from '../src/store/webhook-store.js';

/** Pending deliveries queued again by one pass, at most. */
const BATCH = 500;

/**
 * Finds pending deliveries whose next attempt is overdue by more than `graceMs` (recorded while
 * Redis was down, or their job was lost) and queues them again, like the operations' reconciler.
 * Queueing one whose job still exists queues nothing (the job id is the delivery id).
 */
export function startDeliveryRequeuer(deps: {
  store: Pick<WebhookStore, 'overdueDeliveries'>;
  requeue(deliveryId: string): Promise<void>;
  intervalMs: number;
  graceMs: number;
  log: Logger;
}) {
  return startPeriodicLoop({
    pass: async () => {
      for (const id of await deps.store.overdueDeliveries(deps.graceMs, BATCH)) await deps.requeue(id);
    },
    intervalMs: deps.intervalMs,
    log: deps.log,
    failureMessage: 'webhook requeue pass failed',
  });
}
