import type { Logger } from 'pino';
import type { ClusterRecord } from '../src/domain/cluster.js';
import type { OperationRecord } from '../src/domain/operation.js';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { ApprovalStep, EngineEvent, EngineRequest, EngineResult } from '../src/engine/engine.js';
import type { LaneStore } from '../src/store/lane-store.js';
import type { OperationStore } from '../src/store/operation-store.js';
import { EventBuffer } from './event-buffer.js';
import type { LaneLease } from './lane-lease.js';

/**
 * Runs one engine request somewhere (a child process in production). Aborting `signal` cancels it
 * gracefully; aborting `kill` stops it at once (its processes are killed before the promise settles).
 * `msUntilKill` says how long until `kill` would fire: a runner whose processes may outlive this one
 * (a child process when the worker dies) must have them stopped by then.
 */
export type RunEngine = (
  request: EngineRequest,
  options: { onEvent(e: EngineEvent): void; signal: AbortSignal; kill: AbortSignal; msUntilKill(): number },
) => Promise<EngineResult>;

/** Why a run was stopped before it finished. `yield`: a sweep's drift check made way for someone's operation. */
export type StopReason = 'cancel' | 'lease-lost' | 'shutdown' | 'yield';

export interface RunOperationDeps {
  store: Pick<OperationStore, 'getOperation' | 'pendingOperations'>;
  lanes: Pick<LaneStore, 'appendEvents'>;
  runEngine: RunEngine;
  log: Logger;
  /** How often the record is checked for a cancel request. @defaultValue 1000 */
  cancelPollMs?: number;
}

export interface RunOperationArgs {
  cluster: ClusterRecord;
  operation: OperationRecord;
  /** The spec to apply, its write-only fields opened (in memory only, and over IPC to the job's child). */
  spec: Record<string, unknown>;
  /** The lane this run holds, kept renewed by the caller; its warnings stop the engine. */
  lease: LaneLease;
  /** Set when an earlier run on the stack did not end cleanly. */
  recover: boolean;
  /** Aborted by the worker on shutdown. */
  shutdown: AbortSignal;
  /** The step of its approval this run is, when it has one. */
  approval?: ApprovalStep;
}

/**
 * Whether a sweep's running check must make way: another operation that is not a sweep's waits and
 * could run now. One that waits for a maintenance window or for an approval cannot: yielding to it
 * would only start the check again, and again.
 */
export function mustYield(check: Pick<OperationRecord, 'id'>, pending: OperationRecord[]): boolean {
  return pending.some((o) => o.id !== check.id && !o.sweepId && o.waitingFor === null && o.status !== 'awaiting-approval');
}

/**
 * Runs one operation while its cluster's lane is held: watches for a cancel request, streams events
 * into the record store, and stops the engine when the lease is at risk (killing it before the lease
 * can lapse, so that whoever takes the lane over next never meets a live engine).
 */
export async function runOperation(
  deps: RunOperationDeps,
  args: RunOperationArgs,
): Promise<{ result: EngineResult; stoppedFor: StopReason | null }> {
  const { store, log } = deps;
  const { cluster, operation, lease } = args;
  const abort = new AbortController();
  let stoppedFor: StopReason | null = null;
  const stop = (reason: StopReason) => {
    if (stoppedFor) return;
    stoppedFor = reason;
    log.info({ operationId: operation.id, reason }, 'stopping operation');
    abort.abort(reason);
  };
  const onShutdown = () => stop('shutdown');
  const onRisk = () => stop('lease-lost');
  args.shutdown.addEventListener('abort', onShutdown);
  lease.atRisk.addEventListener('abort', onRisk);
  if (lease.atRisk.aborted) onRisk();
  else if (args.shutdown.aborted) onShutdown();

  // One check at a time: a store that does not answer must not collect a backlog of them.
  const cancelChecks = startPeriodicLoop({
    pass: async (ended) => {
      const current = await store.getOperation(operation.id);
      if (ended.aborted) return;
      if (current?.cancelRequested) stop('cancel');
      // A background check never delays what a person asked for: it stops and runs again after.
      else if (operation.sweepId && mustYield(operation, await store.pendingOperations(cluster.id))) stop('yield');
    },
    intervalMs: deps.cancelPollMs ?? 1000,
    runNow: false,
    log: log.child({ operationId: operation.id }),
    failureMessage: 'cancel check failed',
  });

  const events = new EventBuffer((batch) => deps.lanes.appendEvents(lease.hold, operation.id, batch), log);
  try {
    void events.push({ type: 'status', data: { status: 'running', attempt: operation.attempts, recover: args.recover } });
    const request: EngineRequest = {
      operationId: operation.id,
      kind: operation.kind,
      stackName: cluster.name,
      blueprint: cluster.blueprint,
      spec: args.spec,
      context: { clusterName: cluster.name, team: cluster.team, labels: cluster.labels },
      recover: args.recover,
      ...(args.approval ? { approval: args.approval } : {}),
    };
    const result = await deps.runEngine(request, {
      onEvent: (e) => void events.push(e),
      signal: abort.signal,
      kill: lease.mustBeDead,
      msUntilKill: () => lease.msUntilKill(),
    });
    // A plan that ran is not the end of the operation: what follows it (a wait for approval, or the apply) says so.
    const planned = args.approval?.step === 'plan' && result.status === 'succeeded';
    if (stoppedFor !== 'lease-lost')
      await events.push({ type: 'status', data: { status: planned ? 'planned' : result.status, error: result.error?.title ?? null } });
    return { result, stoppedFor };
  } finally {
    // Not waited for: a check under way may hang on a store that does not answer, and its answer no longer matters.
    void cancelChecks.stop();
    args.shutdown.removeEventListener('abort', onShutdown);
    lease.atRisk.removeEventListener('abort', onRisk);
    // A holder that lost its lane does not wait on a store that may not answer; whatever it still writes is fenced.
    if (stoppedFor !== 'lease-lost') await events.close();
  }
}
