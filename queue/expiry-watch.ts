import type { Logger } from 'pino';
import { formatDuration } from '../src/domain/duration.js';
import type { WebhookNotifier } from '../src/webhooks/notifier.js';
import type { BlueprintLookup, OperationDispatcher } from '../src/lifecycle/cluster-service.js';
import type { RecordStore } from '../src/store/record-store.js';

export interface ExpiryWatchDeps {
  store: RecordStore;
  blueprints: BlueprintLookup;
  dispatcher: OperationDispatcher;
  /** Tells subscribers (webhooks). */
  webhooks: WebhookNotifier;
  log: Logger;
  /** How long before expiry each warning goes out, in ms. */
  warningsMs: number[];
  intervalMs: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Who the destroy of an expired cluster is requested by. */
export const EXPIRY_REQUESTER = 'clusterd (expiry)';

/**
 * Warns (webhook `cluster.expiring`) as each threshold before a cluster's expiry passes, then queues
 * its destroy once it expires. Every step is claimed atomically in the records, so any number of
 * workers may watch at once; an expiry extended in between is simply no longer due.
 */
export function startExpiryWatch(deps: ExpiryWatchDeps) {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  const horizon = Math.max(0, ...deps.warningsMs);
  let running = false;

  async function warn(clusterId: string, team: string, name: string, expiresAt: string): Promise<void> {
    const left = Date.parse(expiresAt) - now();
    // Only the tightest threshold passed is announced: a cluster created 2 h before expiry gets the 1 h warning later, not a late 24 h one.
    const due = deps.warningsMs.filter((t) => left <= t).sort((a, b) => a - b)[0];
    if (due === undefined || left <= 0) return;
    if (!(await store.claimExpiryNotice(clusterId, expiresAt, due))) return;
    await deps.webhooks.publish({ type: 'cluster.expiring', team, cluster: name, data: { expiresAt, warning: formatDuration(due), secondsLeft: Math.round(left / 1000) } });
  }

  async function expire(clusterId: string, name: string, blueprintName: string, spec: Record<string, unknown>): Promise<void> {
    const issues = deps.blueprints.get(blueprintName)?.validateDestroy?.(spec) ?? [];
    if (issues.length) {
      log.warn({ cluster: name, issues }, 'expired cluster not destroyed: its blueprint refuses the destroy');
      return;
    }
    const op = await store.expireCluster(clusterId, EXPIRY_REQUESTER);
    if (!op) return;
    log.info({ cluster: name, operationId: op.id }, 'cluster expired; destroy queued');
    await deps.dispatcher.dispatch(op).catch((err) => log.warn({ err, operationId: op.id }, 'could not queue destroy now; the reconciler will'));
  }

  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const soon = await store.clustersExpiringBy(new Date(now() + horizon).toISOString(), 500);
      for (const c of soon) {
        if (!c.expiresAt || c.status === 'destroying') continue;
        if (Date.parse(c.expiresAt) <= now()) await expire(c.id, c.name, c.blueprint, c.spec);
        else await warn(c.id, c.team, c.name, c.expiresAt);
      }
    } catch (err) {
      log.warn({ err }, 'expiry pass failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer), tick };
}
