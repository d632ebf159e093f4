import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { WEBHOOKS_QUEUE, type DeliverWebhookJobData } from './names.js';

export interface WebhookWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Deliveries sent at once by this process. @see Config.WEBHOOK_CONCURRENCY */
  concurrency: number;
  processor: (job: Job<DeliverWebhookJobData>) => Promise<void>;
  log: Logger;
}

/** The BullMQ worker around the delivery processor. `close` lets sends in flight finish (each is bounded by its timeout). */
export function startWebhookWorker(options: WebhookWorkerOptions) {
  const worker = new Worker<DeliverWebhookJobData>(WEBHOOKS_QUEUE, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
  });
  // Each failed attempt is already recorded and logged by the processor.
  worker.on('error', (err) => options.log.error({ err }, 'webhook worker error'));
  return { worker, close: () => worker.close() };
}
