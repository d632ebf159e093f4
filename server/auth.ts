import type { Request, RequestHandler } from 'express';
import { hashToken } from '../src/auth/tokens.js';
import { assertMayChange } from '../src/auth/permissions.js';
import { principalFor, type Principal } from '../src/auth/principal.js';
import { TooManyRequestsError, UnauthenticatedError } from '../src/errors.js';
import type { RateLimiter } from '../src/limits/rate-limiter.js';
import type { TokenStore } from '../src/store/token-store.js';
import { clientKey } from './client-address.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/**
 * Resolves `Authorization: Bearer <token>` to a principal, or answers 401. With `failures`, each
 * failure counts against the client's address, and past the limit failures answer 429 with
 * Retry-After instead. A valid token still works from a limited address: addresses are shared
 * (NAT, proxies, CI runners), so one broken client must not lock out its neighbours, and refusing
 * a valid token would buy no safety, since 256-bit random tokens cannot be guessed anyway. It
 * also keeps the valid path free of any Redis round trip: only failures are counted. A token that is
 * unknown, expired or revoked is one answer, the same body and headers: the store does not tell them
 * apart, so that the answer says nothing about which tokens exist or existed.
 */
export function authenticate(store: Pick<TokenStore, 'findTokenByHash'>, failures?: RateLimiter): RequestHandler {
  return async (req, _res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const token = match ? await store.findTokenByHash(hashToken(match[1]!)) : null;
    if (token) {
      req.principal = principalFor(token);
      return next();
    }
    const verdict = await failures?.consume(clientKey(req));
    if (verdict && !verdict.allowed) {
      return next(
        new TooManyRequestsError(
          `too many failed authentications from this address; try again in ${verdict.retryAfterSeconds} s`,
          verdict.retryAfterSeconds,
        ),
      );
    }
    next(
      match
        ? new UnauthenticatedError('unknown, expired or revoked token', true)
        : new UnauthenticatedError('missing Authorization: Bearer <token> header'),
    );
  };
}

export const principalOf = (req: Request): Principal => {
  if (!req.principal) throw new UnauthenticatedError('not authenticated');
  return req.principal;
};

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A viewer's token changes nothing: a request other than a read is refused (403) before any route sees it. */
export const readOnlyForViewers: RequestHandler = (req, _res, next) => {
  if (!READS.has(req.method)) assertMayChange(principalOf(req));
  next();
};
