import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.js';
import { type TokenRow, toToken } from './rows.js';
import { one } from './sql-helpers.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import type { StoredToken, TokenStore } from './token-store.js';

/** {@link TokenStore} over PostgreSQL or PGlite. */
export class SqlTokenStore implements TokenStore {
  constructor(private readonly db: SqlClient) {}

  /** As the interface says; throws ConflictError if a token with that hash exists. */
  async createToken(token: { name: string; team: string | null; admin: boolean; hash: string }): Promise<StoredToken> {
    try {
      const { rows } = await this.db.query<TokenRow>(
        'INSERT INTO api_tokens (id, name, team, admin, hash) VALUES ($1, $2, $3, $4, $5) RETURNING id, name, team, admin',
        [randomUUID(), token.name, token.team, token.admin, token.hash],
      );
      return toToken(one(rows[0]));
    } catch (err) {
      if (hasSqlState(err, UNIQUE_VIOLATION)) throw new ConflictError('a token with that hash already exists', { cause: err });
      throw err;
    }
  }

  async findTokenByHash(hash: string): Promise<StoredToken | null> {
    const { rows } = await this.db.query<TokenRow>('SELECT id, name, team, admin FROM api_tokens WHERE hash = $1', [hash]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async countTokens(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens');
    return one(rows[0]).n;
  }
}
