import { SpanKind, trace } from '@opentelemetry/api';
import type { RequestHandler, Response } from 'express';
import { failSpan, requestContext, startSpan, tracingOn, withContext } from '../src/tracing/tracing.js';
import { routeOf } from './request-log.js';

/** Probes and scrapes, every few seconds: no trace of their own. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/** The trace id of the request's span, which its problem documents name; undefined when tracing is off. */
export const requestTraceId = (res: Response): string | undefined => res.locals.traceId as string | undefined;

/**
 * Gives every request a server span, `HTTP <method> <route pattern>`, continuing the `traceparent`
 * the client sent, and runs the rest of its handling in it (listeners of the request's and answer's
 * events too, so that the body parser's callbacks stay in it): the spans of what it does (recording
 * an operation, queueing it) are its children. Nothing when tracing is off.
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    if (!tracingOn() || UNTRACED.has(req.path)) return next();
    const parent = requestContext(req.headers);
    const span = startSpan(`HTTP ${req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    res.locals.traceId = span.spanContext().traceId;
    res.once('close', () => {
      // Known once routed: the pattern, never the path (which names clusters and operations).
      const pattern = routeOf(req, res);
      if (pattern) {
        span.updateName(`HTTP ${req.method} ${pattern}`);
        span.setAttribute('http.route', pattern);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) failSpan(span, String(res.statusCode));
      span.end();
    });
    withContext(trace.setSpan(parent, span), next, [req, res]);
  };
}
