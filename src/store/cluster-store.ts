import type { ClusterRecord, ClusterStatus, DriftPolicy } from '../domain/cluster.js';
import type { OperationKind, OperationRecord } from '../domain/operation.js';
import type { MaintenancePolicy } from '../domain/maintenance.js';
import type { Page } from '../domain/page.js';
import type { TeamPolicy } from '../domain/team-policy.js';

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
  /** Its own maintenance policy; null or absent: its team's. */
  maintenance?: MaintenancePolicy | null;
  /** What its spec may grow to (the sum of its pools' maximum sizes), held against the team's quota. @defaultValue 0 */
  nodeCapacity?: number;
}

/**
 * Decides a new cluster against its team's policy (null: none) as it is recorded: returns the cluster
 * to record, or throws. The same team's creates and growths wait for each other meanwhile.
 */
export type AdmitCluster = (policy: TeamPolicy | null) => NewCluster;

export interface NewOperation {
  kind: OperationKind;
  requestedBy: string;
  /** The token that asked; absent or null when the service did. */
  requestedByTokenId?: string | null;
  /** The drift sweep queueing this check. */
  sweepId?: string;
  /** Start it only inside the cluster's maintenance window. @defaultValue false */
  respectMaintenance?: boolean;
}

/** Cluster settings that change without an operation. */
export interface ClusterSettings {
  driftPolicy?: DriftPolicy;
  /** A new expiry (resets the warnings already sent), or null for none. */
  expiresAt?: string | null;
  /** Its own maintenance policy, or null to follow its team's. */
  maintenance?: MaintenancePolicy | null;
}

/** A new desired spec (sealed), the labels that replace the cluster's (if given), and what the spec may grow to (if known). */
export interface DesiredSpec {
  spec: Record<string, unknown>;
  labels?: Record<string, string>;
  /** The sum of its pools' maximum sizes, held against the team's quota. */
  nodeCapacity?: number;
}

/** What a change sets: its settings, and with `update` a new desired spec and the update that applies it. */
export interface ClusterChange {
  settings: ClusterSettings;
  update?: DesiredSpec;
}

/**
 * Decides a change from the cluster as it is under its row's lock and from its team's policy then
 * (null: none); throws to refuse. Requests changing the same cluster wait for each other meanwhile,
 * so each is decided on what the one before it recorded.
 */
export type DecideChange = (cluster: ClusterRecord, policy: TeamPolicy | null) => ClusterChange;

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

/**
 * Clusters, and the operations queued on them: a new operation is recorded with the cluster's desired
 * spec under the cluster row's lock. Every method is atomic.
 */
export interface ClusterStore {
  /**
   * Inserts the cluster (status `provisioning`, generation 1) and its provision operation. With
   * `admit`, the cluster recorded is the one it returns for the team's policy in force under the
   * team's lock (it throws to refuse). Throws ConflictError if a live cluster has that name,
   * PolicyError if the team's quota has no room for it.
   */
  createCluster(draft: NewCluster, op: NewOperation, admit?: AdmitCluster): Promise<{ cluster: ClusterRecord; operation: OperationRecord }>;
  /** The live cluster of that name, else the most recently destroyed one, else null. */
  getCluster(name: string): Promise<ClusterRecord | null>;
  getClusterById(id: string): Promise<ClusterRecord | null>;
  listClusters(filter: ClusterFilter): Promise<Page<ClusterRecord>>;
  /**
   * Changes the cluster as `decide` says, atomically: applies the settings and, with `update`, sets a
   * new desired spec (generation + 1) and queues an `update` operation carrying it (`operation` null
   * otherwise). Throws NotFoundError for an unknown cluster, ConflictError for a destroyed one or one
   * with a destroy pending, PolicyError when the new spec grows the team past its quota.
   */
  changeCluster(
    clusterId: string,
    decide: DecideChange,
    op: Omit<NewOperation, 'kind'>,
  ): Promise<{ cluster: ClusterRecord; operation: OperationRecord | null }>;
  /**
   * Queues an operation of any other kind with the cluster's current desired spec and generation.
   * `destroy` also sets status `destroying`. ConflictError for a destroyed cluster or one with a destroy pending.
   * `check` sees the cluster as it is under its row's lock before anything is written, and throws to refuse.
   */
  enqueueOperation(clusterId: string, op: NewOperation, check?: (cluster: ClusterRecord) => void): Promise<OperationRecord>;
}

/** Every cluster `filter` selects, page by page (200 a statement), in name order. */
export async function* allClusters(
  store: Pick<ClusterStore, 'listClusters'>,
  filter: Omit<ClusterFilter, 'limit' | 'cursor'>,
): AsyncGenerator<ClusterRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listClusters({ ...filter, limit: 200, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
