import type { OperationApproval } from '../domain/approval.js';
import type { ClusterRecord, ClusterStatus } from '../domain/cluster.js';
import type { MaintenancePolicy, WaitingFor } from '../domain/maintenance.js';
import type {
  ChangeSummary,
  OperationError,
  OperationEvent,
  OperationKind,
  OperationRecord,
  OperationStatus,
} from '../domain/operation.js';

// --- rows and their mapping to domain records ---

export interface ClusterRow {
  id: string;
  name: string;
  team: string;
  blueprint: string;
  labels: Record<string, string>;
  spec: Record<string, unknown>;
  generation: number;
  applied_spec: Record<string, unknown> | null;
  applied_generation: number | null;
  status: ClusterStatus;
  outputs: Record<string, unknown>;
  last_operation_id: string | null;
  drift_policy: ClusterRecord['driftPolicy'];
  expires_at: string | null;
  maintenance: MaintenancePolicy | null;
  created_at: string;
  updated_at: string;
}

export interface OperationRow {
  id: string;
  cluster_id: string;
  cluster_name: string;
  team: string;
  kind: OperationKind;
  status: OperationStatus;
  seq: number;
  spec: Record<string, unknown> | null;
  generation: number;
  requested_by: string;
  requested_by_token: string | null;
  approval: OperationApproval | null;
  cancel_requested: boolean;
  summary: ChangeSummary | null;
  outputs: Record<string, unknown> | null;
  error: OperationError | null;
  superseded_by: string | null;
  sweep_id: string | null;
  respect_maintenance: boolean;
  waiting_for: WaitingFor | null;
  attempts: number;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  trace_parent: string | null;
}

export interface EventRow {
  operation_id: string;
  seq: number;
  at: string;
  type: OperationEvent['type'];
  data: unknown;
}

export interface IdempotencyRow {
  fingerprint: string;
  status: 'in-flight' | 'done';
  status_code: number | null;
  body: unknown;
  headers: Record<string, string> | null;
}

export const SELECT_OPERATION = 'SELECT o.*, c.name AS cluster_name, c.team FROM operations o JOIN clusters c ON c.id = o.cluster_id';

/** Wraps a data-modifying statement `... RETURNING *` so that it returns full operation rows. */
export function returningOperation(statement: string): string {
  return `WITH o AS (${statement}) SELECT o.*, c.name AS cluster_name, c.team FROM o JOIN clusters c ON c.id = o.cluster_id`;
}

export function toCluster(r: ClusterRow): ClusterRecord {
  return {
    id: r.id,
    name: r.name,
    team: r.team,
    blueprint: r.blueprint,
    labels: r.labels,
    spec: r.spec,
    generation: r.generation,
    appliedSpec: r.applied_spec,
    appliedGeneration: r.applied_generation,
    status: r.status,
    outputs: r.outputs,
    lastOperationId: r.last_operation_id,
    driftPolicy: r.drift_policy,
    expiresAt: r.expires_at,
    maintenance: r.maintenance,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toOperation(r: OperationRow): OperationRecord {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    clusterName: r.cluster_name,
    team: r.team,
    kind: r.kind,
    status: r.status,
    seq: r.seq,
    spec: r.spec,
    generation: r.generation,
    requestedBy: r.requested_by,
    requestedByTokenId: r.requested_by_token,
    approval: r.approval,
    cancelRequested: r.cancel_requested,
    summary: r.summary,
    outputs: r.outputs,
    error: r.error,
    supersededBy: r.superseded_by,
    sweepId: r.sweep_id,
    respectMaintenance: r.respect_maintenance,
    waitingFor: r.waiting_for,
    attempts: r.attempts,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    traceParent: r.trace_parent,
  };
}
