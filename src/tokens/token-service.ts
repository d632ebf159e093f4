import type { Principal } from '../auth/principal.js';
import type { TokenRecord } from '../auth/token-record.js';
import { generateToken, hashToken } from '../auth/tokens.js';
import { assertNever } from '../domain/assert-never.js';
import { formatDuration, parseDuration } from '../domain/duration.js';
import type { Page } from '../domain/page.js';
import { ConflictError, ForbiddenError, InputError, NotFoundError } from '../errors.js';
import type { TokenFilter, TokenStore } from '../store/token-store.js';
import { roleOf, TOKEN_MAX_LIFE_DAYS, type CreateTokenBody } from './requests.js';

export interface TokenServiceDeps {
  store: Pick<TokenStore, 'createToken' | 'getToken' | 'listTokens' | 'revokeToken'>;
  /** The database's clock, ms: expiries are set by the clock that the lookup compares them with. */
  now: () => Promise<number>;
}

const MAX_LIFE_MS = TOKEN_MAX_LIFE_DAYS * 86_400_000;

/** Issues, lists and revokes API tokens; every route of it is an admin's. */
export class TokenService {
  constructor(private readonly deps: TokenServiceDeps) {}

  /** A new token: its record, and its value, which is shown in this answer only and kept only hashed. */
  async issue(principal: Principal, body: CreateTokenBody): Promise<{ token: TokenRecord; value: string }> {
    this.adminOnly(principal, 'issuing a token');
    const expiresAt = resolveTokenExpiry(body, await this.deps.now());
    const value = generateToken();
    const role = roleOf(body);
    const token = await this.deps.store.createToken({ name: body.name, team: body.team ?? null, role, hash: hashToken(value), expiresAt });
    return { token, value };
  }

  list(principal: Principal, filter: TokenFilter): Promise<Page<TokenRecord>> {
    this.adminOnly(principal, 'listing tokens');
    return this.deps.store.listTokens(filter);
  }

  async get(principal: Principal, id: string): Promise<TokenRecord> {
    this.adminOnly(principal, 'reading a token');
    const token = await this.deps.store.getToken(id);
    if (!token) throw new NotFoundError(`no token with id ${id}`);
    return token;
  }

  /** Revokes a token at once: its next request is answered as an unknown token's. */
  async revoke(principal: Principal, id: string): Promise<TokenRecord> {
    this.adminOnly(principal, 'revoking a token');
    const outcome = await this.deps.store.revokeToken(id, principal.tokenId);
    if ('revoked' in outcome) return outcome.revoked;
    switch (outcome.refused) {
      case 'unknown':
        throw new NotFoundError(`no token with id ${id} that is not revoked already`);
      case 'last-admin':
        throw new ConflictError(
          `token ${id} is the last active admin token: revoking it would leave nobody able to issue or revoke tokens; issue another admin token first`,
        );
      default:
        return assertNever(outcome, 'revocation outcome');
    }
  }

  private adminOnly(principal: Principal, what: string): void {
    if (!principal.admin) throw new ForbiddenError(`${what} needs an admin token`);
  }
}

/** The expiry a request asks for (ISO-8601 UTC), or null for none: in the future, at most TOKEN_MAX_LIFE_DAYS ahead. */
export function resolveTokenExpiry(body: { expiresAt?: string; ttl?: string }, now: number): string | null {
  const field = body.ttl !== undefined ? 'ttl' : 'expiresAt';
  const at = body.ttl !== undefined ? now + parseDuration(body.ttl)! : body.expiresAt !== undefined ? Date.parse(body.expiresAt) : null;
  if (at === null) return null;
  if (at <= now) refuse(field, 'future', 'must be in the future');
  if (at - now > MAX_LIFE_MS)
    refuse(
      field,
      'max',
      `must be at most ${formatDuration(MAX_LIFE_MS)} ahead (latest allowed: ${new Date(now + MAX_LIFE_MS).toISOString()})`,
    );
  return new Date(at).toISOString();
}

function refuse(field: string, rule: string, message: string): never {
  throw new InputError(`${field}: ${message}`, [{ field, rule, message }]);
}
