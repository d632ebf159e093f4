import type { Logger } from 'pino';
import { formatDuration } from '../src/domain/duration.js';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { WebhookNotifier } from '../src/webhooks/notifier.js';
import type { BlueprintLookup, OperationDispatcher } from '../src/ports.js';
import type { ExpiryCursor, ExpiryDue, ExpiryStore } from '../src/store/expiry-store.js';

export interface ExpiryWatchDeps {
  store: ExpiryStore;
  blueprints: BlueprintLookup;
  dispatcher: OperationDispatcher;
  /** Tells subscribers (webhooks). */
  webhooks: WebhookNotifier;
  log: Logger;
  /** How long before expiry each warning goes out, in ms. */
  warningsMs: number[];
  /** Pause between two passes, in ms. */
  intervalMs: number;
  /** Clusters read per statement; a pass pages through everything due. @defaultValue 500 */
  batchSize?: number;
}

/** Who the destroy of an expired cluster is requested by. */
export const EXPIRY_REQUESTER = 'clusterd (expiry)';

/**
 * Warns (webhook `cluster.expiring`) as each threshold before a cluster's expiry passes, then queues
 * its destroy once it expires. The records decide what is due, by the database's clock, and every
 * step is claimed atomically there, so any number of workers may watch at once; an expiry extended in
 * between is simply no longer due. A pass reads only clusters for which something is due and pages
 * through all of them, so clusters it cannot destroy (the blueprint refuses, a destroy is pending or
 * already failed since the expiry) never hold back the others: a refusal is announced once
 * (`cluster.expiry-refused`) and the expiry settled, a failed destroy settles it too.
 */
export function startExpiryWatch(deps: ExpiryWatchDeps) {
  const { store, log } = deps;
  const batchSize = deps.batchSize ?? 500;

  async function warn(due: Extract<ExpiryDue, { kind: 'warn' }>): Promise<void> {
    const { cluster, thresholdMs, msLeft } = due;
    // Only the tightest threshold passed is announced: a cluster created 2 h before expiry gets the 1 h warning later, not a late 24 h one.
    if (!(await store.claimExpiryNotice(cluster.id, cluster.expiresAt!, thresholdMs))) return;
    await deps.webhooks.publish({
      type: 'cluster.expiring',
      team: cluster.team,
      cluster: cluster.name,
      data: { expiresAt: cluster.expiresAt, warning: formatDuration(thresholdMs), secondsLeft: Math.round(msLeft / 1000) },
    });
  }

  async function expire({ cluster }: Extract<ExpiryDue, { kind: 'expire' }>): Promise<void> {
    const issues = deps.blueprints.get(cluster.blueprint)?.validateDestroy?.(cluster.spec) ?? [];
    if (issues.length) {
      if (!(await store.settleRefusedExpiry(cluster.id, cluster.expiresAt!, cluster.generation))) return;
      log.warn(
        { cluster: cluster.name, issues },
        'expired cluster not destroyed: its blueprint refuses the destroy; left as is until its spec or expiry changes',
      );
      await deps.webhooks.publish({
        type: 'cluster.expiry-refused',
        team: cluster.team,
        cluster: cluster.name,
        data: {
          expiresAt: cluster.expiresAt,
          generation: cluster.generation,
          issues: issues.map(({ field, rule, message }) => ({ field, rule, message })),
        },
      });
      return;
    }
    const result = await store.expireCluster(cluster.id, EXPIRY_REQUESTER);
    if (result.outcome === 'already-tried')
      log.info({ cluster: cluster.name }, 'expired cluster not destroyed again: a destroy was tried since it expired');
    if (result.outcome !== 'queued') return;
    const op = result.operation;
    log.info({ cluster: cluster.name, operationId: op.id }, 'cluster expired; destroy queued');
    await deps.dispatcher
      .dispatch(op)
      .catch((err) => log.warn({ err, operationId: op.id }, 'could not queue destroy now; the reconciler will'));
  }

  async function pass(stopping: AbortSignal): Promise<void> {
    let after: ExpiryCursor | undefined;
    do {
      const page = await store.expiryDue(deps.warningsMs, batchSize, after);
      for (const due of page.items) {
        if (stopping.aborted) return;
        // One cluster's failure (a webhook store hiccup, a lost race) must not hold back the rest of the pass.
        try {
          await (due.kind === 'expire' ? expire(due) : warn(due));
        } catch (err) {
          log.warn({ err, cluster: due.cluster.name }, 'expiry step failed; tried again next pass');
        }
      }
      after = page.next ?? undefined;
    } while (after && !stopping.aborted);
  }

  // Stopping ends a pass under way after the cluster it is at.
  return startPeriodicLoop({ pass, intervalMs: deps.intervalMs, log, failureMessage: 'expiry pass failed' });
}
