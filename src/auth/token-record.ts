import type { Role } from './principal.js';

/**
 * Where a token stands, by the database's clock when it was read: `active` authenticates; `expired`
 * and `revoked` never do again (a revoked token that had also expired reads `revoked`).
 */
export const TOKEN_STATES = ['active', 'expired', 'revoked'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

/** An API token as recorded: never its value, which only its SHA-256 is kept of. */
export interface TokenRecord {
  id: string;
  name: string;
  /** The team it acts for; null for an admin token. */
  team: string | null;
  role: Role;
  state: TokenState;
  createdAt: string;
  /** When it stops working (ISO-8601 UTC); null: never. */
  expiresAt: string | null;
  revokedAt: string | null;
  /** The id of the (admin) token that revoked it. */
  revokedBy: string | null;
}
