import type { RequestHandler } from 'express';
import { InputError } from '../src/errors.js';
import { jsonIssues } from '../src/lifecycle/json-guard.js';
import { describeIssues } from '../src/lifecycle/zod-issues.js';

export interface InputGuardOptions {
  /** Deepest nesting of arrays and objects in a JSON body (the top-level value is level 1). @see Config.MAX_BODY_DEPTH */
  maxBodyDepth: number;
}

// The query parser gives strings and arrays of strings (two levels); this only bounds the walk.
const QUERY_DEPTH = 4;

/**
 * Refuses, with a 400 naming each field and rule, a parsed body or query that holds what no
 * route may pass on: too deep a nesting, `__proto__`/`constructor`/`prototype` keys, NUL or lone
 * surrogates, non-finite numbers. Mounted right after the body parser and authentication, before
 * anything that recurses over the body (idempotency fingerprints, zod, the merge patch), so that
 * a refused request is recorded nowhere and queues nothing.
 */
export function inputGuard(options: InputGuardOptions): RequestHandler {
  return (req, _res, next) => {
    const issues = [
      ...(req.body === undefined ? [] : jsonIssues(req.body, { maxDepth: options.maxBodyDepth })),
      ...jsonIssues(req.query, { maxDepth: QUERY_DEPTH, prefix: 'query' }),
    ];
    if (issues.length) return next(new InputError(`invalid request: ${describeIssues(issues)}`, issues));
    next();
  };
}
