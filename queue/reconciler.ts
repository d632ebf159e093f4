import type { Logger } from 'pino';
import type { OperationStore } from '../src/store/operation-store.js';

/**
 * Finds clusters whose accepted work has no live job (Redis lost its data, a process died
 * between recording and queueing, a worker died holding the lane) and wakes their lanes.
 * The records are the truth; the queue only carries wake-up calls, so this makes every
 * accepted request run eventually.
 */
export function startReconciler(deps: { store: Pick<OperationStore, 'clustersNeedingWork'>; wake(clusterId: string): Promise<void>; intervalMs: number; log: Logger }) {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      for (const clusterId of await deps.store.clustersNeedingWork()) await deps.wake(clusterId);
    } catch (err) {
      deps.log.warn({ err }, 'reconcile pass failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, deps.intervalMs);
  void tick();
  return { stop: () => clearInterval(timer), tick };
}
