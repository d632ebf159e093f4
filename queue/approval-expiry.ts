import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { ApprovalStore } from '../src/store/approval-store.js';

/**
 * Ends the waits for approval that nobody answered in time (`failed`, approval-expired), then wakes
 * their clusters' lanes, which the waits held, and carries out their outbox entries. Any number of
 * workers may run it: each wait ends once, under its row's lock.
 */
export function startApprovalExpiry(deps: {
  approvals: Pick<ApprovalStore, 'expireDue'>;
  wake(clusterId: string): Promise<void>;
  afterExpiry(operationId: string): Promise<void>;
  intervalMs: number;
  log: Logger;
}) {
  return startPeriodicLoop({
    pass: async () => {
      for (const op of await deps.approvals.expireDue()) {
        deps.log.info({ operationId: op.id, cluster: op.clusterName }, 'approval expired; operation failed without running');
        await deps.afterExpiry(op.id);
        await deps.wake(op.clusterId);
      }
    },
    intervalMs: deps.intervalMs,
    log: deps.log,
    failureMessage: 'approval expiry pass failed',
  });
}
