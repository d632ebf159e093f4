import type { RequestHandler } from 'express';
import { MethodNotAllowedError } from '../src/errors.js';

const escape = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

/**
 * Answers a request to a described path with a method it does not list: 405 with `Allow` (RFC 9110),
 * or, for OPTIONS, 204 with `Allow`. Built from the OpenAPI description's paths, so the answer and
 * the description cannot disagree. Mounted before anything that reads the body or the
 * Idempotency-Key: a method the path does not have is refused whatever the request holds.
 * Paths match as the router matches them: case-insensitive, a trailing slash allowed.
 */
export function methodNotAllowed(paths: Record<string, Record<string, unknown>>): RequestHandler {
  const routes = Object.entries(paths).map(([template, operations]) => {
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    // The router answers HEAD with the GET handler.
    if (methods.includes('GET')) methods.push('HEAD');
    methods.push('OPTIONS');
    const pattern = escape(template).replace(/\{[^}]+\}/g, '[^/]+');
    return { pattern: new RegExp(`^${pattern}/?$`, 'i'), methods };
  });
  return (req, res, next) => {
    const route = routes.find((r) => r.pattern.test(req.path));
    if (!route || (route.methods.includes(req.method) && req.method !== 'OPTIONS')) return next();
    if (req.method === 'OPTIONS') return void res.status(204).set('Allow', route.methods.join(', ')).end();
    next(new MethodNotAllowedError(`${req.method} is not allowed on ${req.path}; use ${route.methods.join(', ')}`, route.methods));
  };
}
