import { randomUUID } from 'node:crypto';
import type { TokenRecord, TokenState } from '../auth/token-record.js';
import type { Page } from '../domain/page.js';
import { ConflictError } from '../errors.js';
import { checkLimit, decodeCursor, encodeCursor, isTimeCursor, MAX_PAGE_SIZE, one, page, uuidOrNil } from './sql-helpers.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import type { NewToken, RevokeOutcome, TokenFilter, TokenStore } from './token-store.js';

interface TokenRow {
  id: string;
  name: string;
  team: string | null;
  role: TokenRecord['role'];
  state: TokenState;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

// Active, expired or revoked by the database's clock, in the statement that reads the row: no
// process's own clock decides whether a token still works.
const ACTIVE = `revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;
const STATE = `CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN ${ACTIVE} THEN 'active' ELSE 'expired' END`;
const COLUMNS = `id, name, team, role, ${STATE} AS state, created_at, expires_at, revoked_at, revoked_by`;

const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  team: r.team,
  role: r.role,
  state: r.state,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});

/** {@link TokenStore} over PostgreSQL or PGlite. */
export class SqlTokenStore implements TokenStore {
  constructor(private readonly db: SqlClient) {}

  async createToken(token: NewToken): Promise<TokenRecord> {
    try {
      const { rows } = await this.db.query<TokenRow>(
        `INSERT INTO api_tokens (id, name, team, role, hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [randomUUID(), token.name, token.team, token.role, token.hash, token.expiresAt],
      );
      return toToken(one(rows[0]));
    } catch (err) {
      if (hasSqlState(err, UNIQUE_VIOLATION)) throw new ConflictError('a token with that hash already exists', { cause: err });
      throw err;
    }
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    // Unknown, expired and revoked are one answer here, so that no caller can tell them apart.
    const { rows } = await this.db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE hash = $1 AND ${ACTIVE}`, [hash]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [uuidOrNil(id)]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async listTokens(filter: TokenFilter): Promise<Page<TokenRecord>> {
    const limit = checkLimit(filter.limit, MAX_PAGE_SIZE);
    const params: unknown[] = [];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const where: string[] = [];
    if (filter.team !== undefined) where.push(`team = ${p(filter.team)}`);
    if (filter.state !== undefined) where.push(`${STATE} = ${p(filter.state)}`);
    if (filter.cursor !== undefined) {
      const after = decodeCursor(filter.cursor, isTimeCursor);
      where.push(`(created_at, id) < (${p(after.at)}::timestamptz, ${p(after.id)}::uuid)`);
    }
    const { rows } = await this.db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    return page(rows.map(toToken), limit, (t) => encodeCursor({ at: t.createdAt, id: t.id }));
  }

  async revokeToken(id: string, revokedByTokenId: string): Promise<RevokeOutcome> {
    return this.db.transaction(async (tx) => {
      // The active admin tokens are locked first, by every revocation, in one order: two revocations
      // of the last two admin tokens queue here, and the second then sees the first's commit (a row
      // locked by another transaction is read again, and one revoked meanwhile no longer matches).
      // Taking them in the same order every time also keeps two revocations from deadlocking.
      const { rows: admins } = await tx.query<{ id: string }>(
        `SELECT id FROM api_tokens WHERE role = 'admin' AND ${ACTIVE} ORDER BY id FOR UPDATE`,
      );
      const { rows } = await tx.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1 FOR UPDATE`, [uuidOrNil(id)]);
      const token = rows[0];
      if (!token || token.state === 'revoked') return { refused: 'unknown' };
      if (admins.some((a) => a.id === token.id) && admins.length === 1) return { refused: 'last-admin' };
      const { rows: revoked } = await tx.query<TokenRow>(
        `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
        [token.id, revokedByTokenId],
      );
      return { revoked: toToken(one(revoked[0])) };
    });
  }

  async countTokens(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens');
    return one(rows[0]).n;
  }

  async countActiveAdminTokens(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_tokens WHERE role = 'admin' AND ${ACTIVE}`);
    return one(rows[0]).n;
  }
}
