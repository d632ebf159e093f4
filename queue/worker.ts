import { Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from 'pino';
import { OPERATIONS_QUEUE, type RunClusterJobData } from './names.js';

export interface ClusterWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  /** Clusters run at once by this process. */
  concurrency: number;
  processor: (job: import('bullmq').Job<RunClusterJobData>, token?: string) => Promise<void>;
  /** Aborting it tells running operations to stop and requeue themselves (used by drain). */
  shutdown: AbortController;
  log: Logger;
}

/** The BullMQ worker around the lane processor, with a drain that honours a grace period. */
export function startClusterWorker(options: ClusterWorkerOptions) {
  const worker = new Worker<RunClusterJobData>(OPERATIONS_QUEUE, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    // The processor's own event loop stays free (the engine runs in a child process), so BullMQ
    // renews job locks on time even through a 20-minute EKS create.
    lockDuration: 30_000,
    stalledInterval: 15_000,
    // A stalled job (its worker died) is only a wake-up call: run it again rather than fail it.
    maxStalledCount: 10,
  });
  worker.on('failed', (job, err) => options.log.error({ err, jobId: job?.id }, 'lane job failed'));
  worker.on('error', (err) => options.log.error({ err }, 'worker error'));

  return {
    worker,
    /**
     * Stops taking jobs, lets running operations finish for `graceMs`, then stops them
     * (they are cancelled through the engine and requeued) and waits for the lanes to close.
     */
    async drain(graceMs: number): Promise<void> {
      const timer = setTimeout(() => options.shutdown.abort(), graceMs);
      try {
        await worker.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
