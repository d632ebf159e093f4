import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { WebhookStore } from '../src/store/webhook-store.js';
import { signedHeaders } from '../src/webhooks/signature.js';
import type { DeliverWebhookJobData } from './names.js';

export interface WebhookProcessorDeps {
  store: Pick<WebhookStore, 'deliveryTarget' | 'recordAttempt'>;
  log: Logger;
  /** How long an attempt waits for the answer. @see Config.WEBHOOK_TIMEOUT_MS */
  timeoutMs: number;
  /** Attempts before the delivery ends `failed`; must match the jobs' `attempts`. @see Config.WEBHOOK_MAX_ATTEMPTS */
  maxAttempts: number;
  /** First retry delay; must match the jobs' backoff, so that the records know when a retry is due. @see Config.WEBHOOK_BACKOFF_MS */
  backoffMs: number;
}

/** One failed attempt that will be retried: BullMQ schedules the retry. */
export class DeliveryAttemptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryAttemptError';
  }
}

const USER_AGENT = 'clusterd-webhooks/1';

/** Why a request got no answer, in words fit for the delivery log (no URL, no headers). */
function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause;
  const text = cause?.code ? `${cause.code}${cause.message ? `: ${cause.message}` : ''}` : (cause?.message ?? e?.message ?? 'request failed');
  return text.slice(0, 500);
}

/**
 * The BullMQ processor of the `webhooks` queue: signs the delivery's payload now, POSTs it, and
 * records the attempt. A 2xx answer settles it `succeeded`; anything else throws so that BullMQ
 * retries with backoff, and the last allowed attempt settles it `failed`. Redirects are not
 * followed (a 3xx is a failure): the signature is for the subscribed URL only.
 */
export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  const { store, log, timeoutMs, maxAttempts, backoffMs } = deps;

  return async function deliverWebhook(job: Job<DeliverWebhookJobData>): Promise<void> {
    const { deliveryId } = job.data;
    const target = await store.deliveryTarget(deliveryId);
    // Deleted with its subscription, or settled by an earlier job of the same id: nothing to send.
    if (!target || target.delivery.status !== 'pending') return;
    const { delivery } = target;
    const at = new Date();
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    if (!target.active) {
      error = 'the subscription is disabled';
    } else {
      const body = JSON.stringify(delivery.payload);
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signedHeaders({ secret: target.signingSecret, deliveryId, eventType: delivery.eventType, body, now: at }) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        statusCode = res.status;
        // The answer's body is not kept: free the connection.
        await res.body?.cancel().catch(() => undefined);
        if (res.status < 200 || res.status > 299) error = `answered HTTP ${res.status}`;
      } catch (err) {
        error = describeFailure(err, timeoutMs);
      }
    }
    const durationMs = performance.now() - started;
    const attempt = delivery.attempts + 1;
    const final = error === null || !target.active || attempt >= maxAttempts;
    const status = error === null ? 'succeeded' : final ? 'failed' : 'pending';
    const nextAttemptAt = status === 'pending' ? new Date(Date.now() + backoffMs * 2 ** (attempt - 1)) : null;
    await store.recordAttempt(deliveryId, { at, statusCode, error, durationMs, status, nextAttemptAt });
    const context = { deliveryId, subscriptionId: delivery.subscriptionId, eventType: delivery.eventType, attempt, statusCode };
    if (status === 'succeeded') return void log.debug(context, 'webhook delivered');
    if (status === 'failed') {
      log.warn({ ...context, error }, 'webhook delivery failed for good');
      throw new UnrecoverableError(`delivery ${deliveryId} failed after ${attempt} attempts: ${error}`);
    }
    throw new DeliveryAttemptError(`attempt ${attempt} of delivery ${deliveryId} failed: ${error}`);
  };
}
