/** The one BullMQ queue of cluster operations. */
export const OPERATIONS_QUEUE = 'operations';

/** A job is a wake-up call for a cluster's lane: the records, not the job, say what to run next. */
export const RUN_CLUSTER_JOB = 'run-cluster';

export interface RunClusterJobData {
  clusterId: string;
  /** The operation whose acceptance queued this job (absent for reconciler wake-ups). */
  operationId?: string;
}

/**
 * BullMQ priorities: lower runs first. People's requests go before inspections
 * so that background checks never delay an operation someone asked for.
 */
export const PRIORITY = { user: 1, inspection: 5 } as const;
