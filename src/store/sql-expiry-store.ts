import type { ExpireOutcome, ExpiryCursor, ExpiryDue, ExpiryPage, ExpiryStore } from './expiry-store.js';
import { type ClusterRow, toCluster } from './rows.js';
import { checkLimit, uuidOrNil } from './sql-helpers.js';
import { insertOperation } from './sql-statements.js';
import type { SqlClient } from './sql.js';

/**
 * The cluster's expiry is still the one a caller read (`$2`): records carry times to the millisecond,
 * the column may hold microseconds.
 */
const SAME_EXPIRY = `date_trunc('milliseconds', expires_at) = $2::timestamptz`;

/** {@link ExpiryStore} over PostgreSQL or PGlite. */
export class SqlExpiryStore implements ExpiryStore {
  constructor(private readonly db: SqlClient) {}

  async expiryDue(warningsMs: readonly number[], limit: number, after?: ExpiryCursor): Promise<ExpiryPage> {
    const size = checkLimit(limit, 10_000);
    // Every comparison with the present is made here, by the database's clock. The first three
    // conditions are the predicate of the index clusters_expiry_open: settled expiries are not read.
    const { rows } = await this.db.query<ClusterRow & { expiry_key: string; expired: boolean; ms_left: number; threshold: number | null }>(
      `SELECT c.*, c.expires_at::text AS expiry_key, d.expired, d.ms_left, d.threshold
       FROM clusters c
       CROSS JOIN LATERAL (SELECT
         c.expires_at <= now() AS expired,
         floor(extract(epoch FROM c.expires_at - now()) * 1000)::bigint AS ms_left,
         (SELECT min(t) FROM unnest($1::bigint[]) AS t WHERE c.expires_at <= now() + t * interval '1 millisecond') AS threshold
       ) d
       WHERE c.expires_at IS NOT NULL AND c.destroyed_at IS NULL
         AND (c.expiry_settled_at, c.expiry_settled_generation) IS DISTINCT FROM (c.expires_at, c.generation)
         AND c.expires_at <= now() + $2::double precision * interval '1 millisecond'
         AND ($3::timestamptz IS NULL OR (c.expires_at, c.id) > ($3::timestamptz, $4::uuid))
         AND CASE WHEN d.expired
           THEN NOT EXISTS (SELECT 1 FROM operations o WHERE o.cluster_id = c.id AND o.kind = 'destroy' AND o.status IN ('queued', 'running', 'awaiting-approval'))
           ELSE d.threshold IS NOT NULL AND NOT c.expiry_notices @> to_jsonb(d.threshold)
         END
       ORDER BY c.expires_at, c.id LIMIT $5`,
      [[...warningsMs], Math.max(0, ...warningsMs), after?.expiresAt ?? null, after ? uuidOrNil(after.id) : null, size],
    );
    const items = rows.map((r): ExpiryDue =>
      r.expired
        ? { kind: 'expire', cluster: toCluster(r) }
        : { kind: 'warn', cluster: toCluster(r), thresholdMs: Number(r.threshold), msLeft: Number(r.ms_left) },
    );
    const last = rows.at(-1);
    return { items, next: rows.length === size && last ? { expiresAt: last.expiry_key, id: last.id } : null };
  }

  async claimExpiryNotice(clusterId: string, expiresAt: string, thresholdMs: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE clusters SET expiry_notices = expiry_notices || to_jsonb($3::bigint)
       WHERE id = $1 AND destroyed_at IS NULL AND ${SAME_EXPIRY} AND expires_at > now() AND NOT expiry_notices @> to_jsonb($3::bigint)
       RETURNING id`,
      [uuidOrNil(clusterId), expiresAt, thresholdMs],
    );
    return rows.length > 0;
  }

  expireCluster(clusterId: string, requestedBy: string): Promise<ExpireOutcome> {
    return this.db.transaction(async (tx): Promise<ExpireOutcome> => {
      const { rows } = await tx.query<ClusterRow>(
        `SELECT * FROM clusters WHERE id = $1 AND destroyed_at IS NULL AND expires_at <= now()
           AND (expiry_settled_at, expiry_settled_generation) IS DISTINCT FROM (expires_at, generation)
         FOR UPDATE`,
        [uuidOrNil(clusterId)],
      );
      if (!rows[0]) return { outcome: 'not-due' };
      // A destroy pending is left to finish; one tried since the expiry (a failed one is for a person
      // to look at, not to repeat) settles it.
      const { rows: destroys } = await tx.query<{ pending: boolean }>(
        `SELECT status IN ('queued', 'running', 'awaiting-approval') AS pending FROM operations
         WHERE cluster_id = $1 AND kind = 'destroy' AND (status IN ('queued', 'running', 'awaiting-approval') OR queued_at >= $2::timestamptz)`,
        [clusterId, rows[0].expires_at],
      );
      if (destroys.some((d) => d.pending)) return { outcome: 'not-due' };
      const settle = 'expiry_settled_at = expires_at, expiry_settled_generation = generation';
      if (destroys.length > 0) {
        await tx.query(`UPDATE clusters SET ${settle} WHERE id = $1`, [clusterId]);
        return { outcome: 'already-tried' };
      }
      // Like all work the service starts on its own, it waits for the cluster's maintenance window.
      const operation = await insertOperation(tx, toCluster(rows[0]), { kind: 'destroy', requestedBy, respectMaintenance: true });
      await tx.query(`UPDATE clusters SET status = 'destroying', updated_at = now(), ${settle} WHERE id = $1`, [clusterId]);
      return { outcome: 'queued', operation };
    });
  }

  async settleRefusedExpiry(clusterId: string, expiresAt: string, generation: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE clusters SET expiry_settled_at = expires_at, expiry_settled_generation = generation
       WHERE id = $1 AND destroyed_at IS NULL AND ${SAME_EXPIRY} AND generation = $3 AND expires_at <= now()
         AND (expiry_settled_at, expiry_settled_generation) IS DISTINCT FROM (expires_at, generation)
       RETURNING id`,
      [uuidOrNil(clusterId), expiresAt, generation],
    );
    return rows.length > 0;
  }
}
