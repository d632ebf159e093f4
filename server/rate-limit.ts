import type { RequestHandler } from 'express';
import { TooManyRequestsError } from '../src/errors.js';
import type { RateLimiter } from '../src/limits/rate-limiter.js';
import { principalOf } from './auth.js';

/** Rate limits of the API; an absent one does not limit. */
export interface ApiRateLimits {
  /** Failed authentications per client address. */
  authFailures?: RateLimiter;
  /** Webhook test pings per token. */
  webhookTests?: RateLimiter;
  /** Manual drift sweeps per token. */
  driftSweeps?: RateLimiter;
}

/** Counts the request against the caller's token; past the limit answers 429 with Retry-After. Mount after authentication. */
export function limitPerToken(limiter: RateLimiter | undefined, what: string): RequestHandler {
  return async (req, _res, next) => {
    if (!limiter) return next();
    const verdict = await limiter.consume(principalOf(req).tokenId);
    if (verdict.allowed) return next();
    next(
      new TooManyRequestsError(`too many ${what} with this token; try again in ${verdict.retryAfterSeconds} s`, verdict.retryAfterSeconds),
    );
  };
}
