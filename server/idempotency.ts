import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ConflictError, IdempotencyMismatchError, InputError } from '../src/errors.js';
import type { IdempotencyStore } from '../src/store/idempotency-store.js';
import { principalOf } from './auth.js';

/** Response headers that are part of the first answer and so of every replay. */
const KEPT_HEADERS = ['location', 'content-type'];

/**
 * `Idempotency-Key` on POST, PATCH and DELETE: the first answer is stored and every retry with
 * the same key and the same request gets it back, queueing nothing new. A different request
 * under the same key answers 422; a retry while the first is still being handled answers 409.
 * Server errors are not stored, so the retry of a failed request runs again. A key is kept for
 * `ttlMs` after its answer; later it is a new key, whatever request it was first used with.
 */
export function idempotency(store: IdempotencyStore, options: { staleMs: number; ttlMs: number | null }): RequestHandler {
  return async (req, res, next) => {
    const key = req.get('idempotency-key');
    if (key === undefined || !['POST', 'PATCH', 'DELETE'].includes(req.method)) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      const message = 'must be 1-255 visible ASCII characters';
      return next(new InputError(`Idempotency-Key: ${message}`, [{ field: 'header.Idempotency-Key', rule: 'format', message }]));
    }
    const principalId = principalOf(req).tokenId;
    const fingerprint = createHash('sha256')
      .update(`${req.method} ${req.originalUrl}\n${JSON.stringify(req.body ?? null)}`)
      .digest('hex');
    const claim = await store.claimIdempotencyKey(principalId, key, fingerprint, options.staleMs, options.ttlMs);
    if (claim.state === 'mismatch')
      return next(new IdempotencyMismatchError('this Idempotency-Key was first used with a different request'));
    if (claim.state === 'in-flight')
      return next(new ConflictError('a request with this Idempotency-Key is still being handled; retry later'));
    if (claim.state === 'replay') {
      res.status(claim.statusCode).set(claim.headers).set('Idempotent-Replayed', 'true');
      return void res.send(typeof claim.body === 'string' ? claim.body : JSON.stringify(claim.body));
    }
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const headers = Object.fromEntries(KEPT_HEADERS.flatMap((h) => (res.get(h) ? [[h, String(res.get(h))]] : [])));
      const done =
        res.statusCode >= 500
          ? store.releaseIdempotencyKey(principalId, key)
          : store.completeIdempotencyKey(principalId, key, {
              statusCode: res.statusCode,
              body: typeof body === 'string' ? body : String(body ?? ''),
              headers,
            });
      // The answer waits for the record, so that a retry arriving right after it sees the replay.
      done.then(
        () => send(body),
        (err) => next(err),
      );
      return res;
    };
    next();
  };
}
