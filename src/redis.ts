import { Redis } from 'ioredis';

/** A connection fit for BullMQ: blocking commands must wait forever rather than fail. */
export function connectRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}
