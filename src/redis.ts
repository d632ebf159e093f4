import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Options of {@link connectRedis}. */
export interface RedisConnectionOptions {
  /**
   * Commands fail at once while the connection is down instead of waiting for it: for producers,
   * so that a request is answered from the records without waiting for Redis (the reconciler queues
   * it later). A worker's blocking commands must wait out an outage instead. @defaultValue false
   */
  failFast?: boolean;
  /** Where connection errors go (a warning each); without it ioredis reports them as unhandled. */
  log?: Logger;
}

/**
 * The one way this service connects to Redis: a connection fit for BullMQ, whose workers need
 * `maxRetriesPerRequest: null` (a blocking command is never given up on while Redis is away).
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, enableOfflineQueue: !options.failFast });
  const { log } = options;
  if (log) connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  return connection;
}

/**
 * Closes a Redis connection. QUIT fails on a connection that is down (no offline queue), and the
 * client would then go on reconnecting for ever and keep the process alive: disconnect it instead.
 */
export async function closeRedis(connection: Redis): Promise<void> {
  await connection.quit().catch(() => connection.disconnect());
}
