/**
 * Stand-ins for the ports whose real side is Redis/BullMQ (the operations, sweeps and deliveries
 * queues) or the Pulumi engine (stack outputs, run results): plain objects that record what they
 * were handed. Nothing of ours is replaced: the services and stores under test are the real ones.
 */
import type { EngineResult } from '../../src/engine/engine.js';
import type { OperationRecord } from '../../src/domain/operation.js';
import type { OperationDispatcher } from '../../src/ports.js';
import type { DeliveryQueue } from '../../src/webhooks/notifier.js';

/** The operations queue: every operation handed over to run, in order. */
export function recordingDispatcher(): OperationDispatcher & { dispatched: OperationRecord[] } {
  const dispatched: OperationRecord[] = [];
  return {
    dispatched,
    async dispatch(op) {
      dispatched.push(op);
    },
  };
}

/** The sweeps queue: the sweep ids handed over; while `down`, it refuses as Redis does when unreachable. */
export function recordingSweepQueue(): { started: string[]; down: boolean; startSweepJob(sweepId: string): Promise<void> } {
  const queue = {
    started: [] as string[],
    down: false,
    async startSweepJob(sweepId: string) {
      if (queue.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      queue.started.push(sweepId);
    },
  };
  return queue;
}

/** The deliveries queue: the delivery ids handed over to be sent. */
export function recordingDeliveryQueue(): DeliveryQueue & { queued: string[] } {
  const queued: string[] = [];
  return {
    queued,
    async enqueue(deliveryId) {
      queued.push(deliveryId);
    },
  };
}

/** What the engine reports for a run that changed nothing and failed nowhere. */
export const ENGINE_SUCCEEDED: EngineResult = { status: 'succeeded', summary: null, outputs: {}, error: null };

/** What the engine reports for a run that failed in the cloud (the stack left clean). */
export const ENGINE_FAILED: EngineResult = {
  status: 'failed',
  summary: null,
  outputs: null,
  error: { code: 'resource-error', title: 'A resource could not be changed', detail: 'the cloud refused the change' },
};

/** What a drift check reports when one property of one resource differs from the state. */
export function driftFound(property = 'tags'): EngineResult {
  const counts = { create: 0, update: 1, replace: 0, delete: 0, same: 0 };
  const resource = {
    urn: 'urn:pulumi:stack::clusterd::aws:eks/cluster:Cluster::main',
    type: 'aws:eks/cluster:Cluster',
    name: 'main',
    op: 'update' as const,
    properties: [property],
    drift: 'cloud' as const,
    diffs: [{ property, state: 'a', actual: 'b' }],
  };
  return { status: 'succeeded', summary: { counts, resources: [resource] }, outputs: {}, error: null };
}
