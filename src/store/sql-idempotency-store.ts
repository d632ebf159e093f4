import type { IdempotencyClaim, IdempotencyStore } from './idempotency-store.js';
import type { IdempotencyRow } from './rows.js';
import { json } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** {@link IdempotencyStore} over PostgreSQL or PGlite; staleness and expiry go by the database clock. */
export class SqlIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: SqlClient) {}

  async claimIdempotencyKey(
    principalId: string,
    key: string,
    fingerprint: string,
    staleMs: number,
    ttlMs: number | null = null,
  ): Promise<IdempotencyClaim> {
    // A row released between our INSERT and SELECT sends us round again; twice is plenty.
    for (let attempt = 0; attempt < 3; attempt++) {
      // An expired key is claimed afresh in the same statement, so that whether it answers does
      // not depend on when the retention pass last ran; the row lock lets one claimer win.
      const { rows: inserted } = await this.db.query(
        `INSERT INTO idempotency_keys (principal_id, key, fingerprint, status) VALUES ($1, $2, $3, 'in-flight')
         ON CONFLICT (principal_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status = 'in-flight',
           status_code = NULL, body = NULL, headers = NULL, created_at = now(), updated_at = now()
         WHERE $4::double precision IS NOT NULL AND idempotency_keys.updated_at < now() - $4::double precision * interval '1 millisecond'
         RETURNING key`,
        [principalId, key, fingerprint, ttlMs],
      );
      if (inserted.length > 0) return { state: 'claimed' };
      // Row-locking UPDATE: of two requests taking over one stale claim, only the first matches.
      const { rows: takenOver } = await this.db.query(
        `UPDATE idempotency_keys SET updated_at = now()
         WHERE principal_id = $1 AND key = $2 AND fingerprint = $3 AND status = 'in-flight'
           AND updated_at < now() - $4::double precision * interval '1 millisecond'
         RETURNING key`,
        [principalId, key, fingerprint, staleMs],
      );
      if (takenOver.length > 0) return { state: 'claimed' };
      const { rows } = await this.db.query<IdempotencyRow>(
        'SELECT fingerprint, status, status_code, body, headers FROM idempotency_keys WHERE principal_id = $1 AND key = $2',
        [principalId, key],
      );
      const row = rows[0];
      if (!row) continue;
      if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
      if (row.status === 'done') return { state: 'replay', statusCode: row.status_code ?? 200, body: row.body, headers: row.headers ?? {} };
      return { state: 'in-flight' };
    }
    return { state: 'in-flight' };
  }

  async completeIdempotencyKey(
    principalId: string,
    key: string,
    response: { statusCode: number; body: unknown; headers: Record<string, string> },
  ): Promise<void> {
    await this.db.query(
      `UPDATE idempotency_keys SET status = 'done', status_code = $3, body = $4::jsonb, headers = $5::jsonb, updated_at = now()
       WHERE principal_id = $1 AND key = $2`,
      [principalId, key, response.statusCode, json(response.body), json(response.headers)],
    );
  }

  async releaseIdempotencyKey(principalId: string, key: string): Promise<void> {
    // Never forget a completed response: only an unfinished claim is released.
    await this.db.query(`DELETE FROM idempotency_keys WHERE principal_id = $1 AND key = $2 AND status = 'in-flight'`, [principalId, key]);
  }
}
