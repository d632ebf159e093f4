import type { z } from 'zod';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  IdempotencyMismatchError,
  InputError,
  PolicyError,
  MethodNotAllowedError,
  NotFoundError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnavailableError,
} from '../src/errors.js';
import type { problemSchema } from './schemas/problem.js';

/** An RFC 9457 problem document as the description states it, but for `instance`, which the error handler adds. */
export type Problem = Omit<z.infer<typeof problemSchema>, 'instance'>;

const kinds: Array<[new (...args: any[]) => AppError, number, string, string]> = [
  [InputError, 400, 'invalid-request', 'The request is invalid'],
  [UnauthenticatedError, 401, 'unauthenticated', 'A valid bearer token is required'],
  [PolicyError, 403, 'team-policy', 'Refused by the team policy'],
  [ForbiddenError, 403, 'forbidden', 'Not allowed for this token'],
  [NotFoundError, 404, 'not-found', 'Not found'],
  [MethodNotAllowedError, 405, 'method-not-allowed', 'Method not allowed'],
  [ConflictError, 409, 'conflict', 'Conflicts with the current state'],
  [IdempotencyMismatchError, 422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request'],
  [TooManyRequestsError, 429, 'too-many-requests', 'Too many requests'],
  [UnavailableError, 503, 'unavailable', 'Temporarily unavailable'],
];

/** Seconds to send in Retry-After with the problem of `err`, when it says when to come back. */
export function retryAfterOf(err: unknown): number | undefined {
  return err instanceof TooManyRequestsError || err instanceof UnavailableError ? Math.max(1, Math.ceil(err.retryAfterSeconds)) : undefined;
}

export const problemType = (slug: string) => `urn:clusterd:problem:${slug}`;

/** The realm every bearer challenge names. */
export const AUTH_REALM = 'clusterd';

/** Headers an error's answer must carry: the RFC 6750 challenge on a 401, Allow on a 405, Retry-After on a 429 or 503. */
export function problemHeaders(err: unknown): Record<string, string> {
  if (err instanceof MethodNotAllowedError) return { Allow: err.allowed.join(', ') };
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) return { 'Retry-After': String(retryAfter) };
  if (!(err instanceof UnauthenticatedError)) return {};
  // RFC 6750 section 3: no error code when no token was given; invalid_token when it was refused.
  const challenge = err.tokenRejected
    ? `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="the token is unknown, expired or revoked"`
    : `Bearer realm="${AUTH_REALM}"`;
  return { 'WWW-Authenticate': challenge };
}

/** Maps a known error to a problem; anything else is a generic 500 that leaks nothing. */
export function toProblem(err: unknown): Problem {
  for (const [kind, status, slug, title] of kinds) {
    if (err instanceof kind) {
      const problem: Problem = { type: problemType(slug), title, status, detail: err.message };
      if ((err instanceof InputError || err instanceof PolicyError) && err.issues.length) problem.errors = err.issues;
      return problem;
    }
  }
  const e = err as { type?: string; status?: number; expose?: boolean; message?: string } | undefined;
  // Errors raised by express' body parser carry a type and a status meant for the client.
  if (e?.type === 'entity.too.large')
    return {
      type: problemType('body-too-large'),
      title: 'Request body too large',
      status: 413,
      detail: e.message ?? 'request entity too large',
    };
  if (e?.type === 'entity.parse.failed')
    return {
      type: problemType('invalid-json'),
      title: 'The request is invalid',
      status: 400,
      detail: 'body is not valid JSON',
      errors: [{ field: '(body)', rule: 'json', message: 'is not valid JSON' }],
    };
  // The router could not percent-decode a path segment (`%E0%A4%A`, `%ff`): the client's fault.
  if (err instanceof URIError && e?.status === 400)
    return {
      type: problemType('invalid-request'),
      title: 'The request is invalid',
      status: 400,
      detail: 'path: is not valid percent-encoded UTF-8',
      errors: [{ field: 'path', rule: 'encoding', message: 'is not valid percent-encoded UTF-8' }],
    };
  if (e?.expose && e.status && e.status < 500) {
    // The body parser's other refusals (a corrupt compressed body, a length that does not match, an
    // unsupported encoding or charset) are all about the body.
    const message = e.message ?? 'bad request';
    return {
      type: problemType('bad-request'),
      title: 'Bad request',
      status: e.status,
      detail: message,
      errors: [{ field: '(body)', rule: (e.type ?? 'bad_request').replaceAll('.', '_'), message }],
    };
  }
  return {
    type: problemType('internal'),
    title: 'Internal server error',
    status: 500,
    detail: 'the server failed to handle this request; it has been logged',
  };
}
