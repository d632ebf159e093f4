import type { SqlClient } from './sql.js';

/**
 * What one retention step removes, in the order a pass runs them: attempts before their
 * deliveries, drift reports before the sweeps they belong to, the operations' links to a sweep
 * before the sweep.
 */
export const RETENTION_STEPS = [
  'operation-events',
  'operation-specs',
  'idempotency-keys',
  'webhook-attempts',
  'webhook-deliveries',
  'drift-reports',
  'drift-sweep-links',
  'drift-sweeps',
  'kubeconfig-reads',
] as const;
export type RetentionStep = (typeof RETENTION_STEPS)[number];

/** Removes records past their retention, one small batch per call. */
export interface RetentionStore {
  /**
   * Removes (or, for `operation-specs` and `drift-sweep-links`, clears) at most `limit` rows of
   * the step that became old more than `olderThanMs` ago by the database clock, in one statement.
   * Rows another process is removing at the same moment are skipped, not waited for.
   * @returns how many rows it removed or cleared; fewer than `limit` means none is left for now
   */
  pruneBatch(step: RetentionStep, olderThanMs: number, limit: number): Promise<number>;
}

// Every statement takes $1 = the cutoff as milliseconds before now(), $2 = the batch size. Each one
// picks its batch through an index with FOR UPDATE SKIP LOCKED, so processes running passes at once
// take different rows instead of queueing on (or deadlocking over) the same ones, then removes the
// batch by physical row address (ctid = ANY(ARRAY(...)): a TID scan). With `id IN (...)` instead,
// the planner may hash the batch and scan the whole table for every batch.
const CUTOFF = `now() - $1::double precision * interval '1 millisecond'`;

/** A sweep whose records may go: finished before the cutoff, and no drift report files under it any more. */
const SWEEP_PAST_RETENTION = `s.status <> 'running' AND s.finished_at < ${CUTOFF}
  AND NOT EXISTS (SELECT 1 FROM drift_reports r WHERE r.sweep_id = s.id)`;

function statement(step: RetentionStep): string {
  switch (step) {
    case 'operation-events':
      // Events of a running operation stay, however old: they are its live stream.
      return `DELETE FROM operation_events WHERE ctid = ANY(ARRAY(
        SELECT e.ctid FROM operation_events e JOIN operations o ON o.id = e.operation_id
        WHERE e.at < ${CUTOFF} AND o.finished_at < ${CUTOFF}
        ORDER BY e.at LIMIT $2 FOR UPDATE OF e SKIP LOCKED))`;
    case 'operation-specs':
      return `UPDATE operations SET spec = NULL WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM operations WHERE spec IS NOT NULL AND finished_at IS NOT NULL AND finished_at < ${CUTOFF}
        ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    case 'idempotency-keys':
      // The same age after which a claim treats the key as free, so an answer never outlives its key.
      return `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM idempotency_keys WHERE updated_at < ${CUTOFF}
        ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    case 'webhook-attempts':
      // Before their deliveries, so that no delivery's delete cascades to more rows than the batch.
      return `DELETE FROM webhook_delivery_attempts WHERE ctid = ANY(ARRAY(
        SELECT a.ctid FROM webhook_deliveries d JOIN webhook_delivery_attempts a ON a.delivery_id = d.id
        WHERE d.status <> 'pending' AND d.finished_at < ${CUTOFF}
        ORDER BY d.finished_at LIMIT $2 FOR UPDATE OF a SKIP LOCKED))`;
    case 'webhook-deliveries':
      return `DELETE FROM webhook_deliveries WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < ${CUTOFF}
        ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    case 'drift-reports':
      // A live cluster's latest report (the fleet summary's answer for it) stays however old it is;
      // "latest" in the summary's own order, so that no two reports can each think the other newer.
      // No join: the old reports are read in index order and the batch stops at its limit.
      return `DELETE FROM drift_reports WHERE ctid = ANY(ARRAY(
        SELECT r.ctid FROM drift_reports r
        WHERE r.checked_at < ${CUTOFF}
          AND (EXISTS (SELECT 1 FROM drift_reports n WHERE n.cluster_id = r.cluster_id AND (n.checked_at, n.id) > (r.checked_at, r.id))
            OR NOT EXISTS (SELECT 1 FROM clusters c WHERE c.id = r.cluster_id AND c.destroyed_at IS NULL))
        ORDER BY r.checked_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    case 'drift-sweep-links':
      // Operations are kept; the sweep that queued a finished one is forgotten with the sweep.
      return `UPDATE operations SET sweep_id = NULL WHERE ctid = ANY(ARRAY(
        SELECT o.ctid FROM operations o JOIN drift_sweeps s ON s.id = o.sweep_id
        WHERE o.finished_at IS NOT NULL AND ${SWEEP_PAST_RETENTION}
        LIMIT $2 FOR UPDATE OF o SKIP LOCKED))`;
    case 'drift-sweeps':
      return `DELETE FROM drift_sweeps WHERE ctid = ANY(ARRAY(
        SELECT s.ctid FROM drift_sweeps s
        WHERE ${SWEEP_PAST_RETENTION} AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.sweep_id = s.id)
        ORDER BY s.finished_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    case 'kubeconfig-reads':
      return `DELETE FROM kubeconfig_reads WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM kubeconfig_reads WHERE read_at < ${CUTOFF}
        ORDER BY read_at LIMIT $2 FOR UPDATE SKIP LOCKED))`;
    default: {
      const unknown: never = step;
      throw new Error(`unknown retention step ${String(unknown)}`);
    }
  }
}

/** {@link RetentionStore} over the records' database (PostgreSQL or PGlite). */
export class SqlRetentionStore implements RetentionStore {
  constructor(private readonly db: SqlClient) {}

  async pruneBatch(step: RetentionStep, olderThanMs: number, limit: number): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new RangeError('olderThanMs must be a duration of 0 or more');
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be an integer of at least 1');
    const { rows } = await this.db.query(`${statement(step)} RETURNING 1`, [olderThanMs, limit]);
    return rows.length;
  }
}
