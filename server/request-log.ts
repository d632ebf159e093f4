import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/** A request id a client or a proxy may hand us: short, and nothing a log line could be forged with. */
const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The logger of a request: every line it writes carries the request's id. */
export const requestLog = (res: Response, fallback: Logger): Logger => (res.locals.log as Logger | undefined) ?? fallback;

/**
 * Gives every request an id (the client's `X-Request-Id` when it is a sane one, else a new UUID),
 * echoes it in the answer, hands the request a logger that carries it, and writes one access line
 * when the answer is done: method, route, status, duration, and the token's id (never its value).
 * Paths are logged without their query.
 */
export function requestLogging(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const requestId = given && GIVEN_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const child = log.child({ requestId });
    res.locals.log = child;
    const started = performance.now();
    res.once('close', () => {
      const route = req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : null;
      child.info(
        {
          method: req.method,
          path: req.path,
          route,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          tokenId: req.principal?.tokenId ?? null,
          complete: res.writableFinished,
        },
        'request',
      );
    });
    next();
  };
}
