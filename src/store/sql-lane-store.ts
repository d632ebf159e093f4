import { randomUUID } from 'node:crypto';
import type { ClusterStatus } from '../domain/cluster.js';
import type { DriftFindings } from '../domain/drift.js';
import type { OperationApproval } from '../domain/approval.js';
import type { MaintenancePolicy, WaitingFor } from '../domain/maintenance.js';
import {
  OPERATION_KIND_EFFECTS,
  type ChangeSummary,
  type OperationEvent,
  type OperationKind,
  type OperationRecord,
} from '../domain/operation.js';
import { ConflictError, LaneLostError, NotFoundError } from '../errors.js';
import type { LaneHold, LaneStore, OperationOutcome, StartedOperation } from './lane-store.js';
import { addToOutbox } from './outbox-store.js';
import { approvalSubject, ISO_NOW, isoIn } from './approval-store.js';
import { checkLease, isUuid, json, one, uuidOrNil } from './sql-helpers.js';
import { clusterUpdate, requireOperation, terminalConflict } from './sql-statements.js';
import type { SqlClient } from './sql.js';

const LEASE = `now() + $2::double precision * interval '1 millisecond'`;

/** {@link LaneStore} over PostgreSQL or PGlite: every fenced write locks the cluster row and checks the hold first. */
export class SqlLaneStore implements LaneStore {
  constructor(private readonly db: SqlClient) {}

  async acquire(clusterId: string, owner: string, leaseMs: number): Promise<LaneHold | null> {
    // Only a free or lapsed lane: even the same owner string never takes a live lease twice.
    const { rows } = await this.db.query<{ lane_epoch: number }>(
      `UPDATE clusters SET lane_owner = $3, lane_expires_at = ${LEASE}, lane_epoch = lane_epoch + 1
       WHERE id = $1 AND (lane_owner IS NULL OR lane_expires_at < now()) RETURNING lane_epoch`,
      [uuidOrNil(clusterId), checkLease(leaseMs), owner],
    );
    return rows[0] ? { clusterId, owner, epoch: rows[0].lane_epoch } : null;
  }

  async renew(hold: LaneHold, leaseMs: number): Promise<boolean> {
    // A hold whose lease lapsed still renews while nobody took the lane: no one else has run meanwhile.
    const { rows } = await this.db.query(
      `UPDATE clusters SET lane_expires_at = ${LEASE} WHERE id = $1 AND lane_owner = $3 AND lane_epoch = $4 RETURNING id`,
      [uuidOrNil(hold.clusterId), checkLease(leaseMs), hold.owner, hold.epoch],
    );
    return rows.length > 0;
  }

  async release(hold: LaneHold): Promise<void> {
    await this.db.query(
      'UPDATE clusters SET lane_owner = NULL, lane_expires_at = NULL WHERE id = $1 AND lane_owner = $2 AND lane_epoch = $3',
      [uuidOrNil(hold.clusterId), hold.owner, hold.epoch],
    );
  }

  async expiresAt(clusterId: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ lane_expires_at: string }>(
      `SELECT lane_expires_at FROM clusters WHERE id = $1 AND lane_owner IS NOT NULL AND lane_expires_at >= now()`,
      [uuidOrNil(clusterId)],
    );
    return rows[0] ? new Date(rows[0].lane_expires_at) : null;
  }

  async leaseLeftMs(clusterId: string): Promise<number | null> {
    const { rows } = await this.db.query<{ ms: number }>(
      `SELECT (extract(epoch FROM lane_expires_at - now()) * 1000)::float8 AS ms FROM clusters
       WHERE id = $1 AND lane_owner IS NOT NULL AND lane_expires_at >= now()`,
      [uuidOrNil(clusterId)],
    );
    return rows[0] ? Math.max(0, Math.ceil(rows[0].ms)) : null;
  }

  startOperation(hold: LaneHold, id: string): Promise<StartedOperation> {
    return this.db.transaction(async (tx) => {
      const { needsRecovery } = await lockHeld(tx, hold, { unexpired: true });
      // An attempt started under an older epoch belongs to a holder that has lost the lane (and so has
      // stopped its engine): it may run again. One started under this epoch is this holder's own.
      const { rows } = await tx.query<{ kind: OperationKind }>(
        `UPDATE operations SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), lane_epoch = $3,
           waiting_for = NULL, waiting_until = NULL
         WHERE id = $1 AND cluster_id = $2 AND (status = 'queued' OR (status = 'running' AND coalesce(lane_epoch, -1) < $3))
         RETURNING kind`,
        [uuidOrNil(id), hold.clusterId, hold.epoch],
      );
      const started = rows[0] ?? (await refuseStart(tx, id, hold));
      const effects = OPERATION_KIND_EFFECTS[started.kind];
      await tx.query(
        `UPDATE clusters SET last_operation_id = $2, updated_at = now(), needs_recovery = needs_recovery OR $4,
           status = coalesce($3::text, status)
         WHERE id = $1`,
        [hold.clusterId, id, effects.statusWhenStarted, effects.mutating],
      );
      return { operation: await requireOperation(tx, id), recover: needsRecovery };
    });
  }

  async markWaiting(
    hold: LaneHold,
    waits: Array<{ id: string; waitingFor: WaitingFor; until: string }>,
    policy: MaintenancePolicy | null,
  ): Promise<void> {
    const valid = waits.filter((w) => isUuid(w.id));
    if (valid.length === 0) return;
    await this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      // A policy change commits its own "look again" (waiting_until = NULL) on these rows: either it
      // committed before this statement (the policy compared differs, nothing is noted) or it waits
      // for this row lock and clears what this notes.
      await tx.query(
        `UPDATE operations o SET waiting_for = w.value->'waitingFor', waiting_until = (w.value->>'until')::timestamptz
         FROM jsonb_array_elements($1::jsonb) AS w(value), clusters c LEFT JOIN team_settings t ON t.team = c.team
         WHERE o.id = (w.value->>'id')::uuid AND o.cluster_id = $2 AND o.status = 'queued' AND c.id = $2
           AND coalesce(c.maintenance, t.maintenance) IS NOT DISTINCT FROM $3::jsonb`,
        [json(valid), hold.clusterId, policy && json(policy)],
      );
    });
  }

  async supersede(hold: LaneHold, ids: string[], byId: string): Promise<void> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return;
    await this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      await tx.query(
        `UPDATE operations SET status = 'superseded', superseded_by = $2, finished_at = now()
         WHERE id = ANY($1::uuid[]) AND cluster_id = $3 AND status IN ('queued', 'awaiting-approval')`,
        [valid, byId, hold.clusterId],
      );
    });
  }

  /** As the interface says; throws NotFoundError for an operation not of the held cluster. An empty list appends nothing and returns the current last seq (0 if none). */
  appendEvents(hold: LaneHold, operationId: string, events: Array<Pick<OperationEvent, 'type' | 'data'>>): Promise<number> {
    return this.db.transaction(async (tx) => {
      // The cluster row lock also makes concurrent appenders to one operation take turns, so seqs never collide.
      await lockHeld(tx, hold);
      const { rows: found } = await tx.query('SELECT 1 FROM operations WHERE id = $1 AND cluster_id = $2', [
        uuidOrNil(operationId),
        hold.clusterId,
      ]);
      if (found.length === 0) throw new NotFoundError(`operation ${operationId} not found`);
      const { rows } = await tx.query<{ last: number }>(
        'SELECT coalesce(max(seq), 0)::int AS last FROM operation_events WHERE operation_id = $1',
        [operationId],
      );
      const last = one(rows[0]).last;
      if (events.length === 0) return last;
      await tx.query(
        `INSERT INTO operation_events (operation_id, seq, type, data)
         SELECT $1, $2::int + e.ord::int, e.value->>'type', coalesce(e.value->'data', 'null'::jsonb)
         FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, ord)`,
        [operationId, last, json(events.map((e) => ({ type: e.type, data: e.data })))],
      );
      return last + events.length;
    });
  }

  /** As the interface says, and records an `operation.finished` outbox entry with it; throws ConflictError if the operation is already terminal. */
  finishOperation(hold: LaneHold, id: string, outcome: OperationOutcome): Promise<OperationRecord> {
    return this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      const { rows } = await tx.query(
        `UPDATE operations SET status = $3, summary = $4::jsonb, outputs = $5::jsonb, error = $6::jsonb, finished_at = now()
         WHERE id = $1 AND cluster_id = $2 AND status IN ('queued', 'running') RETURNING id`,
        [uuidOrNil(id), hold.clusterId, outcome.status, json(outcome.summary), json(outcome.outputs), json(outcome.error)],
      );
      if (rows.length === 0) await terminalConflict(tx, id, 'finish');
      const update = clusterUpdate(hold.clusterId, outcome.cluster, outcome.stackClean ? ['needs_recovery = false'] : []);
      await tx.query(update.text, update.params);
      if (outcome.driftReport) await fileDriftReport(tx, id, outcome.driftReport);
      // Its webhook events and the reactions to its drift report follow from this entry, committed with the outcome.
      await addToOutbox(tx, 'operation.finished', id);
      return requireOperation(tx, id);
    });
  }

  awaitApproval(
    hold: LaneHold,
    id: string,
    plan: { summary: ChangeSummary | null; approval: OperationApproval },
    expiresInMs: number,
  ): Promise<OperationRecord> {
    return this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      const { rows } = await tx.query(
        `UPDATE operations SET status = 'awaiting-approval', summary = $3::jsonb,
           approval = $4::jsonb || jsonb_build_object('requestedAt', ${ISO_NOW}, 'expiresAt', ${isoIn('$5')})
         WHERE id = $1 AND cluster_id = $2 AND status = 'running' RETURNING id`,
        [uuidOrNil(id), hold.clusterId, json(plan.summary), json(plan.approval), checkLease(expiresInMs)],
      );
      if (rows.length === 0) await terminalConflict(tx, id, 'hold for approval');
      await tx.query(
        `UPDATE clusters SET needs_recovery = false, updated_at = now(),
           status = CASE WHEN status = 'updating' AND applied_generation IS NOT NULL THEN 'ready' ELSE status END
         WHERE id = $1`,
        [hold.clusterId],
      );
      await addToOutbox(tx, 'operation.approval', approvalSubject(id, 'awaiting'));
      return requireOperation(tx, id);
    });
  }

  async noteApproval(hold: LaneHold, id: string, approval: OperationApproval): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      await tx.query(`UPDATE operations SET approval = $3::jsonb WHERE id = $1 AND cluster_id = $2 AND status = 'running'`, [
        uuidOrNil(id),
        hold.clusterId,
        json(approval),
      ]);
    });
  }

  async requeueOperation(hold: LaneHold, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      const { rows } = await tx.query(
        `UPDATE operations SET status = 'queued' WHERE id = $1 AND cluster_id = $2 AND status = 'running' RETURNING id`,
        [uuidOrNil(id), hold.clusterId],
      );
      if (rows.length === 0) await requireOperation(tx, id);
    });
  }

  async setClusterStatus(hold: LaneHold, status: ClusterStatus): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockHeld(tx, hold);
      const update = clusterUpdate(hold.clusterId, { status });
      await tx.query(update.text, update.params);
    });
  }
}

/** Files a drift check's report with its outcome; one report per operation. */
async function fileDriftReport(tx: SqlClient, operationId: string, findings: DriftFindings): Promise<void> {
  await tx.query(
    `INSERT INTO drift_reports (id, cluster_id, operation_id, sweep_id, status, kinds, resources, error)
     SELECT $1, cluster_id, id, sweep_id, $3, $4::jsonb, $5::jsonb, $6::jsonb FROM operations WHERE id = $2
     ON CONFLICT (operation_id) DO NOTHING`,
    [randomUUID(), operationId, findings.status, json(findings.kinds), json(findings.resources), json(findings.error)],
  );
}

/**
 * Locks the cluster row for the rest of the transaction, so that no take-over can happen in between,
 * and checks that `hold` is still current (and, with `unexpired`, that its lease has not lapsed).
 */
async function lockHeld(tx: SqlClient, hold: LaneHold, { unexpired = false } = {}): Promise<{ needsRecovery: boolean }> {
  const { rows } = await tx.query<{ needs_recovery: boolean; current: boolean; live: boolean }>(
    `SELECT needs_recovery, (lane_owner IS NOT DISTINCT FROM $2 AND lane_epoch = $3) AS current, coalesce(lane_expires_at > now(), false) AS live
     FROM clusters WHERE id = $1 FOR UPDATE`,
    [uuidOrNil(hold.clusterId), hold.owner, hold.epoch],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`cluster ${hold.clusterId} not found`);
  if (!row.current)
    throw new LaneLostError(`the lane of cluster ${hold.clusterId} was taken over: ${hold.owner} (epoch ${hold.epoch}) no longer holds it`);
  if (unexpired && !row.live)
    throw new LaneLostError(`the lease of ${hold.owner} on cluster ${hold.clusterId} has lapsed; renew it before starting work`);
  return { needsRecovery: row.needs_recovery };
}

/** Says why an operation cannot start: missing, another cluster's, finished, or already running under this hold. */
async function refuseStart(tx: SqlClient, id: string, hold: LaneHold): Promise<never> {
  const op = await requireOperation(tx, id);
  if (op.clusterId !== hold.clusterId) throw new NotFoundError(`operation ${id} is not one of cluster ${hold.clusterId}'s`);
  if (op.status === 'running') throw new ConflictError(`cannot start operation ${id}: it is already running under this lane hold`);
  return terminalConflict(tx, id, 'start');
}
