import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { ClusterRecord } from '../src/domain/cluster.js';
import type { DriftSweep } from '../src/domain/drift.js';
import { TERMINAL_STATUSES } from '../src/domain/operation.js';
import type { DriftStore } from '../src/store/drift-store.js';
import { ConflictError } from '../src/errors.js';
import type { OperationDispatcher } from '../src/ports.js';
import type { ClusterStore } from '../src/store/cluster-store.js';
import type { OperationStore } from '../src/store/operation-store.js';
import type { SweepJobData } from './names.js';

export interface SweepSettings {
  /** Drift checks queued or running at once, fleet-wide. */
  maxConcurrent: number;
  /** How often a sweep looks at its checks and at busy clusters. */
  pollMs: number;
  /** How long a sweep keeps coming back to a cluster that is busy with other operations before it skips it. */
  busyWaitMs: number;
  /** A running sweep that has not reported for this long is considered dead. */
  staleMs: number;
}

export interface SweepProcessorDeps {
  store: ClusterStore & Pick<OperationStore, 'getOperation' | 'pendingOperations'>;
  drift: DriftStore;
  dispatcher: OperationDispatcher;
  settings: SweepSettings;
  log: Logger;
  /** Aborted when the worker drains: the sweep stops queueing and ends `failed` (checks already queued still run). */
  shutdown: AbortSignal;
  /** Told when a sweep this process ran ends (for the metrics); its duration counts from this process's start of it. */
  afterSweep?: (outcome: 'succeeded' | 'failed', durationMs: number) => void;
}

/** Who the sweep's checks are requested by, as shown on the operations. */
export const SWEEP_REQUESTER = 'clusterd (drift sweep)';
// Statuses of clusters a sweep checks: the others are being changed (or gone).
const CHECKABLE = new Set(['ready', 'failed']);

/**
 * Runs one fleet sweep: one drift check per live cluster that is not being changed, never more
 * than `maxConcurrent` queued or running at once. A cluster busy with other operations is looked
 * at again later in the sweep, and skipped if it stays busy for `busyWaitMs`.
 */
export function createSweepProcessor(deps: SweepProcessorDeps) {
  const { store, drift, settings, log } = deps;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function begin(data: SweepJobData): Promise<DriftSweep | null> {
    if (data.sweepId) return drift.getSweep(data.sweepId);
    try {
      return await drift.startSweep({
        trigger: 'schedule',
        requestedBy: 'schedule',
        maxConcurrent: settings.maxConcurrent,
        staleMs: settings.staleMs,
      });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      log.info({ reason: err.message }, 'scheduled drift sweep skipped: a sweep is still running');
      return null;
    }
  }

  async function allClusters(): Promise<ClusterRecord[]> {
    const clusters: ClusterRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listClusters({ limit: 200, cursor });
      clusters.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return clusters;
  }

  async function run(sweep: DriftSweep): Promise<DriftSweep['skipped']> {
    const todo = await allClusters();
    await drift.heartbeatSweep(sweep.id, todo.length);
    const cap = sweep.maxConcurrent;
    const inFlight = new Map<string, ClusterRecord>();
    const busySince = new Map<string, number>();
    const skipped: DriftSweep['skipped'] = [];
    let waiting: ClusterRecord[] = [];

    while (todo.length || inFlight.size || waiting.length) {
      if (deps.shutdown.aborted) throw new Error('the worker running the sweep shut down');
      while (inFlight.size < cap && todo.length) {
        const cluster = todo.shift()!;
        const current = await store.getClusterById(cluster.id);
        if (!current || current.status === 'destroyed' || current.status === 'destroying') continue;
        if (!CHECKABLE.has(current.status) || (await store.pendingOperations(cluster.id)).length) {
          busySince.set(cluster.id, busySince.get(cluster.id) ?? Date.now());
          waiting.push(current);
          continue;
        }
        let op;
        try {
          op = await store.enqueueOperation(cluster.id, { kind: 'drift-check', requestedBy: SWEEP_REQUESTER, sweepId: sweep.id });
        } catch (err) {
          // Destroyed, or a destroy queued, since the look above: passed over like those.
          if (err instanceof ConflictError) continue;
          throw err;
        }
        await deps.dispatcher
          .dispatch(op)
          .catch((err) => log.warn({ err, operationId: op.id }, 'could not queue drift check now; the reconciler will'));
        inFlight.set(op.id, current);
      }
      await sleep(settings.pollMs);
      for (const [id, cluster] of inFlight) {
        const op = await store.getOperation(id);
        if (!op || !TERMINAL_STATUSES.has(op.status)) continue;
        inFlight.delete(id);
        if (op.status === 'cancelled' || op.status === 'superseded')
          skipped.push({ cluster: cluster.name, reason: `its drift check was ${op.status}` });
      }
      // Busy clusters go back on the list once the rest is under way; those busy too long are given up.
      if (!todo.length && waiting.length) {
        const now = Date.now();
        for (const c of waiting.filter((c) => now - busySince.get(c.id)! >= settings.busyWaitMs)) {
          skipped.push({ cluster: c.name, reason: `busy with other operations for ${Math.round(settings.busyWaitMs / 1000)} s` });
        }
        todo.push(...waiting.filter((c) => now - busySince.get(c.id)! < settings.busyWaitMs));
        waiting = [];
      }
      if (!(await drift.heartbeatSweep(sweep.id))) throw new Error('the sweep record is no longer running');
    }
    return skipped;
  }

  return async function processSweepJob(job: Job<SweepJobData>): Promise<void> {
    const sweep = await begin(job.data);
    if (!sweep || sweep.status !== 'running') return;
    log.info({ sweepId: sweep.id, trigger: sweep.trigger }, 'drift sweep started');
    const started = performance.now();
    try {
      const skipped = await run(sweep);
      await drift.finishSweep(sweep.id, { status: 'succeeded', skipped });
      log.info({ sweepId: sweep.id, skipped: skipped.length }, 'drift sweep finished');
      deps.afterSweep?.('succeeded', performance.now() - started);
    } catch (err) {
      await drift.finishSweep(sweep.id, { status: 'failed', skipped: [], error: (err as Error).message });
      log.error({ err, sweepId: sweep.id }, 'drift sweep failed');
      deps.afterSweep?.('failed', performance.now() - started);
    }
  };
}
