import { randomUUID } from 'node:crypto';
import type { ClusterRecord } from '../domain/cluster.js';
import type { ChangeSummary, OperationRecord } from '../domain/operation.js';
import type { WaitingFor } from '../domain/maintenance.js';
import type { Page } from '../domain/page.js';
import { rolloutRequester, type RolloutMember, type RolloutRecord, type RolloutStage } from '../domain/rollout.js';
import { ConflictError, NotFoundError, PolicyError } from '../errors.js';
import type { MemberMove, MemberOperation, NewRollout, RolloutFilter, RolloutHead, RolloutPatch, RolloutStore } from './rollout-store.js';
import { checkLimit, decodeCursor, encodeCursor, isTimeCursor, isUuid, json, MAX_PAGE_SIZE, one, page, uuidOrNil } from './sql-helpers.js';
import { toCluster, type ClusterRow } from './rows.js';
import { insertOperation, lockLiveCluster, setDesiredSpec } from './sql-statements.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import { addToOutbox } from './outbox-store.js';
import {
  memberEvent,
  memberMoved,
  rolloutChanges,
  webhookTypeOf,
  type NewRolloutEvent,
  type RolloutEvent,
} from '../domain/rollout-events.js';

interface RolloutRow {
  id: string;
  name: string;
  team: string | null;
  requested_by: string;
  mode: RolloutRecord['mode'];
  started_by_token: string;
  selector: RolloutRecord['selector'];
  change: RolloutRecord['change'];
  on_invalid: RolloutRecord['onInvalid'];
  wait_for_clean_drift_check: boolean;
  status: RolloutRecord['status'];
  reason: string | null;
  current_stage: number;
  stages: RolloutStage[];
  excluded: RolloutRecord['excluded'];
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

interface MemberRow {
  cluster_id: string;
  cluster_name: string;
  team: string;
  stage: number;
  state: RolloutMember['state'];
  steps: RolloutMember['steps'];
  steps_done: number;
  operation_ids: string[];
  current_operation: string | null;
  error: RolloutMember['error'];
  reason: string | null;
  attempts: number;
  waiting_for: WaitingFor | null;
  summary: ChangeSummary | null;
  started_at: string | null;
  finished_at: string | null;
}

const iso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

function toHead(r: RolloutRow): RolloutHead {
  return {
    id: r.id,
    name: r.name,
    team: r.team,
    requestedBy: r.requested_by,
    mode: r.mode,
    startedByTokenId: r.started_by_token,
    selector: r.selector,
    change: r.change,
    onInvalid: r.on_invalid,
    waitForCleanDriftCheck: r.wait_for_clean_drift_check,
    status: r.status,
    reason: r.reason,
    currentStage: r.current_stage,
    stages: r.stages,
    excluded: r.excluded,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    finishedAt: iso(r.finished_at),
  };
}

function toMember(r: MemberRow): RolloutMember {
  return {
    clusterId: r.cluster_id,
    clusterName: r.cluster_name,
    team: r.team,
    stage: r.stage,
    state: r.state,
    steps: r.steps,
    stepsDone: r.steps_done,
    operationIds: r.operation_ids,
    currentOperationId: r.current_operation,
    error: r.error,
    reason: r.reason,
    attempts: r.attempts,
    waitingFor: r.waiting_for,
    summary: r.summary,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

interface EventRow {
  rollout_id: string;
  seq: number;
  at: string | Date;
  type: RolloutEvent['type'];
  data: Record<string, unknown>;
}

const toEvent = (r: EventRow): RolloutEvent => ({ rolloutId: r.rollout_id, seq: r.seq, at: iso(r.at)!, type: r.type, data: r.data });

/** The outbox subject of a rollout event that becomes a webhook. */
const rolloutEventSubject = (rolloutId: string, seq: number) => `${rolloutId}/${seq}`;

/**
 * Appends events after the rollout's last, inside the caller's transaction (which holds the rollout's
 * row, so seqs never collide); those that become webhooks get an outbox entry committed with them.
 */
async function appendEvents(tx: SqlClient, rollout: Pick<RolloutHead, 'id' | 'mode'>, events: NewRolloutEvent[]): Promise<void> {
  if (!events.length) return;
  const rolloutId = rollout.id;
  const { rows } = await tx.query<{ last: number }>('SELECT coalesce(max(seq), 0)::int AS last FROM rollout_events WHERE rollout_id = $1', [
    rolloutId,
  ]);
  let seq = one(rows[0]).last;
  for (const e of events) {
    seq += 1;
    await tx.query('INSERT INTO rollout_events (rollout_id, seq, type, data) VALUES ($1, $2, $3, $4::jsonb)', [
      rolloutId,
      seq,
      e.type,
      json(e.data),
    ]);
    // A preview tells its stream only: subscribers hear of rollouts that change clusters.
    if (rollout.mode === 'change' && webhookTypeOf(e)) await addToOutbox(tx, 'rollout.event', rolloutEventSubject(rolloutId, seq));
  }
}

const MEMBER_COLUMNS = `cluster_id, cluster_name, team, stage, state, steps, steps_done, operation_ids, current_operation, error, reason,
  attempts, waiting_for, summary, started_at, finished_at`;

/** {@link RolloutStore} over PostgreSQL or PGlite. */
export class SqlRolloutStore implements RolloutStore {
  constructor(private readonly db: SqlClient) {}

  createRollout(r: NewRollout): Promise<RolloutRecord> {
    return this.db.transaction(async (tx) => {
      const id = randomUUID();
      const stages: RolloutStage[] = r.stages.map((s) => ({
        ...s,
        status: 'pending',
        startedAt: null,
        soakUntil: null,
        approvedBy: null,
        approvedAt: null,
        completedAt: null,
        acceptedFailures: 0,
      }));
      await tx.query(
        `INSERT INTO rollouts (id, name, team, requested_by, started_by_token, selector, change, on_invalid, wait_for_clean_drift_check,
           status, stages, excluded, mode)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, 'pending', $10::jsonb, $11::jsonb, $12)`,
        [
          id,
          r.name,
          r.team,
          r.requestedBy,
          r.startedByTokenId,
          json(r.selector),
          json(r.change),
          r.onInvalid,
          r.waitForCleanDriftCheck,
          json(stages),
          json(r.excluded),
          r.mode,
        ],
      );
      // A preview changes nothing and holds no cluster.
      const holds = r.mode === 'change';
      // Checked first to name the holder; the unique index settles a race between two creations.
      const held =
        holds &&
        (await this.holders(
          tx,
          r.members.map((m) => m.clusterId),
        ));
      if (held) throw held;
      try {
        for (const [position, m] of r.members.entries()) {
          await tx.query(
            `INSERT INTO rollout_members (rollout_id, cluster_id, cluster_name, team, position, stage, state, steps, holds)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7::jsonb, $8)`,
            [id, m.clusterId, m.clusterName, m.team, position, m.stage, json(m.steps), holds],
          );
        }
      } catch (err) {
        if (hasSqlState(err, UNIQUE_VIOLATION))
          throw new ConflictError('a cluster of this rollout was just taken by another rollout', { cause: err });
        throw err;
      }
      const created = await this.mustRead(tx, id);
      await appendEvents(tx, created, rolloutChanges(null, created));
      return created;
    });
  }

  /** A ConflictError naming the unfinished rollouts that hold any of `clusterIds`, or null. */
  private async holders(tx: SqlClient, clusterIds: string[]): Promise<ConflictError | null> {
    if (!clusterIds.length) return null;
    const { rows } = await tx.query<{ cluster_name: string; id: string; name: string }>(
      `SELECT m.cluster_name, r.id, r.name FROM rollout_members m JOIN rollouts r ON r.id = m.rollout_id
       WHERE m.holds AND m.cluster_id = ANY($1::uuid[]) ORDER BY m.cluster_name LIMIT 20`,
      [clusterIds],
    );
    if (!rows.length) return null;
    const list = rows.map((h) => `"${h.cluster_name}" is in rollout ${h.name} (${h.id})`).join('; ');
    return new ConflictError(`a cluster may be in one unfinished rollout at a time: ${list}`);
  }

  getRollout(id: string): Promise<RolloutRecord | null> {
    return this.read(this.db, id);
  }

  private async mustRead(db: SqlClient, id: string): Promise<RolloutRecord> {
    const rollout = await this.read(db, id);
    if (!rollout) throw new NotFoundError(`no rollout with id ${id}`);
    return rollout;
  }

  private async read(db: SqlClient, id: string, lock = false): Promise<RolloutRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await db.query<RolloutRow>(`SELECT * FROM rollouts WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    if (!rows[0]) return null;
    const members = await db.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM rollout_members WHERE rollout_id = $1 ORDER BY position`, [
      id,
    ]);
    return { ...toHead(rows[0]), members: members.rows.map(toMember) };
  }

  async listRollouts(filter: RolloutFilter): Promise<Page<RolloutRecord>> {
    const limit = checkLimit(filter.limit, MAX_PAGE_SIZE);
    const params: unknown[] = [];
    const p = (v: unknown): string => `$${params.push(v)}`;
    const where: string[] = [];
    if (filter.team !== undefined) where.push(`team = ${p(filter.team)}`);
    if (filter.cursor !== undefined) {
      const after = decodeCursor(filter.cursor, isTimeCursor);
      where.push(`(created_at, id) < (${p(after.at)}::timestamptz, ${p(after.id)}::uuid)`);
    }
    const { rows } = await this.db.query<RolloutRow>(
      `SELECT * FROM rollouts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    // The members of the whole page in one read.
    const { rows: members } = await this.db.query<MemberRow & { rollout_id: string }>(
      `SELECT rollout_id, ${MEMBER_COLUMNS} FROM rollout_members WHERE rollout_id = ANY($1::uuid[]) ORDER BY rollout_id, position`,
      [rows.map((r) => r.id)],
    );
    const byRollout = new Map<string, MemberRow[]>();
    for (const m of members) byRollout.set(m.rollout_id, [...(byRollout.get(m.rollout_id) ?? []), m]);
    const items = rows.map((r): RolloutRecord => ({ ...toHead(r), members: (byRollout.get(r.id) ?? []).map(toMember) }));
    return page(items, limit, (r) => encodeCursor({ at: r.createdAt, id: r.id }));
  }

  async unfinishedRollouts(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM rollouts WHERE finished_at IS NULL ORDER BY created_at, id');
    return rows.map((r) => r.id);
  }

  async claimDriver(id: string, driverId: string, leaseMs: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE rollouts SET driver_id = $2, driver_until = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND finished_at IS NULL AND (driver_id = $2 OR driver_until IS NULL OR driver_until < now()) RETURNING id`,
      [uuidOrNil(id), driverId, leaseMs],
    );
    return rows.length === 1;
  }

  /** The rollout under its row lock, if `driverId` (when given) holds its lease. */
  private async locked(tx: SqlClient, id: string, driverId?: string): Promise<RolloutRecord | null> {
    const rollout = await this.read(tx, id, true);
    if (!rollout) throw new NotFoundError(`no rollout with id ${id}`);
    if (driverId === undefined) return rollout;
    const { rows } = await tx.query('SELECT 1 FROM rollouts WHERE id = $1 AND driver_id = $2 AND driver_until >= now()', [id, driverId]);
    return rows.length ? rollout : null;
  }

  changeRollout(id: string, decide: (rollout: RolloutRecord) => RolloutPatch | null, driverId?: string): Promise<RolloutRecord> {
    return this.db.transaction(async (tx) => {
      const rollout = await this.locked(tx, id, driverId);
      if (!rollout) return await this.mustRead(tx, id);
      const patch = decide(rollout);
      if (!patch) return rollout;
      const params: unknown[] = [id];
      const p = (v: unknown): string => `$${params.push(v)}`;
      const sets = ['updated_at = now()'];
      if (patch.status !== undefined) sets.push(`status = ${p(patch.status)}`);
      if (patch.reason !== undefined) sets.push(`reason = ${p(patch.reason)}`);
      if (patch.currentStage !== undefined) sets.push(`current_stage = ${p(patch.currentStage)}`);
      if (patch.stages !== undefined) sets.push(`stages = ${p(json(patch.stages))}::jsonb`);
      if (patch.finished) sets.push('finished_at = now()', 'driver_id = NULL', 'driver_until = NULL');
      await tx.query(`UPDATE rollouts SET ${sets.join(', ')} WHERE id = $1`, params);
      for (const m of patch.members ?? []) {
        await tx.query(
          `UPDATE rollout_members SET state = $3, reason = $4, error = CASE WHEN $5 THEN NULL ELSE error END,
             finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'skipped', 'cancelled') THEN now() ELSE NULL END
           WHERE rollout_id = $1 AND cluster_id = $2`,
          [id, m.clusterId, m.state, m.reason ?? null, m.clearError ?? false],
        );
      }
      // A finished rollout lets go of its clusters.
      if (patch.finished) await tx.query('UPDATE rollout_members SET holds = false WHERE rollout_id = $1', [id]);
      const after = await this.mustRead(tx, id);
      await appendEvents(tx, after, rolloutChanges(rollout, after));
      return after;
    });
  }

  moveMember(
    id: string,
    driverId: string,
    clusterId: string,
    decide: (rollout: RolloutHead, member: RolloutMember, cluster: ClusterRecord) => MemberMove | null,
  ): Promise<OperationRecord | null> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<RolloutRow>(
        'SELECT * FROM rollouts WHERE id = $1 AND driver_id = $2 AND driver_until >= now() FOR UPDATE',
        [uuidOrNil(id), driverId],
      );
      if (!rows[0]) return null;
      const members = await tx.query<MemberRow>(
        `SELECT ${MEMBER_COLUMNS} FROM rollout_members WHERE rollout_id = $1 AND cluster_id = $2 FOR UPDATE`,
        [id, uuidOrNil(clusterId)],
      );
      if (!members.rows[0]) throw new NotFoundError(`cluster ${clusterId} is not a member of rollout ${id}`);
      const head = toHead(rows[0]);
      const member = toMember(members.rows[0]);
      // A destroyed cluster is still shown to `decide`, which skips it.
      const cluster = await lockLiveCluster(tx, clusterId).catch(async (err: unknown) => {
        if (!(err instanceof ConflictError)) throw err;
        const { rows: gone } = await tx.query<ClusterRow>('SELECT * FROM clusters WHERE id = $1', [clusterId]);
        return { ...toCluster(one(gone[0])), status: 'destroyed' as const };
      });
      const decided = decide(head, member, cluster);
      if (!decided) return null;
      let operation: OperationRecord | null = null;
      let move = decided;
      if (move.to === 'step') {
        const step = await startStep(tx, head, clusterId, move);
        if ('refused' in step) move = step.refused;
        else operation = step.operation;
      }
      const done = 'completedStep' in move && move.completedStep ? 1 : 0;
      if (move.to === 'step' || move.to === 'check') {
        // The check after a step only reads, and runs at once.
        operation ??= await insertOperation(tx, cluster, {
          requestedBy: rolloutRequester(head),
          requestedByTokenId: head.startedByTokenId,
          kind: 'drift-check',
        });
        await tx.query(
          `UPDATE rollout_members SET state = $3, steps_done = steps_done + $4, current_operation = $5::uuid,
             operation_ids = operation_ids || jsonb_build_array($6::text), started_at = coalesce(started_at, now()), waiting_for = NULL,
             attempts = attempts + CASE WHEN state = 'pending' THEN 1 ELSE 0 END
           WHERE rollout_id = $1 AND cluster_id = $2`,
          [id, clusterId, move.to === 'step' ? 'running' : 'verifying', done, operation.id, operation.id],
        );
      } else if (move.to === 'preview') {
        // The spec it would reach, previewed; the desired spec stays as it is.
        operation = await insertOperation(
          tx,
          { ...cluster, spec: move.spec },
          {
            requestedBy: rolloutRequester(head),
            requestedByTokenId: head.startedByTokenId,
            kind: 'preview',
          },
        );
        await tx.query(
          `UPDATE rollout_members SET state = 'running', current_operation = $3::uuid,
             operation_ids = operation_ids || jsonb_build_array($4::text), started_at = coalesce(started_at, now()),
             attempts = attempts + 1
           WHERE rollout_id = $1 AND cluster_id = $2`,
          [id, clusterId, operation.id, operation.id],
        );
      } else if (move.to === 'follow') {
        await tx.query(
          `UPDATE rollout_members SET current_operation = $3::uuid, operation_ids = operation_ids || jsonb_build_array($4::text)
           WHERE rollout_id = $1 AND cluster_id = $2`,
          [id, clusterId, move.operationId, move.operationId],
        );
      } else {
        await tx.query(
          `UPDATE rollout_members SET state = $3, steps_done = steps_done + $4, current_operation = NULL, error = $5::jsonb, reason = $6,
             finished_at = now(), waiting_for = NULL, summary = $7::jsonb
           WHERE rollout_id = $1 AND cluster_id = $2`,
          [id, clusterId, move.state, done, json(move.error ?? null), move.reason ?? null, json(move.summary ?? null)],
        );
      }
      await tx.query('UPDATE rollouts SET updated_at = now() WHERE id = $1', [id]);
      const { rows: moved } = await tx.query<MemberRow>(
        `SELECT ${MEMBER_COLUMNS} FROM rollout_members WHERE rollout_id = $1 AND cluster_id = $2`,
        [id, clusterId],
      );
      const after = toMember(one(moved[0]));
      if (memberMoved(member, after)) await appendEvents(tx, head, [memberEvent(head, after)]);
      return operation;
    });
  }

  async markMembersWaiting(
    id: string,
    driverId: string,
    waits: Array<{ clusterId: string; waitingFor: WaitingFor | null }>,
  ): Promise<void> {
    if (!waits.length) return;
    await this.db.transaction(async (tx) => {
      if (!(await this.locked(tx, id, driverId))) return;
      await tx.query(
        `UPDATE rollout_members m SET waiting_for = w.value->'waitingFor'
         FROM jsonb_array_elements($2::jsonb) AS w(value)
         WHERE m.rollout_id = $1 AND m.cluster_id = (w.value->>'clusterId')::uuid AND m.state = 'pending'`,
        [id, json(waits.map((w) => ({ clusterId: w.clusterId, waitingFor: w.waitingFor })))],
      );
    });
  }

  async listEvents(id: string, afterSeq: number, limit: number): Promise<RolloutEvent[]> {
    if (!isUuid(id)) return [];
    const { rows } = await this.db.query<EventRow>(
      'SELECT rollout_id, seq, at, type, data FROM rollout_events WHERE rollout_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [id, afterSeq, checkLimit(limit, 1000)],
    );
    return rows.map(toEvent);
  }

  async getEvent(id: string, seq: number): Promise<RolloutEvent | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<EventRow>(
      'SELECT rollout_id, seq, at, type, data FROM rollout_events WHERE rollout_id = $1 AND seq = $2',
      [id, seq],
    );
    return rows[0] ? toEvent(rows[0]) : null;
  }

  async memberOperations(ids: string[]): Promise<Map<string, MemberOperation>> {
    if (!ids.length) return new Map();
    const { rows } = await this.db.query<{
      id: string;
      kind: MemberOperation['kind'];
      status: MemberOperation['status'];
      error: MemberOperation['error'];
      superseded_by: string | null;
      drift: MemberOperation['drift'];
      summary: MemberOperation['summary'];
    }>(
      `SELECT o.id, o.kind, o.status, o.error, o.superseded_by, d.status AS drift, CASE WHEN o.kind = 'preview' THEN o.summary END AS summary
       FROM operations o LEFT JOIN drift_reports d ON d.operation_id = o.id WHERE o.id = ANY($1::uuid[])`,
      [ids.filter(isUuid)],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          kind: r.kind,
          status: r.status,
          error: r.error ? { code: r.error.code, title: r.error.title } : null,
          supersededBy: r.superseded_by,
          drift: r.drift,
          summary: r.summary,
        },
      ]),
    );
  }
}

type StepMove = Extract<MemberMove, { to: 'step' }>;

/**
 * Sets the step's spec and queues its update, which waits for the cluster's maintenance window. The
 * step's growth is held to the team's node quota under the team's lock, as a person's PATCH is: the
 * check when the rollout was accepted saw the team as it was then, and others' requests may have
 * grown it since. A refused step fails its member, changing nothing.
 */
async function startStep(
  tx: SqlClient,
  head: RolloutHead,
  clusterId: string,
  move: StepMove,
): Promise<{ operation: OperationRecord } | { refused: MemberMove }> {
  const op = {
    requestedBy: rolloutRequester(head),
    requestedByTokenId: head.startedByTokenId,
    kind: 'update' as const,
    respectMaintenance: true,
  };
  try {
    return {
      operation: (await setDesiredSpec(tx, clusterId, { spec: move.spec, nodeCapacity: move.nodeCapacity ?? undefined }, op)).operation,
    };
  } catch (err) {
    // Thrown before anything was written, by our own check rather than by a statement: the transaction goes on.
    if (!(err instanceof PolicyError)) throw err;
    return {
      refused: { to: 'settled', state: 'failed', error: { code: 'quota-exceeded', title: err.message }, completedStep: move.completedStep },
    };
  }
}
