import { randomUUID } from 'node:crypto';
import type { ClusterRecord, ClusterStatus } from '../domain/cluster.js';
import type { OperationEvent, OperationKind, OperationRecord } from '../domain/operation.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { migrate } from './migrations.js';
import type {
  ClusterFilter,
  ClusterSettings,
  IdempotencyClaim,
  NewCluster,
  NewOperation,
  OperationOutcome,
  Page,
  RecordStore,
  StoredToken,
} from './record-store.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import { requireOperation } from './sql-statements.js';
import { addToOutbox } from './outbox-store.js';
import type { ExpireOutcome, ExpiryCursor, ExpiryDue, ExpiryPage } from './expiry-store.js';
import { type ClusterRow, type EventRow, type IdempotencyRow, type OperationRow, SELECT_OPERATION, type TokenRow, returningOperation, toCluster, toOperation, toToken } from './rows.js';
import { checkLimit, decodeCursor, encodeCursor, isClusterCursor, isOperationCursor, isUuid, json, one, page, uuidOrNil } from './sql-helpers.js';

/**
 * The cluster's expiry is still the one a caller read (`$2`): records carry times to the millisecond,
 * the column may hold microseconds.
 */
const SAME_EXPIRY = `date_trunc('milliseconds', expires_at) = $2::timestamptz`;

/** Largest page of clusters or operations one call returns. */
export const MAX_PAGE_SIZE = 200;
/** Largest batch of events one `listEvents` call returns (stream replays read in big batches). */
export const MAX_EVENT_BATCH = 1000;

/**
 * {@link RecordStore} over PostgreSQL or PGlite. Every method is one statement or one transaction;
 * times that matter across processes (leases, staleness) come from the database clock.
 */
export class SqlRecordStore implements RecordStore {
  constructor(private readonly db: SqlClient) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  // --- clusters ---

  createCluster(cluster: NewCluster, op: NewOperation): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
    return this.db.transaction(async (tx) => {
      let row: ClusterRow | undefined;
      try {
        ({ rows: [row] } = await tx.query<ClusterRow>(
          `INSERT INTO clusters (id, name, team, blueprint, labels, spec, generation, status, drift_policy, expires_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, 1, 'provisioning', $7, $8::timestamptz) RETURNING *`,
          [randomUUID(), cluster.name, cluster.team, cluster.blueprint, json(cluster.labels), json(cluster.spec), cluster.driftPolicy ?? 'notify', cluster.expiresAt ?? null],
        ));
      } catch (err) {
        // Only the live-name index can clash: ids are fresh UUIDs.
        if (hasSqlState(err, UNIQUE_VIOLATION)) throw new ConflictError(`a cluster named "${cluster.name}" already exists`, { cause: err });
        throw err;
      }
      const created = toCluster(one(row));
      const operation = await insertOperation(tx, created, op);
      return { cluster: created, operation };
    });
  }

  async getCluster(name: string): Promise<ClusterRecord | null> {
    // NULLS FIRST puts the live cluster (if any) ahead of the destroyed ones, newest first.
    const { rows } = await this.db.query<ClusterRow>(
      'SELECT * FROM clusters WHERE name = $1 ORDER BY destroyed_at DESC NULLS FIRST LIMIT 1',
      [name],
    );
    return rows[0] ? toCluster(rows[0]) : null;
  }

  async getClusterById(id: string): Promise<ClusterRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<ClusterRow>('SELECT * FROM clusters WHERE id = $1', [id]);
    return rows[0] ? toCluster(rows[0]) : null;
  }

  async listClusters(filter: ClusterFilter): Promise<Page<ClusterRecord>> {
    const limit = checkLimit(filter.limit, MAX_PAGE_SIZE);
    const params: unknown[] = [];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const where: string[] = [];
    if (filter.team !== undefined) where.push(`team = ${p(filter.team)}`);
    if (filter.blueprint !== undefined) where.push(`blueprint = ${p(filter.blueprint)}`);
    if (filter.status !== undefined) where.push(`status = ${p(filter.status)}`);
    if (filter.labels && Object.keys(filter.labels).length > 0) where.push(`labels @> ${p(json(filter.labels))}::jsonb`);
    if (!(filter.includeDestroyed ?? filter.status === 'destroyed')) where.push('destroyed_at IS NULL');
    if (filter.cursor !== undefined) {
      const after = decodeCursor(filter.cursor, isClusterCursor);
      where.push(`(name, id) > (${p(after.name)}, ${p(after.id)}::uuid)`);
    }
    const { rows } = await this.db.query<ClusterRow>(
      `SELECT * FROM clusters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id LIMIT ${p(limit + 1)}`,
      params,
    );
    return page(rows.map(toCluster), limit, (c) => encodeCursor({ name: c.name, id: c.id }));
  }

  updateDesiredSpec(
    clusterId: string,
    spec: Record<string, unknown>,
    labels: Record<string, string> | undefined,
    op: NewOperation,
    settings: ClusterSettings = {},
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
    return this.db.transaction(async (tx) => {
      await lockLiveCluster(tx, clusterId);
      await applySettings(tx, clusterId, settings);
      const { rows } = await tx.query<ClusterRow>(
        `UPDATE clusters SET spec = $2::jsonb, generation = generation + 1, labels = coalesce($3::jsonb, labels), updated_at = now()
         WHERE id = $1 RETURNING *`,
        [clusterId, json(spec), labels === undefined ? null : json(labels)],
      );
      const cluster = toCluster(one(rows[0]));
      // The interface promises an `update` whatever kind the caller passes.
      const operation = await insertOperation(tx, cluster, { ...op, kind: 'update' });
      return { cluster, operation };
    });
  }

  /** As the interface says; throws NotFoundError for an unknown cluster and ConflictError for a destroyed one. */
  updateClusterSettings(clusterId: string, settings: ClusterSettings): Promise<ClusterRecord> {
    return this.db.transaction(async (tx) => {
      await lockLiveCluster(tx, clusterId);
      return applySettings(tx, clusterId, settings);
    });
  }

  enqueueOperation(clusterId: string, op: NewOperation): Promise<OperationRecord> {
    return this.db.transaction(async (tx) => {
      const cluster = await lockLiveCluster(tx, clusterId);
      const operation = await insertOperation(tx, cluster, op);
      if (op.kind === 'destroy') {
        await tx.query(`UPDATE clusters SET status = 'destroying', updated_at = now() WHERE id = $1`, [clusterId]);
      }
      return operation;
    });
  }

  // --- operations ---

  async getOperation(id: string): Promise<OperationRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<OperationRow>(`${SELECT_OPERATION} WHERE o.id = $1`, [id]);
    return rows[0] ? toOperation(rows[0]) : null;
  }

  async listOperations(clusterId: string, limit: number, cursor?: string): Promise<Page<OperationRecord>> {
    const size = checkLimit(limit, MAX_PAGE_SIZE);
    if (!isUuid(clusterId)) return { items: [], nextCursor: null };
    const before = cursor === undefined ? null : decodeCursor(cursor, isOperationCursor).seq;
    const { rows } = await this.db.query<OperationRow>(
      `${SELECT_OPERATION} WHERE o.cluster_id = $1 AND ($2::bigint IS NULL OR o.seq < $2::bigint) ORDER BY o.seq DESC LIMIT $3`,
      [clusterId, before, size + 1],
    );
    return page(rows.map(toOperation), size, (o) => encodeCursor({ seq: o.seq }));
  }

  async pendingOperations(clusterId: string): Promise<OperationRecord[]> {
    if (!isUuid(clusterId)) return [];
    const { rows } = await this.db.query<OperationRow>(
      `${SELECT_OPERATION} WHERE o.cluster_id = $1 AND o.status IN ('queued', 'running') ORDER BY o.seq`,
      [clusterId],
    );
    return rows.map(toOperation);
  }

  /** As the interface says; also throws NotFoundError for an unknown id. A cancelled queued operation also gets cancelRequested. */
  /** As the interface says; a queued operation cancelled here gets its `operation.finished` outbox entry in the same transaction. */
  requestCancel(id: string): Promise<OperationRecord | null> {
    return this.db.transaction(async (tx) => {
      // One statement: a worker starting the operation at the same moment either sees `cancelled`
      // (and must not run it) or has already made it `running` (and will see cancel_requested).
      const { rows } = await tx.query<OperationRow>(
        returningOperation(`UPDATE operations SET
           status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
           finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
           cancel_requested = true
         WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`),
        [uuidOrNil(id)],
      );
      if (!rows[0]) {
        await requireOperation(tx, id);
        return null;
      }
      if (rows[0].status === 'cancelled') await addToOutbox(tx, 'operation.finished', rows[0].id);
      return toOperation(rows[0]);
    });
  }

  async clustersNeedingWork(): Promise<string[]> {
    const { rows } = await this.db.query<{ cluster_id: string }>(
      `SELECT DISTINCT o.cluster_id FROM operations o JOIN clusters c ON c.id = o.cluster_id
       WHERE o.status = 'queued'
          OR (o.status = 'running' AND (c.lane_owner IS NULL OR c.lane_expires_at < now()))
       ORDER BY o.cluster_id`,
    );
    return rows.map((r) => r.cluster_id);
  }

  // --- expiry (see ExpiryStore) ---

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
           THEN NOT EXISTS (SELECT 1 FROM operations o WHERE o.cluster_id = c.id AND o.kind = 'destroy' AND o.status IN ('queued', 'running'))
           ELSE d.threshold IS NOT NULL AND NOT c.expiry_notices @> to_jsonb(d.threshold)
         END
       ORDER BY c.expires_at, c.id LIMIT $5`,
      [[...warningsMs], Math.max(0, ...warningsMs), after?.expiresAt ?? null, after ? uuidOrNil(after.id) : null, size],
    );
    const items = rows.map((r): ExpiryDue => (r.expired ? { kind: 'expire', cluster: toCluster(r) } : { kind: 'warn', cluster: toCluster(r), thresholdMs: Number(r.threshold), msLeft: Number(r.ms_left) }));
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
        `SELECT status IN ('queued', 'running') AS pending FROM operations
         WHERE cluster_id = $1 AND kind = 'destroy' AND (status IN ('queued', 'running') OR queued_at >= $2::timestamptz)`,
        [clusterId, rows[0].expires_at],
      );
      if (destroys.some((d) => d.pending)) return { outcome: 'not-due' };
      const settle = 'expiry_settled_at = expires_at, expiry_settled_generation = generation';
      if (destroys.length > 0) {
        await tx.query(`UPDATE clusters SET ${settle} WHERE id = $1`, [clusterId]);
        return { outcome: 'already-tried' };
      }
      const operation = await insertOperation(tx, toCluster(rows[0]), { kind: 'destroy', requestedBy });
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

  // --- kubeconfig reads ---

  async recordKubeconfigRead(clusterId: string, readBy: string): Promise<void> {
    await this.db.query('INSERT INTO kubeconfig_reads (id, cluster_id, read_by) VALUES ($1, $2, $3)', [randomUUID(), clusterId, readBy]);
  }

  async listKubeconfigReads(clusterId: string, limit: number): Promise<Array<{ readBy: string; readAt: string }>> {
    const { rows } = await this.db.query<{ read_by: string; read_at: string }>(
      'SELECT read_by, read_at FROM kubeconfig_reads WHERE cluster_id = $1 ORDER BY read_at DESC, id DESC LIMIT $2',
      [uuidOrNil(clusterId), checkLimit(limit, MAX_PAGE_SIZE)],
    );
    return rows.map((r) => ({ readBy: r.read_by, readAt: r.read_at }));
  }

  // --- events ---

  async listEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]> {
    const size = checkLimit(limit, MAX_EVENT_BATCH);
    if (!isUuid(operationId)) return [];
    const { rows } = await this.db.query<EventRow>(
      'SELECT * FROM operation_events WHERE operation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [operationId, afterSeq, size],
    );
    return rows.map((r) => ({ operationId: r.operation_id, seq: r.seq, at: r.at, type: r.type, data: r.data }));
  }

  // --- tokens ---

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

  // --- idempotency ---

  async claimIdempotencyKey(principalId: string, key: string, fingerprint: string, staleMs: number, ttlMs: number | null = null): Promise<IdempotencyClaim> {
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
    await this.db.query(`DELETE FROM idempotency_keys WHERE principal_id = $1 AND key = $2 AND status = 'in-flight'`, [
      principalId,
      key,
    ]);
  }

}

// --- statements shared by several methods ---

async function insertOperation(tx: SqlClient, cluster: Pick<ClusterRecord, 'id' | 'spec' | 'generation'>, op: NewOperation): Promise<OperationRecord> {
  const { rows } = await tx.query<OperationRow>(
    returningOperation(`INSERT INTO operations (id, cluster_id, kind, status, spec, generation, requested_by, sweep_id)
       VALUES ($1, $2, $3, 'queued', $4::jsonb, $5, $6, $7) RETURNING *`),
    [randomUUID(), cluster.id, op.kind, json(cluster.spec), cluster.generation, op.requestedBy, op.sweepId ?? null],
  );
  return toOperation(one(rows[0]));
}

async function applySettings(tx: SqlClient, clusterId: string, settings: ClusterSettings): Promise<ClusterRecord> {
  const params: unknown[] = [clusterId];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const sets = ['updated_at = now()'];
  if (settings.driftPolicy !== undefined) sets.push(`drift_policy = ${p(settings.driftPolicy)}`);
  // A new expiry gets its own warnings.
  if (settings.expiresAt !== undefined) sets.push(`expires_at = ${p(settings.expiresAt)}::timestamptz`, `expiry_notices = '[]'`);
  const { rows } = await tx.query<ClusterRow>(`UPDATE clusters SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
  return toCluster(one(rows[0]));
}

/** Locks the cluster row for the rest of the transaction; a destroyed cluster takes no new operations. */
async function lockLiveCluster(tx: SqlClient, clusterId: string): Promise<ClusterRecord> {
  const { rows } = await tx.query<ClusterRow & { destroyed_at: string | null }>('SELECT * FROM clusters WHERE id = $1 FOR UPDATE', [
    uuidOrNil(clusterId),
  ]);
  const row = rows[0];
  if (!row) throw new NotFoundError(`cluster ${clusterId} not found`);
  if (row.destroyed_at !== null) throw new ConflictError(`cluster "${row.name}" is destroyed`);
  return toCluster(row);
}
