/** Base of every error the domain throws on purpose; the HTTP layer maps subclasses to status codes. */
export class AppError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One rule broken by one field of a request. `field` is a JSON pointer-ish dotted path (`spec.nodePools.0.name`). */
export interface FieldIssue {
  field: string;
  rule: string;
  message: string;
  /** A quota's limit, for a `quota.*` rule. */
  limit?: number;
  /** What the team holds against that limit now (before the request). */
  usage?: number;
}

/** The request is malformed or breaks a rule of the spec. */
export class InputError extends AppError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** No cluster or operation with that id is visible to the caller. */
export class NotFoundError extends AppError {}

/** Another operation holds this cluster, or the name is taken. */
export class ConflictError extends AppError {}

/**
 * The caller no longer holds the cluster's lane: another worker took it over (or the lease lapsed and was
 * taken). Whatever the caller was doing must stop and write nothing more.
 */
export class LaneLostError extends ConflictError {}

/**
 * No valid bearer token. `tokenRejected`: a token was given but is unknown, expired or revoked (RFC 6750
 * `invalid_token`), as opposed to no bearer token at all.
 */
export class UnauthenticatedError extends AppError {
  constructor(
    message: string,
    readonly tokenRejected = false,
  ) {
    super(message);
  }
}

/** The caller is known but may not do this (e.g. a team token on an admin route). */
export class ForbiddenError extends AppError {}

/** The request breaks its team's policy or quota: each issue names the field, the rule and, for a quota, the limit and usage. */
export class PolicyError extends ForbiddenError {
  constructor(
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }
}

/** The path exists, but not with this method; `allowed` lists the methods it has. */
export class MethodNotAllowedError extends AppError {
  constructor(
    message: string,
    readonly allowed: string[],
  ) {
    super(message);
  }
}

/** The same Idempotency-Key was reused with a different request. */
export class IdempotencyMismatchError extends AppError {}

/** The caller used up a limit (requests per window, open streams); it may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** A bounded resource cannot serve this request in time (busy or too slow); try again after `retryAfterSeconds`. */
export class UnavailableError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
