import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { RateRule } from './rate-rule.js';

/** The answer to one counted request. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts requests per key (a client address, a token) against a {@link RateRule}. */
export interface RateLimiter {
  /** Counts one request for `key`; never rejects. */
  consume(key: string): Promise<RateVerdict>;
}

/** Settings of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** What is limited, part of the Redis key: `auth-failures`, `webhook-tests`. */
  name: string;
  rule: RateRule;
  /** The connection the counts live on; a fail-fast one (no offline queue), so that an outage is noticed at once. */
  redis: Redis;
  /** Prefix of the Redis keys (QUEUE_PREFIX), so that deployments sharing a Redis count apart. */
  prefix: string;
  /** Longest wait for Redis before this process counts alone, in milliseconds. @defaultValue 500 */
  redisTimeoutMs?: number;
  log: Logger;
}

/**
 * A limiter whose counts live in Redis, so that every API replica on the same Redis and prefix
 * shares them. When Redis is down or slow, the process counts in its own memory instead (the
 * insurance limiter): requests are still answered and still limited, each replica alone, so the
 * effective limit is at most the rule times the number of replicas until Redis is back.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const points = options.rule.points;
  const duration = Math.max(1, Math.ceil(options.rule.windowMs / 1000));
  const memory = new RateLimiterMemory({ keyPrefix: options.name, points, duration });
  const shared = new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix: `${options.prefix}:rate-limit:${options.name}`,
      points,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    }),
    timeoutMs: options.redisTimeoutMs ?? 500,
    insuranceLimiter: memory,
  });
  return {
    async consume(key) {
      try {
        await shared.consume(key);
        return { allowed: true };
      } catch (res) {
        if (res instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
        // Not reachable with a memory insurance; should it happen, answering beats limiting.
        options.log.warn({ err: res, limit: options.name }, 'rate limit could not be counted; request allowed');
        return { allowed: true };
      }
    },
  };
}
