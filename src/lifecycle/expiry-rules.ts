import { formatDuration, parseDuration } from '../domain/duration.js';
import { InputError, PolicyError, type FieldIssue } from '../errors.js';

/** What a request says about expiry: a time, a life from now, or (expiresAt null) no expiry. */
export interface ExpiryRequest {
  expiresAt?: string | null;
  ttl?: string;
}

/** Longest life per team (`*` for every other team), in ms. @see Config.CLUSTER_MAX_TTL */
export type TeamTtlCaps = Record<string, number>;

/**
 * The expiry a request asks for, checked against the team's cap: an ISO time, null for none, or
 * undefined for "no change" (on create, a capped team's cluster then expires at the cap).
 */
export function resolveExpiry(
  request: ExpiryRequest,
  team: string,
  caps: TeamTtlCaps,
  now: number,
  creating: boolean,
): string | null | undefined {
  // Own keys only: a team may be called `constructor`, which every object inherits.
  const cap = Object.hasOwn(caps, team) ? caps[team] : caps['*'];
  const field = request.ttl !== undefined ? 'ttl' : 'expiresAt';
  let at: number | null | undefined;
  if (request.ttl !== undefined) at = now + parseDuration(request.ttl)!;
  else if (request.expiresAt === null) {
    if (cap !== undefined) refuseByPolicy(field, `cannot be removed: clusters of team "${team}" live at most ${formatDuration(cap)}`);
    at = null;
  } else if (request.expiresAt !== undefined) {
    at = Date.parse(request.expiresAt);
    if (at <= now) refuse(field, 'future', 'must be in the future');
  } else at = creating && cap !== undefined ? now + cap : undefined;
  if (typeof at === 'number' && cap !== undefined && at - now > cap) {
    refuseByPolicy(
      field,
      `is beyond the limit of ${formatDuration(cap)} for clusters of team "${team}" (latest allowed: ${new Date(now + cap).toISOString()})`,
    );
  }
  return typeof at === 'number' ? new Date(at).toISOString() : at;
}

/** A cluster that will expire must be destroyable then: the blueprint's destroy rules must already pass. */
export function checkExpiryDestroyable(expiresAt: string | null | undefined, destroyIssues: FieldIssue[], field: string): void {
  if (!expiresAt || destroyIssues.length === 0) return;
  const why = destroyIssues.map((i) => `${i.field}: ${i.message}`).join('; ');
  refuse(field, 'destroyable', `cannot be set while the cluster could not be destroyed (${why}); change that in the same request`);
}

function refuse(field: string, rule: string, message: string): never {
  throw new InputError(`${field}: ${message}`, [{ field, rule, message }]);
}

/** The team's longest life (its policy's maxTtl, else CLUSTER_MAX_TTL, the default policy) refuses as every policy rule does. */
function refuseByPolicy(field: string, message: string): never {
  throw new PolicyError(`${field}: ${message}`, [{ field, rule: 'policy.maxTtl', message }]);
}
