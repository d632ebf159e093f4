import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

/** A request id a client or a proxy may hand us: short, and nothing a log line could be forged with. */
const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The route pattern that answered the request (`/v1/clusters/:name`), or null when none matched. */
export function matchedRoute(req: Request): string | null {
  if (!req.route) return null;
  const path = (req.route as { path: string }).path;
  // A router's own root ('/' under '/v1/clusters') is the mount path itself, as clients write it.
  return path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${path}`;
}

/**
 * Remembers the route pattern as the router matches it, for the access log, the metrics and the
 * request's span: a router puts its mount path back into `req.baseUrl` when the request leaves it, so
 * an error answered by the error handler would otherwise be named by the route's own path alone (`/`
 * for `POST /v1/clusters`). The app's first middleware.
 */
export const watchRoutes: RequestHandler = (req, res, next) => {
  let route: unknown;
  let pattern: string | null = null;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: unknown) {
      route = value;
      pattern = matchedRoute(req);
    },
  });
  res.locals.route = () => pattern ?? matchedRoute(req);
  next();
};

/** The route pattern that answered the request, or null when none matched; see {@link watchRoutes}. */
export const routeOf = (req: Request, res: Response): string | null =>
  (res.locals.route as (() => string | null) | undefined)?.() ?? matchedRoute(req);

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
    // The request's trace (see request-tracing.ts), when tracing is on: its log lines and its spans meet.
    const traceId = res.locals.traceId as string | undefined;
    const child = log.child(traceId ? { requestId, traceId } : { requestId });
    res.locals.log = child;
    const started = performance.now();
    res.once('close', () => {
      const route = routeOf(req, res);
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
