import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { ClusterRecord } from '../src/domain/cluster.js';
import { MUTATING_KINDS, type OperationRecord } from '../src/domain/operation.js';
import { ConflictError } from '../src/errors.js';
import type { RecordStore } from '../src/store/record-store.js';
import { operationEvent } from '../src/webhooks/events.js';
import type { WebhookNotifier } from '../src/webhooks/notifier.js';
import type { RunClusterJobData } from './names.js';
import { outcomeOf, settledStatus } from './outcome.js';
import { runOperation, type RunEngine } from './run-operation.js';

export interface LaneProcessorDeps {
  store: RecordStore;
  runEngine: RunEngine;
  log: Logger;
  /** Identifies this worker process in lane owners and logs. */
  workerId: string;
  /** @see Config.WORKER_LANE_LEASE_MS */
  leaseMs: number;
  /** A running operation whose worker died this many times ends `failed` instead of running again. @defaultValue 3 */
  maxAttempts?: number;
  /** Aborted when the worker drains on SIGTERM. */
  shutdown: AbortSignal;
  /** Told when a drained operation must run again later. */
  requeue(clusterId: string): Promise<void>;
  /** Called after an operation is recorded finished (drift reports, webhooks); must not throw. */
  onFinished?(operation: OperationRecord, cluster: ClusterRecord): Promise<void>;
  /** Told of every operation that ends succeeded, failed or cancelled. @defaultValue none */
  webhooks?: WebhookNotifier;
}

/** Error codes of runs that ended without the engine finishing cleanly. */
// Not 'stack-locked': that lock may belong to a live process (an operator's CLI), which is never broken.
const INTERRUPTED_CODES = new Set(['engine-killed', 'engine-crashed', 'worker-child-died', 'worker-died']);

/**
 * The head of a cluster's pending operations, with the queued updates it replaces: consecutive
 * queued updates coalesce into the newest one (which carries the newest desired spec). Any other
 * kind ends the run, so a destroy is never swallowed. Queued drift checks of a sweep go after
 * everything else: they only read, so running them later changes no outcome and delays nobody.
 */
export function nextBatch(all: OperationRecord[]): { run: OperationRecord; superseded: OperationRecord[] } | null {
  const background = (o: OperationRecord) => Boolean(o.sweepId) && o.status === 'queued';
  const pending = [...all.filter((o) => !background(o)), ...all.filter(background)];
  const head = pending[0];
  if (!head) return null;
  if (head.kind !== 'update' || head.status !== 'queued') return { run: head, superseded: [] };
  let end = 0;
  while (pending[end + 1]?.kind === 'update' && pending[end + 1]?.status === 'queued') end++;
  return { run: pending[end]!, superseded: pending.slice(0, end) };
}

/**
 * The BullMQ processor. A job only says "cluster X may have work": the processor takes the
 * cluster's lane (a lease in the record store), then runs the cluster's pending operations in
 * acceptance order until none is left. A job that finds the lane taken waits (delayed) until the
 * lease would expire: the holder normally runs its operation first, and if the holder died the
 * job takes over once its lease has lapsed.
 */
export function createLaneProcessor(deps: LaneProcessorDeps) {
  const maxAttempts = deps.maxAttempts ?? 3;
  const { store, log } = deps;

  /** After the outcome is recorded; a failure to notify is logged and never touches the operation. */
  async function announce(op: OperationRecord, cluster: ClusterRecord | null): Promise<void> {
    const event = operationEvent(op, cluster);
    if (!deps.webhooks || !event) return;
    await deps.webhooks.publish(event).catch((err: unknown) => log.error({ err, operationId: op.id }, 'could not publish operation event'));
  }

  /** Runs the cluster's pending operations until none is left, the worker drains, or the lane is lost. */
  async function drainLane(clusterId: string, owner: string): Promise<'empty' | 'shutdown' | 'lane-lost'> {
    for (;;) {
      if (deps.shutdown.aborted) return 'shutdown';
      const batch = nextBatch(await store.pendingOperations(clusterId));
      if (!batch) return 'empty';
      const { run, superseded } = batch;
      if (superseded.length) {
        await store.supersede(superseded.map((o) => o.id), run.id);
        log.info({ clusterId, operationId: run.id, superseded: superseded.map((o) => o.id) }, 'coalesced queued updates');
      }
      if (run.status === 'running' && run.attempts >= maxAttempts) {
        await failDeadRun(run);
        continue;
      }
      if ((await runOne(run, owner, await needsRecovery(run))) === 'lane-lost') return 'lane-lost';
    }
  }

  /**
   * A run that started before and did not finish (worker died, drained and requeued), or a previous
   * run on this cluster that was cancelled or killed, may have left a lock or pending operations in
   * the state. Its processes are dead by now (a child kills its tree before it reports), so the
   * recovery breaks nothing alive.
   */
  async function needsRecovery(run: OperationRecord): Promise<boolean> {
    // A read-only run that stopped (a check that yielded, say) took no lock and wrote nothing.
    if (run.attempts > 0 && MUTATING_KINDS.has(run.kind)) return true;
    const { items } = await store.listOperations(run.clusterId, 10);
    const previous = items.find((o) => o.id !== run.id && o.startedAt && o.finishedAt);
    if (!previous) return false;
    return previous.status === 'cancelled' || (previous.status === 'failed' && INTERRUPTED_CODES.has(previous.error?.code ?? ''));
  }

  async function failDeadRun(op: OperationRecord): Promise<void> {
    const cluster = await store.getClusterById(op.clusterId);
    const error = {
      code: 'worker-died',
      title: `The worker running this operation stopped ${op.attempts} times`,
      detail: 'Each attempt ended without a result (the worker process was killed or lost its lease). Check the workers\' memory limits and logs, then retry the request.',
    };
    const finished = await store.finishOperation(op.id, { status: 'failed', summary: null, outputs: null, error, cluster: cluster ? outcomeOf(op, cluster, { status: 'failed', summary: null, outputs: null, error }).cluster : {} });
    await announce(finished, cluster);
  }

  async function runOne(queued: OperationRecord, owner: string, recover: boolean): Promise<'done' | 'lane-lost'> {
    let op: OperationRecord;
    try {
      op = await store.startOperation(queued.id);
    } catch (err) {
      // Cancelled between being listed and being started: it must not run; look at the next one.
      if (err instanceof ConflictError) return 'done';
      throw err;
    }
    const cluster = await store.getClusterById(op.clusterId);
    if (!cluster) throw new Error(`cluster ${op.clusterId} of operation ${op.id} is missing`);
    log.info({ operationId: op.id, cluster: cluster.name, kind: op.kind, attempt: op.attempts, recover }, 'operation started');
    const { result, stoppedFor } = await runOperation(
      { store, runEngine: deps.runEngine, log, leaseMs: deps.leaseMs },
      { cluster, operation: op, laneOwner: owner, recover, shutdown: deps.shutdown },
    );
    if (stoppedFor === 'lease-lost') {
      // Another worker may hold the lane now and will recover this operation: write nothing more.
      log.error({ operationId: op.id }, 'lane lease lost; operation stopped and left to the next lane holder');
      return 'lane-lost';
    }
    if (stoppedFor === 'shutdown' || stoppedFor === 'yield') {
      // Not the caller's doing: the operation runs again (recovering the stack) on the next lane holder.
      await store.requeueOperation(op.id);
      log.warn({ operationId: op.id, reason: stoppedFor }, 'operation stopped and requeued');
      return 'done';
    }
    const finished = await store.finishOperation(op.id, outcomeOf(op, cluster, result));
    log.info({ operationId: op.id, status: result.status, error: result.error?.code }, 'operation finished');
    await announce(finished, cluster);
    if (deps.onFinished) await deps.onFinished(finished, (await store.getClusterById(op.clusterId)) ?? cluster);
    return 'done';
  }

  return async function processLaneJob(job: Job<RunClusterJobData>, token?: string): Promise<void> {
    const { clusterId } = job.data;
    const owner = `${deps.workerId}/${job.id}`;
    if (!(await store.acquireLane(clusterId, owner, deps.leaseMs))) {
      const expiresAt = (await store.laneExpiresAt(clusterId))?.getTime() ?? Date.now();
      await job.moveToDelayed(Math.max(expiresAt, Date.now()) + 250, token);
      throw new DelayedError();
    }
    try {
      // Release, then look again: work accepted while this lane was closing is never stranded.
      do {
        const ended = await drainLane(clusterId, owner);
        // Another worker holds the lane now and recovers what this one left: touch nothing.
        if (ended === 'lane-lost') return;
        if (ended === 'shutdown') {
          await store.releaseLane(clusterId, owner);
          await deps.requeue(clusterId);
          return;
        }
        await settle(clusterId);
        await store.releaseLane(clusterId, owner);
      } while ((await store.pendingOperations(clusterId)).length > 0 && (await store.acquireLane(clusterId, owner, deps.leaseMs)));
    } catch (err) {
      await store.releaseLane(clusterId, owner).catch(() => undefined);
      throw err;
    }
  };

  async function settle(clusterId: string): Promise<void> {
    if ((await store.pendingOperations(clusterId)).length) return;
    const cluster = await store.getClusterById(clusterId);
    const status = cluster && settledStatus(cluster);
    if (status) await store.setClusterStatus(clusterId, status);
  }
}
