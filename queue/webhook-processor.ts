import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { WebhookStore } from '../src/store/webhook-store.js';
import type { SendResult, WebhookSender } from '../src/webhooks/http-sender.js';
import { signedHeaders } from '../src/webhooks/signature.js';
import type { DeliverySlots } from './delivery-slots.js';
import type { DeliverWebhookJobData } from './names.js';

export interface WebhookProcessorDeps {
  store: Pick<WebhookStore, 'deliveryTarget' | 'recordAttempt'>;
  log: Logger;
  /** Sends one attempt (checks the receiver's address, bounds the attempt by its timeout). */
  send: WebhookSender;
  /** This process's shares of its delivery slots, per receiver and per team. */
  slots: DeliverySlots;
  /** How long an attempt may take; also the longest a delivery waits for its receiver's share. @see Config.WEBHOOK_TIMEOUT_MS */
  timeoutMs: number;
  /** Attempts before the delivery ends `failed`; must match the jobs' `attempts`. @see Config.WEBHOOK_MAX_ATTEMPTS */
  maxAttempts: number;
  /** First retry delay; must match the jobs' backoff, so that the records know when a retry is due. @see Config.WEBHOOK_BACKOFF_MS */
  backoffMs: number;
  /** Told of every recorded attempt's outcome (for the metrics). */
  afterAttempt?: (outcome: 'delivered' | 'retrying' | 'failed') => void;
}

/** One failed attempt that will be retried: BullMQ schedules the retry. */
export class DeliveryAttemptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryAttemptError';
  }
}

const USER_AGENT = 'clusterd-webhooks/1';
/** Shortest wait of a delivery whose share is full, so that a busy receiver is not polled in a tight loop. */
const MIN_DEFER_MS = 250;

const originOf = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/**
 * How long a delivery waits when its share is full: about as long as the share has been busy
 * (a receiver that hangs is looked at less and less often), between MIN_DEFER_MS and the timeout,
 * with jitter so that the waiting deliveries do not all come back at once.
 */
const deferralMs = (busyForMs: number, timeoutMs: number) =>
  Math.round(Math.min(Math.max(busyForMs, MIN_DEFER_MS), Math.max(timeoutMs, MIN_DEFER_MS)) * (0.75 + Math.random() * 0.5));

/**
 * The BullMQ processor of the `webhooks` queue: signs the delivery's payload now, POSTs it, and
 * records the attempt. A 2xx answer settles it `succeeded`; anything else throws so that BullMQ
 * retries with backoff, and the last allowed attempt settles it `failed`; a receiver whose address
 * is not allowed fails at once. Redirects are not followed (a 3xx is a failure): the signature is
 * for the subscribed URL only. A delivery whose receiver or team has its full share of this
 * process's slots goes back to the delayed set without counting an attempt.
 */
export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  const { store, log, send, slots, timeoutMs, maxAttempts, backoffMs } = deps;

  return async function deliverWebhook(job: Job<DeliverWebhookJobData>, token?: string): Promise<void> {
    const { deliveryId } = job.data;
    const target = await store.deliveryTarget(deliveryId);
    // Deleted with its subscription, or settled by an earlier job of the same id: nothing to send.
    if (!target || target.delivery.status !== 'pending') return;
    const { delivery } = target;
    const slot = target.active ? slots.take({ receiver: originOf(target.url), team: target.team }) : null;
    if (slot && !slot.taken) {
      if (!token) throw new Error('the webhook processor needs the job token to defer a delivery');
      const waitMs = deferralMs(slot.busyForMs, timeoutMs);
      await job.moveToDelayed(Date.now() + waitMs, token);
      log.debug({ deliveryId, subscriptionId: delivery.subscriptionId, waitMs }, 'webhook receiver busy; delivery deferred');
      throw new DelayedError();
    }
    const at = new Date();
    const started = performance.now();
    let result: SendResult;
    try {
      if (!target.active) {
        result = { kind: 'failed', error: 'the subscription is disabled', final: true };
      } else {
        const body = JSON.stringify(delivery.payload);
        const headers = {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...signedHeaders({ secret: target.signingSecret, deliveryId, eventType: delivery.eventType, body, now: at }),
        };
        result = await send({ url: target.url, headers, body });
      }
    } finally {
      slot?.release();
    }
    const durationMs = performance.now() - started;
    const statusCode = result.kind === 'answered' ? result.statusCode : null;
    const error =
      result.kind === 'failed'
        ? result.error
        : result.statusCode >= 200 && result.statusCode <= 299
          ? null
          : `answered HTTP ${result.statusCode}`;
    const attempt = delivery.attempts + 1;
    const final = error === null || (result.kind === 'failed' && result.final) || attempt >= maxAttempts;
    const status = error === null ? 'succeeded' : final ? 'failed' : 'pending';
    const retryInMs = status === 'pending' ? backoffMs * 2 ** (attempt - 1) : null;
    await store.recordAttempt(deliveryId, { at, statusCode, error, durationMs, status, retryInMs });
    deps.afterAttempt?.(status === 'succeeded' ? 'delivered' : status === 'failed' ? 'failed' : 'retrying');
    const context = { deliveryId, subscriptionId: delivery.subscriptionId, eventType: delivery.eventType, attempt, statusCode };
    if (status === 'succeeded') return void log.debug(context, 'webhook delivered');
    if (status === 'failed') {
      log.warn({ ...context, error }, 'webhook delivery failed for good');
      throw new UnrecoverableError(`delivery ${deliveryId} failed after ${attempt} attempts: ${error}`);
    }
    throw new DeliveryAttemptError(`attempt ${attempt} of delivery ${deliveryId} failed: ${error}`);
  };
}
