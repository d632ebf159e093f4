import type { ClusterRecord, ClusterStatus, DriftPolicy } from '../domain/cluster.js';
import type { DriftFindings } from '../domain/drift.js';
import type { ExpiryStore } from './expiry-store.js';
import type { ChangeSummary, OperationError, OperationEvent, OperationKind, OperationRecord, OperationStatus } from '../domain/operation.js';

/** Who is calling: a token bound to a team, or an admin token (team null). */
export interface Principal {
  tokenId: string;
  name: string;
  team: string | null;
  admin: boolean;
}

export interface NewCluster {
  name: string;
  team: string;
  blueprint: string;
  labels: Record<string, string>;
  spec: Record<string, unknown>;
  /** @defaultValue 'notify' */
  driftPolicy?: DriftPolicy;
  /** ISO-8601 time at which the cluster is destroyed, or null. */
  expiresAt?: string | null;
}

export interface NewOperation {
  kind: OperationKind;
  requestedBy: string;
  /** The drift sweep queueing this check. */
  sweepId?: string;
}

/** Cluster settings that change without an operation. */
export interface ClusterSettings {
  driftPolicy?: DriftPolicy;
  /** A new expiry (resets the warnings already sent), or null for none. */
  expiresAt?: string | null;
}

export interface ClusterFilter {
  /** Only this team's clusters (always set for a team token). */
  team?: string;
  blueprint?: string;
  status?: ClusterStatus;
  /** Every pair must match. */
  labels?: Record<string, string>;
  /** Include destroyed clusters. @defaultValue false unless status is `destroyed` */
  includeDestroyed?: boolean;
  /** Page size, 1-200. */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What a finished run changes on its operation and on its cluster, applied in one transaction. */
export interface OperationOutcome {
  status: Extract<OperationStatus, 'succeeded' | 'failed' | 'cancelled'>;
  summary: ChangeSummary | null;
  outputs: Record<string, unknown> | null;
  error: OperationError | null;
  cluster: Partial<Pick<ClusterRecord, 'status' | 'appliedSpec' | 'appliedGeneration' | 'outputs'>>;
  /**
   * The run left the stack unlocked with no pending operations (it finished, or failed in a way that
   * leaves nothing behind): the cluster no longer needs recovery. False keeps the mark as it is.
   */
  stackClean: boolean;
  /** A drift check's findings, filed as its drift report in the same transaction. */
  driftReport?: DriftFindings;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'replay'; statusCode: number; body: unknown; headers: Record<string, string> }
  | { state: 'in-flight' }
  | { state: 'mismatch' };

export interface StoredToken {
  id: string;
  name: string;
  team: string | null;
  admin: boolean;
}

/**
 * Durable records: clusters, operations, their events, API tokens and idempotency keys; expiry (see ExpiryStore).
 * Every method is atomic. Implemented over PostgreSQL (server) or PGlite (embedded).
 */
export interface RecordStore extends ExpiryStore {
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;

  // --- clusters ---
  /** Inserts the cluster (status `provisioning`, generation 1) and its provision operation. Throws ConflictError if a live cluster has that name. */
  createCluster(cluster: NewCluster, op: NewOperation): Promise<{ cluster: ClusterRecord; operation: OperationRecord }>;
  /** The live cluster of that name, else the most recently destroyed one, else null. */
  getCluster(name: string): Promise<ClusterRecord | null>;
  getClusterById(id: string): Promise<ClusterRecord | null>;
  listClusters(filter: ClusterFilter): Promise<Page<ClusterRecord>>;
  /** Sets a new desired spec (generation + 1) and queues an `update` operation carrying it, and applies `settings`, atomically. */
  updateDesiredSpec(
    clusterId: string,
    spec: Record<string, unknown>,
    labels: Record<string, string> | undefined,
    op: NewOperation,
    settings?: ClusterSettings,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord }>;
  /** Changes settings that need no operation; returns the updated cluster. */
  updateClusterSettings(clusterId: string, settings: ClusterSettings): Promise<ClusterRecord>;
  /** Queues an operation of any other kind with the cluster's current desired spec and generation. `destroy` also sets status `destroying`. */
  enqueueOperation(clusterId: string, op: NewOperation): Promise<OperationRecord>;

  // --- operations ---
  getOperation(id: string): Promise<OperationRecord | null>;
  /** Newest first. */
  listOperations(clusterId: string, limit: number, cursor?: string): Promise<Page<OperationRecord>>;
  /** Operations of the cluster that are queued or running, oldest first. */
  pendingOperations(clusterId: string): Promise<OperationRecord[]>;
  /** A queued operation becomes `cancelled` at once; a running one gets cancelRequested. Returns the updated record, or null if it was already terminal. */
  requestCancel(id: string): Promise<OperationRecord | null>;
  /** Cluster ids with queued operations, or running ones whose lane lease has expired (for the reconciler). */
  clustersNeedingWork(): Promise<string[]>;

  // --- kubeconfig reads ---
  recordKubeconfigRead(clusterId: string, readBy: string): Promise<void>;
  /** Newest first. */
  listKubeconfigReads(clusterId: string, limit: number): Promise<Array<{ readBy: string; readAt: string }>>;

  // --- events ---
  /** Events with seq > afterSeq, oldest first. */
  listEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]>;


  // --- tokens ---
  createToken(token: { name: string; team: string | null; admin: boolean; hash: string }): Promise<StoredToken>;
  findTokenByHash(hash: string): Promise<StoredToken | null>;
  countTokens(): Promise<number>;

  // --- idempotency ---
  /**
   * Claims (principal, key) for a request with this fingerprint; an in-flight claim older than staleMs may be taken over.
   * A key last changed more than `ttlMs` ago (by the database clock) is free, whatever it held, as if retention had removed it already.
   * @param ttlMs null or absent: a key is kept forever
   */
  claimIdempotencyKey(principalId: string, key: string, fingerprint: string, staleMs: number, ttlMs?: number | null): Promise<IdempotencyClaim>;
  completeIdempotencyKey(principalId: string, key: string, response: { statusCode: number; body: unknown; headers: Record<string, string> }): Promise<void>;
  /** Forgets a claim whose request failed, so that a retry runs again. */
  releaseIdempotencyKey(principalId: string, key: string): Promise<void>;
}
