import type { OperationApproval } from './approval.js';
import type { ClusterStatus } from './cluster.js';
import type { WaitingFor } from './maintenance.js';
import type { OperationErrorCode } from './operation-error.js';
import type { PolicyViolation } from './policy-violation.js';

/** Stands in for a secret value (stack output or write-only spec field) in every answer and record. */
export const SECRET_PLACEHOLDER = '[secret]';

/** What an operation does to a cluster's stack. */
/** `remediate` is an update with refresh: it brings a drifted cluster back to its desired spec. */
export const OPERATION_KINDS = ['provision', 'update', 'destroy', 'preview', 'refresh', 'drift-check', 'remediate'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** `awaiting-approval`: planned, and waiting for a person's answer before it changes anything (see approval.ts). */
export const OPERATION_STATUSES = ['queued', 'running', 'awaiting-approval', 'succeeded', 'failed', 'cancelled', 'superseded'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<OperationStatus> = new Set(['succeeded', 'failed', 'cancelled', 'superseded']);

/** What an operation of one kind does to its cluster's record. */
export interface OperationKindEffects {
  /** It changes the stack (takes its lock): its run marks the cluster as needing recovery until it ends cleanly. */
  mutating: boolean;
  /** It applies the cluster's desired spec (and so may leave it `ready` with that spec applied). */
  appliesDesiredSpec: boolean;
  /** The status the cluster takes as soon as the operation is queued; null leaves it as it is. */
  statusWhenQueued: ClusterStatus | null;
  /** The status the cluster takes when the operation starts; null leaves it as it is. */
  statusWhenStarted: ClusterStatus | null;
}

/**
 * One entry per kind, so that a new kind does not compile until it says what it does to its cluster.
 * A provision is queued with its cluster, which is created `provisioning`; a queued destroy shows at once.
 */
export const OPERATION_KIND_EFFECTS: Readonly<Record<OperationKind, OperationKindEffects>> = {
  provision: { mutating: true, appliesDesiredSpec: true, statusWhenQueued: null, statusWhenStarted: 'provisioning' },
  update: { mutating: true, appliesDesiredSpec: true, statusWhenQueued: null, statusWhenStarted: 'updating' },
  destroy: { mutating: true, appliesDesiredSpec: false, statusWhenQueued: 'destroying', statusWhenStarted: 'destroying' },
  preview: { mutating: false, appliesDesiredSpec: false, statusWhenQueued: null, statusWhenStarted: null },
  refresh: { mutating: true, appliesDesiredSpec: false, statusWhenQueued: null, statusWhenStarted: null },
  'drift-check': { mutating: false, appliesDesiredSpec: false, statusWhenQueued: null, statusWhenStarted: null },
  remediate: { mutating: true, appliesDesiredSpec: true, statusWhenQueued: null, statusWhenStarted: null },
};

/** Whether an operation of this kind changes the stack (takes its lock); the others only read it. */
export const changesStack = (kind: OperationKind): boolean => OPERATION_KIND_EFFECTS[kind].mutating;

/** Whether an operation of this kind applies the cluster's desired spec. */
export const appliesDesiredSpec = (kind: OperationKind): boolean => OPERATION_KIND_EFFECTS[kind].appliesDesiredSpec;

/** Counts of planned or applied resource changes, by kind of step. */
export interface ChangeCounts {
  create: number;
  update: number;
  replace: number;
  delete: number;
  same: number;
}

/** One resource the operation creates, updates, replaces or deletes (or, for a drift check, that drifted). */
export interface ResourceChange {
  urn: string;
  type: string;
  name: string;
  op: 'create' | 'update' | 'replace' | 'delete' | 'read' | 'refresh';
  /** Top-level property names that differ; secret values are never included, only names. */
  properties: string[];
  /** Drift checks only: `cloud` when the live resource differs from the state, `spec` when the state differs from the desired spec. */
  drift?: 'cloud' | 'spec';
  /** Drift checks only: each differing property with the recorded and the live (or desired) value, secrets masked. */
  diffs?: PropertyDiff[];
}

/** One property that differs, with both values; a secret value is shown as {@link SECRET_PLACEHOLDER}. */
export interface PropertyDiff {
  property: string;
  /** The value recorded in the stack's state. */
  state: unknown;
  /** The live value (cloud drift) or the value the desired spec asks for (spec drift). */
  actual: unknown;
}

export interface ChangeSummary {
  counts: ChangeCounts;
  resources: ResourceChange[];
  /** What the policy packs reported without stopping the run (advisory findings, remediations); absent when nothing. */
  policyViolations?: PolicyViolation[];
}

/** An error a person can act on: a stable code, a one-line title and a short detail (never the raw CLI dump). */
export interface OperationError {
  code: OperationErrorCode;
  title: string;
  detail: string;
  /** `policy-violation` only: every mandatory finding of the policy packs. */
  violations?: PolicyViolation[];
}

export interface OperationRecord {
  id: string;
  clusterId: string;
  clusterName: string;
  team: string;
  kind: OperationKind;
  status: OperationStatus;
  /** Global acceptance order; operations on one cluster apply in increasing `seq`. */
  seq: number;
  /**
   * The desired spec this operation applies (provision/update), else the spec current at acceptance.
   * Null only once the operation has finished and retention dropped the copy (see {@link specToRun}).
   */
  spec: Record<string, unknown> | null;
  /** The cluster generation the spec belongs to. */
  generation: number;
  /** Who asked: the token's name and team (or `admin`). */
  requestedBy: string;
  /** The token that asked, or null when the service did (a sweep, an expiry): it never approves its own request. */
  requestedByTokenId: string | null;
  /** Its approval, when its team's policy asks for one; null otherwise. */
  approval: OperationApproval | null;
  cancelRequested: boolean;
  summary: ChangeSummary | null;
  outputs: Record<string, unknown> | null;
  error: OperationError | null;
  supersededBy: string | null;
  /** The drift sweep that queued this check, or null when a person or another service part asked. */
  sweepId: string | null;
  /** It starts only inside the cluster's maintenance window: work the service started on its own, or asked so. */
  respectMaintenance: boolean;
  /** Queued and passed over until a window opens: why and until when. Null once started, or while nothing holds it. */
  waitingFor: WaitingFor | null;
  /** How many times a worker started this operation (more than 1 after a crash). */
  attempts: number;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The W3C `traceparent` of the span that recorded it, which the run's spans continue; null when it
   * was accepted with tracing off.
   */
  traceParent: string | null;
}

/** One line of an operation's event stream: an engine event, a log line, or a status change. */
export interface OperationEvent {
  operationId: string;
  /** 1-based, gap-free within one operation; doubles as the SSE event id. */
  seq: number;
  at: string;
  type: 'engine' | 'log' | 'status';
  data: unknown;
}

/**
 * The spec an operation runs with. Always there until it finishes (the records refuse a null spec
 * before then); only retention drops the copy of a finished one.
 */
export function specToRun(op: Pick<OperationRecord, 'id' | 'spec'>): Record<string, unknown> {
  if (op.spec === null) throw new Error(`operation ${op.id} has no spec: it finished and retention dropped the copy`);
  return op.spec;
}
