import type { Logger } from 'pino';
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
  let current: Promise<void> | null = null;
  /** One pass; a call during a pass waits for that pass instead of starting another. */
  const tick = (): Promise<void> => {
    current ??= (async () => {
      try {
        for (const id of await deps.store.overdueDeliveries(deps.graceMs, BATCH)) await deps.requeue(id);
      } catch (err) {
        deps.log.warn({ err }, 'webhook requeue pass failed');
      } finally {
        current = null;
      }
    })();
    return current;
  };
  const timer = setInterval(tick, deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer), tick };
}
