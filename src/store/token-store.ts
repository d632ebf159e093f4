import type { Role } from '../auth/principal.js';
import type { TokenRecord, TokenState } from '../auth/token-record.js';
import type { Page } from '../domain/page.js';

/** A token to record: its SHA-256, never its value. */
export interface NewToken {
  name: string;
  /** Null exactly for an admin token (the table checks it). */
  team: string | null;
  role: Role;
  hash: string;
  /** ISO-8601; null: never expires. */
  expiresAt: string | null;
}

/** Which tokens GET /v1/tokens lists, oldest first. */
export interface TokenFilter {
  team?: string;
  state?: TokenState;
  limit: number;
  cursor?: string;
}

/** What a revocation did: the token as revoked, or why nothing was done. */
export type RevokeOutcome =
  | { revoked: TokenRecord }
  /** No token with that id, or it is revoked already. */
  | { refused: 'unknown' }
  /** It is the last active admin token: revoking it would leave nobody able to issue tokens. */
  | { refused: 'last-admin' };

/**
 * API tokens, kept as the SHA-256 of their value. Revoked tokens stay as rows (when and by whom is
 * part of the audit); what is active is decided by the database's clock, in the statement that reads it.
 */
export interface TokenStore {
  /** Throws ConflictError if a token with that hash exists. */
  createToken(token: NewToken): Promise<TokenRecord>;
  /** The active token with this hash; null when it is unknown, expired or revoked, which callers must not tell apart. */
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Any token by id, whatever its state; null when unknown. */
  getToken(id: string): Promise<TokenRecord | null>;
  listTokens(filter: TokenFilter): Promise<Page<TokenRecord>>;
  /**
   * Revokes the token now (it stops authenticating with the commit), recording who did; refuses the
   * last active admin token. Concurrent revocations cannot together revoke every active admin token.
   */
  revokeToken(id: string, revokedByTokenId: string): Promise<RevokeOutcome>;
  countTokens(): Promise<number>;
  /** Active admin tokens (not revoked, not expired by the database's clock). */
  countActiveAdminTokens(): Promise<number>;
}
