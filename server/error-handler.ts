import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { NotFoundError, UnavailableError } from '../src/errors.js';
import { isStoreUnreachable } from '../src/store/sql.js';
import { problemHeaders, toProblem } from './problem.js';
import { requestLog } from './request-log.js';
import { requestTraceId } from './request-tracing.js';
import type { problemSchema } from './schemas/problem.js';

/** Seconds a client is told to wait when the record store does not answer. */
const STORE_RETRY_AFTER_S = 2;

/** Turns every error into application/problem+json; logs the unexpected ones, never sends their stack. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (raw, req, res, _next) => {
    // The store restarting or out of reach is an outage to wait out (503, Retry-After), not a bug (500).
    const err = isStoreUnreachable(raw)
      ? new UnavailableError('the record store is not answering; try again shortly', STORE_RETRY_AFTER_S, { cause: raw })
      : raw;
    const traceId = requestTraceId(res);
    const problem: z.infer<typeof problemSchema> = { ...toProblem(err), instance: req.originalUrl, ...(traceId ? { traceId } : {}) };
    const lines = requestLog(res, log);
    // A saturated resource is expected under load: worth a warning, not an error with a stack.
    if (err instanceof UnavailableError)
      lines.warn({ method: req.method, url: req.originalUrl, detail: err.message }, 'request refused: unavailable');
    else if (problem.status >= 500) lines.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return res.end();
    res.status(problem.status).set(problemHeaders(err)).type('application/problem+json').send(JSON.stringify(problem));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => next(new NotFoundError(`no route for ${req.method} ${req.path}`));
