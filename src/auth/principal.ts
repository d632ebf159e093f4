/**
 * What a token may do:
 * - `admin`: everything, for every team (it has no team);
 * - `member`: its team's clusters, rollouts and webhooks, as a team token always could (the default);
 * - `approver`: a member who may also approve the requests of other tokens of its team;
 * - `viewer`: reads its team's records and nothing more; never a secret (a kubeconfig).
 * The rules that read the role are in permissions.ts.
 */
export const ROLES = ['admin', 'member', 'approver', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a token bound to a team, or an admin token (team null). */
export interface Principal {
  tokenId: string;
  name: string;
  /** The team the token acts for; null for an admin token, which acts for every team. */
  team: string | null;
  role: Role;
  /** `role === 'admin'`: most rules ask only this (see every team, admin-only routes). */
  admin: boolean;
}

/** The principal of a stored token; the only way one is made, so that `admin` always agrees with `role`. */
export function principalFor(token: { id: string; name: string; team: string | null; role: Role }): Principal {
  return { tokenId: token.id, name: token.name, team: token.team, role: token.role, admin: token.role === 'admin' };
}

/** How a principal is named in records and answers (`requestedBy`, an approval's `by`): its token's name and team. */
export const describePrincipal = (p: Principal): string => (p.team ? `${p.name} (team ${p.team})` : `${p.name} (admin)`);
