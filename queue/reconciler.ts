import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { OperationStore } from '../src/store/operation-store.js';

/**
 * Finds clusters whose accepted work has no live job (Redis lost its data, a process died
 * between recording and queueing, a worker died holding the lane) and wakes their lanes.
 * The records are the truth; the queue only carries wake-up calls, so this makes every
 * accepted request run eventually.
 */
export function startReconciler(deps: {
  store: Pick<OperationStore, 'clustersNeedingWork'>;
  wake(clusterId: string): Promise<void>;
  intervalMs: number;
  log: Logger;
}) {
  return startPeriodicLoop({
    pass: async () => {
      for (const clusterId of await deps.store.clustersNeedingWork()) await deps.wake(clusterId);
    },
    intervalMs: deps.intervalMs,
    log: deps.log,
    failureMessage: 'reconcile pass failed',
  });
}
