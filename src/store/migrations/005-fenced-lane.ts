import type { Migration } from '../migrations.js';

// Error codes of runs that ended without the engine finishing cleanly (kept in step with queue/outcome.ts).
const INTERRUPTED = `('engine-killed', 'engine-crashed', 'worker-child-died', 'worker-died')`;
const MUTATING = `('provision', 'update', 'destroy', 'refresh', 'remediate')`;

/**
 * The lane becomes a fenced lease: `lane_epoch` grows with every take-over and every write a holder
 * makes names the epoch it holds, so a holder that lost the lane can no longer change anything.
 * `needs_recovery` records, instead of guessing it from recent history, that a run which may have
 * left a stack lock or pending operations did not end cleanly.
 */
export const fencedLane: Migration = {
  version: 5,
  name: 'fenced-lane',
  statements: [
    `ALTER TABLE clusters ADD COLUMN lane_epoch bigint NOT NULL DEFAULT 0`,
    `ALTER TABLE clusters ADD COLUMN needs_recovery boolean NOT NULL DEFAULT false`,
    // The epoch under which the operation's latest attempt started: a later holder may start it again.
    `ALTER TABLE operations ADD COLUMN lane_epoch bigint`,
    // Clusters that the old rule would have recovered: an unfinished mutating attempt, or a latest finished run that was interrupted.
    `UPDATE clusters c SET needs_recovery = true
     WHERE EXISTS (SELECT 1 FROM operations o WHERE o.cluster_id = c.id AND o.kind IN ${MUTATING} AND o.attempts > 0 AND o.status IN ('queued', 'running'))
        OR coalesce((SELECT o.status = 'cancelled' OR (o.status = 'failed' AND o.error->>'code' IN ${INTERRUPTED})
                     FROM operations o WHERE o.cluster_id = c.id AND o.started_at IS NOT NULL AND o.finished_at IS NOT NULL
                     ORDER BY o.finished_at DESC LIMIT 1), false)`,
  ],
};
