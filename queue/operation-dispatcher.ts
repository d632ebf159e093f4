import { SpanKind } from '@opentelemetry/api';
import type { Queue } from 'bullmq';
import { assertNever } from '../src/domain/assert-never.js';
import type { OperationKind, OperationRecord } from '../src/domain/operation.js';
import type { OperationDispatcher } from '../src/ports.js';
import { activeContextOr, inSpan, operationAttributes } from '../src/tracing/tracing.js';
import { OPERATIONS_QUEUE, PRIORITY, RUN_CLUSTER_JOB, type RunClusterJobData } from './names.js';

const jobOptions = {
  // Lane contention is handled by delaying the job, not by failing it; these attempts only cover Redis hiccups.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** The queue priority of an operation of this kind: inspections go after what people asked to change (see PRIORITY). */
function priorityOf(kind: OperationKind): number {
  switch (kind) {
    case 'drift-check':
      return PRIORITY.inspection;
    case 'provision':
    case 'update':
    case 'destroy':
    case 'preview':
    case 'refresh':
    case 'remediate':
      return PRIORITY.user;
    default:
      return assertNever(kind, 'operation kind');
  }
}

/**
 * Queues a wake-up for the operation's cluster. The job id is the operation id, so that a
 * retried dispatch of the same operation queues nothing new.
 */
export function createDispatcher(queue: Queue<RunClusterJobData>): OperationDispatcher & {
  wake(clusterId: string): Promise<void>;
  wakeAt(clusterId: string, when: { at: string; inMs: number }): Promise<void>;
} {
  return {
    async dispatch(op: OperationRecord) {
      // The job carries no trace context: a wake-up may run other operations than this one, or none;
      // the worker continues each operation's trace from its record.
      const attributes = {
        ...operationAttributes({ id: op.id, kind: op.kind, clusterName: op.clusterName }),
        'messaging.system': 'bullmq',
        'messaging.destination.name': OPERATIONS_QUEUE,
        'messaging.operation.type': 'send',
        'messaging.message.id': op.id,
      };
      await inSpan('queue wake', { kind: SpanKind.PRODUCER, parent: activeContextOr(op.traceParent), attributes }, () =>
        queue.add(
          RUN_CLUSTER_JOB,
          { clusterId: op.clusterId, operationId: op.id },
          { ...jobOptions, jobId: op.id, priority: priorityOf(op.kind) },
        ),
      );
    },
    async wake(clusterId: string) {
      // One pending wake-up per cluster is enough; the id frees itself when the job ends.
      await queue.add(
        RUN_CLUSTER_JOB,
        { clusterId },
        { ...jobOptions, jobId: `wake-${clusterId}`, removeOnComplete: true, removeOnFail: true },
      );
    },
    async wakeAt(clusterId: string, when: { at: string; inMs: number }) {
      // One per cluster and opening; a little late rather than early, so that the window is open by then.
      await queue.add(
        RUN_CLUSTER_JOB,
        { clusterId },
        {
          ...jobOptions,
          jobId: `window-${clusterId}-${Date.parse(when.at)}`,
          delay: when.inMs + 250,
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    },
  };
}
