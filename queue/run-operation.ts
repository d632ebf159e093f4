import type { Logger } from 'pino';
import type { ClusterRecord } from '../src/domain/cluster.js';
import { specToRun, type OperationRecord } from '../src/domain/operation.js';
import type { EngineEvent, EngineRequest, EngineResult } from '../src/engine/engine.js';
import type { RecordStore } from '../src/store/record-store.js';
import { EventBuffer } from './event-buffer.js';

/** Runs one engine request somewhere (a child process in production); abort cancels it. */
export type RunEngine = (request: EngineRequest, options: { onEvent(e: EngineEvent): void; signal: AbortSignal }) => Promise<EngineResult>;

/** Why a run was stopped before it finished. `yield`: a sweep's drift check made way for someone's operation. */
export type StopReason = 'cancel' | 'lease-lost' | 'shutdown' | 'yield';

export interface RunOperationDeps {
  store: RecordStore;
  runEngine: RunEngine;
  log: Logger;
  /** Lease of the cluster lane; renewed every third of it. */
  leaseMs: number;
  /** How often the record is checked for a cancel request. @defaultValue 1000 */
  cancelPollMs?: number;
}

export interface RunOperationArgs {
  cluster: ClusterRecord;
  operation: OperationRecord;
  laneOwner: string;
  /** Set when a previous attempt died mid-run. */
  recover: boolean;
  /** Aborted by the worker on shutdown. */
  shutdown: AbortSignal;
}

/**
 * Runs one operation while holding the cluster's lane: renews the lease, watches for a cancel
 * request, streams events into the record store, and stops the engine if the lease is lost
 * (another worker may take the cluster over only after this run is certainly dead).
 */
export async function runOperation(deps: RunOperationDeps, args: RunOperationArgs): Promise<{ result: EngineResult; stoppedFor: StopReason | null }> {
  const { store, log } = deps;
  const { cluster, operation, laneOwner } = args;
  const abort = new AbortController();
  let stoppedFor: StopReason | null = null;
  const stop = (reason: StopReason) => {
    if (stoppedFor) return;
    stoppedFor = reason;
    log.info({ operationId: operation.id, reason }, 'stopping operation');
    abort.abort(reason);
  };
  const onShutdown = () => stop('shutdown');
  args.shutdown.addEventListener('abort', onShutdown);
  if (args.shutdown.aborted) onShutdown();

  const renew = setInterval(async () => {
    try {
      if (!(await store.renewLane(cluster.id, laneOwner, deps.leaseMs))) stop('lease-lost');
    } catch (err) {
      log.warn({ err, clusterId: cluster.id }, 'lane renewal failed');
    }
  }, Math.floor(deps.leaseMs / 3));
  const watchCancel = setInterval(async () => {
    try {
      const current = await store.getOperation(operation.id);
      if (current?.cancelRequested) stop('cancel');
      // A background check never delays what a person asked for: it stops and runs again after.
      else if (operation.sweepId && (await store.pendingOperations(cluster.id)).some((o) => o.id !== operation.id && !o.sweepId)) stop('yield');
    } catch (err) {
      log.warn({ err, operationId: operation.id }, 'cancel check failed');
    }
  }, deps.cancelPollMs ?? 1000);

  const events = new EventBuffer((batch) => store.appendEvents(operation.id, batch), log);
  try {
    await events.push({ type: 'status', data: { status: 'running', attempt: operation.attempts, recover: args.recover } });
    const request: EngineRequest = {
      operationId: operation.id,
      kind: operation.kind,
      stackName: cluster.name,
      blueprint: cluster.blueprint,
      spec: specToRun(operation),
      context: { clusterName: cluster.name, team: cluster.team, labels: cluster.labels },
      recover: args.recover,
    };
    const result = await deps.runEngine(request, { onEvent: (e) => void events.push(e), signal: abort.signal });
    await events.push({ type: 'status', data: { status: result.status, error: result.error?.title ?? null } });
    return { result, stoppedFor };
  } finally {
    clearInterval(renew);
    clearInterval(watchCancel);
    args.shutdown.removeEventListener('abort', onShutdown);
    await events.close();
  }
}
