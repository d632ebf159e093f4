import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { NotFoundError, UnavailableError } from '../src/errors.js';
import { problemHeaders, toProblem } from './problem.js';

/** Turns every error into application/problem+json; logs the unexpected ones, never sends their stack. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = { ...toProblem(err), instance: req.originalUrl };
    // A saturated resource is expected under load: worth a warning, not an error with a stack.
    if (err instanceof UnavailableError) log.warn({ method: req.method, url: req.originalUrl, detail: err.message }, 'request refused: unavailable');
    else if (problem.status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return res.end();
    res.status(problem.status).set(problemHeaders(err)).type('application/problem+json').send(JSON.stringify(problem));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => next(new NotFoundError(`no route for ${req.method} ${req.path}`));
