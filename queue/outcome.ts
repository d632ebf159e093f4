import type { ClusterRecord, ClusterStatus } from '../src/domain/cluster.js';
import { driftFindings } from '../src/domain/drift.js';
import { specToRun, type OperationRecord } from '../src/domain/operation.js';
import { interruptedTheEngine } from '../src/domain/operation-error.js';
import { assertNever } from '../src/domain/assert-never.js';
import type { EngineResult } from '../src/engine/engine.js';
import type { OperationOutcome } from '../src/store/lane-store.js';

/** Whether the engine ended leaving the stack unlocked with no pending operations (a cancel may leave either). */
export function leftStackClean(result: Pick<EngineResult, 'status' | 'error'>): boolean {
  return result.status === 'succeeded' || (result.status === 'failed' && !(result.error && interruptedTheEngine(result.error.code)));
}

/** What a finished run means for its cluster: status, the applied spec and outputs. */
export function outcomeOf(op: OperationRecord, cluster: ClusterRecord, result: EngineResult): OperationOutcome {
  const base = {
    status: result.status,
    summary: result.summary,
    outputs: result.outputs,
    error: result.error,
    stackClean: leftStackClean(result),
  };
  const ok = result.status === 'succeeded';
  switch (op.kind) {
    case 'provision':
    case 'update':
    case 'remediate':
      return ok
        ? {
            ...base,
            cluster: { status: 'ready', appliedSpec: specToRun(op), appliedGeneration: op.generation, outputs: result.outputs ?? {} },
          }
        : { ...base, cluster: { status: 'failed' } };
    case 'destroy':
      return ok ? { ...base, cluster: { status: 'destroyed', outputs: {} } } : { ...base, cluster: { status: 'failed' } };
    case 'refresh':
      return ok && result.outputs ? { ...base, cluster: { outputs: result.outputs } } : { ...base, cluster: {} };
    case 'preview':
      return { ...base, cluster: {} };
    case 'drift-check': {
      const findings = driftFindings(result);
      return findings ? { ...base, cluster: {}, driftReport: findings } : { ...base, cluster: {} };
    }
    default:
      return assertNever(op.kind, 'operation kind');
  }
}

/**
 * The status a cluster settles to when its lane has nothing left to run, for statuses that
 * promise work in progress (a queued provision or destroy may have been cancelled).
 */
export function settledStatus(cluster: ClusterRecord): ClusterStatus | null {
  if (cluster.status === 'provisioning' || cluster.status === 'updating' || cluster.status === 'destroying') {
    return cluster.appliedGeneration !== null ? 'ready' : 'failed';
  }
  return null;
}
