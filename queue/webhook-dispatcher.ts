import type { Queue } from 'bullmq';
import type { DeliveryQueue } from '../src/webhooks/notifier.js';
import { DELIVER_WEBHOOK_JOB, type DeliverWebhookJobData } from './names.js';

export interface DeliveryQueueOptions {
  /** Attempts of one delivery, the first included. @see Config.WEBHOOK_MAX_ATTEMPTS */
  maxAttempts: number;
  /** First retry delay in ms; doubled for each later retry. @see Config.WEBHOOK_BACKOFF_MS */
  backoffMs: number;
}

/**
 * Queues deliveries; the job id is the delivery id, so queueing one twice (publisher and requeue
 * pass) sends it once. BullMQ's exponential backoff waits `backoffMs * 2^(n-1)` after the n-th failure.
 */
export function createDeliveryQueue(
  queue: Queue<DeliverWebhookJobData>,
  options: DeliveryQueueOptions,
): DeliveryQueue & {
  /** Queues a pending delivery whose job is lost or ended without settling it (the requeue pass). */
  requeue(deliveryId: string): Promise<void>;
} {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) throw new Error('maxAttempts must be an integer of at least 1');
  if (!(options.backoffMs > 0)) throw new Error('backoffMs must be greater than 0');
  const jobOptions = {
    attempts: options.maxAttempts,
    backoff: { type: 'exponential', delay: options.backoffMs },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  } as const;
  const enqueue = async (deliveryId: string) => {
    await queue.add(DELIVER_WEBHOOK_JOB, { deliveryId }, { ...jobOptions, jobId: deliveryId });
  };
  return {
    enqueue,
    async requeue(deliveryId) {
      // A finished job keeps its id and would swallow the add; the records say the delivery still waits.
      const job = await queue.getJob(deliveryId);
      if (job && ((await job.isFailed()) || (await job.isCompleted()))) await job.remove();
      await enqueue(deliveryId);
    },
  };
}
