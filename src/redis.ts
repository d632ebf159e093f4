import { Redis } from 'ioredis';

/**
 * A connection fit for BullMQ. A worker's blocking commands must wait out an outage; a producer's
 * (`failFast`) must fail at once, so that a request is answered from the records without waiting
 * for Redis, and the reconciler queues it later.
 */
export function connectRedis(url: string, options: { failFast?: boolean } = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, enableOfflineQueue: !options.failFast });
}
