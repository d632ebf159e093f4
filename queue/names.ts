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

/** Fleet drift sweeps: one job per sweep, from the schedule or from POST /v1/drift/sweeps. */
export const SWEEPS_QUEUE = 'drift-sweeps';
export const SWEEP_JOB = 'drift-sweep';
/** The one job scheduler of the nightly sweep (upserting it again replaces it, never duplicates it). */
export const SWEEP_SCHEDULER_ID = 'fleet-drift-sweep';

export interface SweepJobData {
  /** Set when the API already recorded the sweep (manual); a scheduled job records its own. */
  sweepId?: string;
}

/** The BullMQ queue of webhook deliveries, apart from the operations so that neither delays the other. */
export const WEBHOOKS_QUEUE = 'webhooks';

export const DELIVER_WEBHOOK_JOB = 'deliver';

/** Only the id: the payload and the signing secret are read from the records when the job runs. */
export interface DeliverWebhookJobData {
  deliveryId: string;
}
