import { randomUUID } from 'node:crypto';
import { approvalGate, type ApprovalRule, type OperationApproval } from '../domain/approval.js';
import type { ClusterRecord } from '../domain/cluster.js';
import type { OperationKind, OperationRecord } from '../domain/operation.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { DesiredSpec, NewOperation } from './cluster-store.js';
import type { OperationOutcome } from './lane-store.js';
import { returningOperation, SELECT_OPERATION, toCluster, toOperation, type ClusterRow, type OperationRow } from './rows.js';
import { json, one, uuidOrNil } from './sql-helpers.js';
import type { SqlClient } from './sql.js';
import { holdQuota, holdTeamQuota } from './team-policy-store.js';
import type { TeamPolicy } from '../domain/team-policy.js';
import { inSpan, operationAttributes, traceParentOf } from '../tracing/tracing.js';

// --- statements shared by the stores of one database ---

export async function requireOperation(db: SqlClient, id: string): Promise<OperationRecord> {
  const { rows } = await db.query<OperationRow>(`${SELECT_OPERATION} WHERE o.id = $1`, [uuidOrNil(id)]);
  if (!rows[0]) throw new NotFoundError(`operation ${id} not found`);
  return toOperation(rows[0]);
}

/** Called when a guarded UPDATE matched nothing: says whether the operation is missing or finished. */
export async function terminalConflict(db: SqlClient, id: string, verb: string): Promise<never> {
  const op = await requireOperation(db, id);
  throw new ConflictError(`cannot ${verb} operation ${id}: it is already ${op.status}`);
}

/** An UPDATE of the given cluster fields (and updated_at, and any `extra` assignments); absent fields are left alone. */
export function clusterUpdate(
  clusterId: string,
  fields: OperationOutcome['cluster'],
  extra: string[] = [],
): { text: string; params: unknown[] } {
  const params: unknown[] = [clusterId];
  const p = (v: unknown): string => `$${params.push(v)}`;
  const sets = ['updated_at = now()', ...extra];
  if (fields.status !== undefined) {
    const status = p(fields.status);
    sets.push(`status = ${status}::text`);
    // destroyed_at frees the name for a new cluster; keep the first destruction time.
    sets.push(`destroyed_at = CASE WHEN ${status}::text = 'destroyed' THEN coalesce(destroyed_at, now()) ELSE NULL END`);
  }
  if (fields.appliedSpec !== undefined) sets.push(`applied_spec = ${p(json(fields.appliedSpec))}::jsonb`);
  if (fields.appliedGeneration !== undefined) sets.push(`applied_generation = ${p(fields.appliedGeneration)}::int`);
  if (fields.outputs !== undefined) sets.push(`outputs = ${p(json(fields.outputs))}::jsonb`);
  return { text: `UPDATE clusters SET ${sets.join(', ')} WHERE id = $1`, params };
}

/**
 * Queues an operation carrying the cluster's desired spec and generation; inside the caller's
 * transaction, which holds the cluster row. Every path that accepts an operation passes here, so its
 * span is where each operation's trace is recorded (the operation keeps its `traceparent`).
 */
export async function insertOperation(
  tx: SqlClient,
  cluster: Pick<ClusterRecord, 'id' | 'name' | 'blueprint' | 'spec' | 'generation'>,
  op: NewOperation,
  known: Gating | null = null,
): Promise<OperationRecord> {
  const id = randomUUID();
  const attributes = operationAttributes({ id, kind: op.kind, clusterName: cluster.name, blueprint: cluster.blueprint });
  return inSpan('record operation', { attributes }, async (span) => {
    // The team's approval rule in force now binds the operation for its whole life (`known` when the
    // caller read it in this transaction already).
    const gating = known ?? (await gateOf(tx, cluster.id));
    const gate = gating ? gateFor(gating, op.kind) : null;
    const { rows } = await tx.query<OperationRow>(
      returningOperation(`INSERT INTO operations (id, cluster_id, kind, status, spec, generation, requested_by, sweep_id, respect_maintenance,
           requested_by_token, approval, trace_parent)
         VALUES ($1, $2, $3, 'queued', $4::jsonb, $5, $6, $7, $8, $9, $10::jsonb, $11) RETURNING *`),
      [
        id,
        cluster.id,
        op.kind,
        json(cluster.spec),
        cluster.generation,
        op.requestedBy,
        op.sweepId ?? null,
        op.respectMaintenance ?? false,
        op.requestedByTokenId ?? null,
        gate && json(gate),
        traceParentOf(span),
      ],
    );
    return toOperation(one(rows[0]));
  });
}

/** The team's approval rule, and every set of labels the cluster carried in this request (the rule binds if any matches). */
interface Gating {
  labels: Array<Record<string, string>>;
  rule: ApprovalRule | undefined;
}

function gateFor(gating: Gating, kind: OperationKind): OperationApproval | null {
  for (const labels of gating.labels) {
    const gate = approvalGate(gating.rule, kind, labels);
    if (gate) return gate;
  }
  return null;
}

async function gateOf(tx: SqlClient, clusterId: string): Promise<Gating | null> {
  const { rows } = await tx.query<{ labels: Record<string, string>; rule: ApprovalRule | null }>(
    `SELECT c.labels, t.policy->'approval' AS rule FROM clusters c LEFT JOIN team_settings t ON t.team = c.team WHERE c.id = $1`,
    [clusterId],
  );
  return rows[0] ? { labels: [rows[0].labels], rule: rows[0].rule ?? undefined } : null;
}

/** Locks the cluster row for the rest of the transaction; a destroyed cluster takes no new operations. */
export async function lockLiveCluster(tx: SqlClient, clusterId: string): Promise<ClusterRecord> {
  const { rows } = await tx.query<ClusterRow & { destroyed_at: string | null }>('SELECT * FROM clusters WHERE id = $1 FOR UPDATE', [
    uuidOrNil(clusterId),
  ]);
  const row = rows[0];
  if (!row) throw new NotFoundError(`cluster ${clusterId} not found`);
  if (row.destroyed_at !== null) throw new ConflictError(`cluster "${row.name}" is destroyed`);
  return toCluster(row);
}

/**
 * {@link lockLiveCluster}, refusing a person's new operation (or change) while a destroy is pending:
 * queued behind the destroy, it would run on a cluster already gone, and an update or remediation
 * would bring it back. Decided under the row's lock, which queueing the destroy takes too.
 */
export async function lockChangeableCluster(tx: SqlClient, clusterId: string, what: string): Promise<ClusterRecord> {
  const cluster = await lockLiveCluster(tx, clusterId);
  const { rows } = await tx.query<{ id: string; status: string }>(
    `SELECT id, status FROM operations
     WHERE cluster_id = $1 AND kind = 'destroy' AND status IN ('queued', 'running', 'awaiting-approval') LIMIT 1`,
    [clusterId],
  );
  const destroy = rows[0];
  if (destroy)
    throw new ConflictError(`cluster "${cluster.name}" has a destroy ${destroy.status} (operation ${destroy.id}); cannot ${what} it`);
  return cluster;
}

/**
 * Sets a new desired spec (generation + 1, labels when given) and queues the update that applies it;
 * the caller holds the cluster row. With `nodeCapacity`, what the spec may grow to is recorded and its
 * growth held to the team's quota (PolicyError, before anything is written), under the team's lock:
 * the caller's, with the policy it read (`held`), or taken here.
 */
export async function setDesiredSpec(
  tx: SqlClient,
  clusterId: string,
  { spec, labels, nodeCapacity }: DesiredSpec,
  op: NewOperation,
  held?: { policy: TeamPolicy | null },
): Promise<{ cluster: ClusterRecord; operation: OperationRecord }> {
  if (nodeCapacity !== undefined) {
    const { rows: found } = await tx.query<{ team: string; node_capacity: number }>(
      'SELECT team, node_capacity FROM clusters WHERE id = $1',
      [clusterId],
    );
    const { team, node_capacity: before } = one(found[0]);
    const growth = { clusters: 0, nodes: nodeCapacity - before };
    if (held) await holdQuota(tx, team, held.policy, growth);
    else await holdTeamQuota(tx, team, growth);
  }
  // New labels do not free the request from an approval rule its cluster's labels bind it to now:
  // dropping `env: prod` in the same PATCH that deletes a pool would otherwise slip past the rule.
  const before = labels === undefined ? null : await gateOf(tx, clusterId);
  const { rows } = await tx.query<ClusterRow>(
    `UPDATE clusters SET spec = $2::jsonb, generation = generation + 1, labels = coalesce($3::jsonb, labels),
       node_capacity = coalesce($4::integer, node_capacity), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [clusterId, json(spec), labels === undefined ? null : json(labels), nodeCapacity ?? null],
  );
  const cluster = toCluster(one(rows[0]));
  const operation = await insertOperation(tx, cluster, op, before && { labels: [...before.labels, cluster.labels], rule: before.rule });
  return { cluster, operation };
}
