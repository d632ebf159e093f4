import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { BlueprintLookup } from '../src/ports.js';
import { allClusters, type ClusterStore } from '../src/store/cluster-store.js';
import type { SupportNoticeStore } from '../src/store/support-notice-store.js';
import { clusterSupport } from '../src/versions/cluster-support.js';

export interface SupportWatchDeps {
  clusters: Pick<ClusterStore, 'listClusters'>;
  notices: SupportNoticeStore;
  blueprints: BlueprintLookup;
  /** The database's clock, ms. */
  now: () => Promise<number>;
  /** Days before the end of standard support at which `cluster.support-ending` goes out. */
  thresholdsDays: number[];
  intervalMs: number;
  /** Told when a warning was recorded: carries out the outbox entry committed with it. */
  afterNotice(): void;
  log: Logger;
}

/**
 * Warns (webhook `cluster.support-ending`, through the outbox) as each threshold before the end of
 * a cluster's standard support passes, once per cluster, version and threshold: the records decide,
 * so any number of workers may watch at once. A cluster that passed several thresholds since it was
 * last seen (one created close to the end) gets one warning, for the tightest.
 */
export function startSupportWatch(deps: SupportWatchDeps) {
  const { log } = deps;

  async function pass(stopping: AbortSignal): Promise<void> {
    const now = await deps.now();
    let recorded = 0;
    for await (const cluster of allClusters(deps.clusters, {})) {
      if (stopping.aborted) break;
      // A cluster never provisioned runs no version yet.
      if (!cluster.appliedSpec || cluster.status === 'destroyed' || cluster.status === 'destroying') continue;
      const support = clusterSupport(deps.blueprints.get(cluster.blueprint), cluster, now);
      if (!support) continue;
      const passed = deps.thresholdsDays.filter((t) => support.daysToEndOfStandardSupport <= t);
      if (!passed.length) continue;
      try {
        const { calendar: _calendar, ...data } = support;
        if ((await deps.notices.claimNotices(cluster.id, support.version, passed, data)) !== null) recorded += 1;
      } catch (err) {
        log.warn({ err, cluster: cluster.name }, 'support warning not recorded; tried again next pass');
      }
    }
    if (recorded) deps.afterNotice();
  }

  return startPeriodicLoop({ pass, intervalMs: deps.intervalMs, log, failureMessage: 'support watch pass failed' });
}
