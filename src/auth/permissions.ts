/**
 * What each role may do, in one place: the HTTP layer and the services ask these, never the role
 * itself, so that a new role or rule changes this file only. Each check has a boolean form for
 * callers that choose, and an `assert` form that throws a ForbiddenError saying why.
 */
import { ForbiddenError } from '../errors.js';
import type { Principal } from './principal.js';

/** Something a token asked for that waits for another's approval: an operation, or a rollout's stage. */
export interface ApprovalRequest {
  /** The team the request belongs to; null for one of no single team (an admin's fleet-wide rollout). */
  team: string | null;
  /** The token that made the request: it never approves it. Null when the service made it (an expiry, a remediation). */
  requestedByTokenId: string | null;
}

/** False for a viewer: it changes nothing, whatever the route. */
export const mayChange = (p: Principal): boolean => p.role !== 'viewer';

/** False for a viewer: dashboards and catalogs get no credential to the clusters they list. */
export const mayReadSecrets = (p: Principal): boolean => p.role !== 'viewer';

export function assertMayChange(p: Principal): void {
  if (!mayChange(p)) throw new ForbiddenError('this token is read-only (role viewer): it may only read (GET, HEAD, OPTIONS)');
}

export function assertMayReadSecrets(p: Principal): void {
  if (!mayReadSecrets(p)) throw new ForbiddenError('a viewer token never reads a secret such as a kubeconfig');
}

/**
 * Why `p` may not approve `request`, or null when it may: an admin, or an approver of the request's
 * team; and never the token that made the request, an admin's included (four eyes, always).
 */
export function approvalRefusal(p: Principal, request: ApprovalRequest): string | null {
  const whoMay = request.team === null ? 'an admin token' : `an admin token or an approver token of team "${request.team}"`;
  if (p.tokenId === request.requestedByTokenId)
    return `nobody approves their own request: this token made it; another token must approve it (${whoMay})`;
  if (p.role === 'admin') return null;
  if (p.role !== 'approver') return `a ${p.role} token cannot approve; that takes ${whoMay}`;
  if (request.team === null || p.team !== request.team) return `an approver approves only requests of its own team; this takes ${whoMay}`;
  return null;
}

export const mayApprove = (p: Principal, request: ApprovalRequest): boolean => approvalRefusal(p, request) === null;

export function assertMayApprove(p: Principal, request: ApprovalRequest): void {
  const why = approvalRefusal(p, request);
  if (why !== null) throw new ForbiddenError(why);
}
