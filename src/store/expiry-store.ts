import type { ClusterRecord } from '../domain/cluster.js';
import type { OperationRecord } from '../domain/operation.js';

/** Where a page of {@link ExpiryStore.expiryDue} ended; the next page starts right after it. Opaque to callers. */
export interface ExpiryCursor {
  /** The last cluster's expiry in the database's exact text form (microseconds kept). */
  expiresAt: string;
  id: string;
}

/** What is due for one cluster now, by the database's clock. */
export type ExpiryDue =
  | { kind: 'expire'; cluster: ClusterRecord }
  | {
      kind: 'warn';
      cluster: ClusterRecord;
      /** The tightest warning threshold already passed (ms before expiry): the one to announce. */
      thresholdMs: number;
      /** Time left until the expiry, in ms (positive). */
      msLeft: number;
    };

export interface ExpiryPage {
  items: ExpiryDue[];
  /** Null once this page was the last one. */
  next: ExpiryCursor | null;
}

/** What queuing the destroy of an expired cluster came to. */
export type ExpireOutcome =
  | { outcome: 'queued'; operation: OperationRecord }
  /** A destroy was tried since the cluster expired: it is not repeated (a failed one is for a person to look at). */
  | { outcome: 'already-tried' }
  /** Not (or no longer) due: not expired, destroyed, settled, or a destroy is pending. */
  | { outcome: 'not-due' };

/**
 * What the expiry watch reads and claims. Every comparison with the present is made by the
 * database's clock (`now()`), the one clock all processes share.
 *
 * An expiry is *settled* once nothing more will be done for it at the cluster's current spec: its
 * destroy was queued, a destroy was already tried since it, or its blueprint refuses the destroy. A new
 * expiry or a new spec (generation) re-arms it. Settled expiries are never read again.
 */
export interface ExpiryStore {
  /**
   * Clusters for which something is due now, by expiry then id, after `after`, at most `limit`:
   * `expire` for an expired cluster whose expiry is not settled and that has no destroy pending;
   * `warn` for a cluster not yet expired with less time left than some threshold of `warningsMs`,
   * when the tightest such threshold has not been announced for its current expiry.
   */
  expiryDue(warningsMs: readonly number[], limit: number, after?: ExpiryCursor): Promise<ExpiryPage>;
  /**
   * Records that the warning `thresholdMs` before expiry went out for the cluster's current expiresAt.
   * False when it already had (another process sent it), expiresAt changed meanwhile, or it has passed.
   */
  claimExpiryNotice(clusterId: string, expiresAt: string, thresholdMs: number): Promise<boolean>;
  /**
   * Queues the destroy of an expired cluster and settles its expiry, in one transaction: only if it is
   * live, its expiresAt has passed, its expiry is not settled and no destroy is pending. A destroy
   * already tried since it expired settles the expiry and queues nothing.
   */
  expireCluster(clusterId: string, requestedBy: string): Promise<ExpireOutcome>;
  /**
   * Settles the expiry of a cluster whose blueprint refuses its destroy, as long as its expiresAt and
   * generation are still the ones that were judged. True for the one call that settled it.
   */
  settleRefusedExpiry(clusterId: string, expiresAt: string, generation: number): Promise<boolean>;
}
