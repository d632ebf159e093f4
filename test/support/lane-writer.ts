import { randomUUID } from 'node:crypto';
import type { OperationEvent } from '../../src/domain/operation.js';
import type { LaneHold } from '../../src/store/lane-store.js';
import type { OperationOutcome } from '../../src/store/lane-store.js';
import { SqlLaneStore } from '../../src/store/sql-lane-store.js';
import type { SqlClient } from '../../src/store/sql.js';

/**
 * Writes to operations as a worker does, for tests that need operations in some state: each write
 * takes its cluster's lane, makes the write under that hold, and lets the lane go.
 */
export function laneWriter(db: SqlClient) {
  const lanes = new SqlLaneStore(db);
  async function held<T>(operationId: string, write: (hold: LaneHold) => Promise<T>): Promise<T> {
    const { rows } = await db.query<{ cluster_id: string }>('SELECT cluster_id FROM operations WHERE id = $1', [operationId]);
    if (!rows[0]) throw new Error(`operation ${operationId} not found`);
    const hold = await lanes.acquire(rows[0].cluster_id, `test-${randomUUID().slice(0, 8)}`, 60_000);
    if (!hold) throw new Error(`the lane of operation ${operationId}'s cluster is held`);
    try {
      return await write(hold);
    } finally {
      await lanes.release(hold);
    }
  }
  return {
    startOperation: (id: string) => held(id, async (h) => (await lanes.startOperation(h, id)).operation),
    appendEvents: (id: string, events: Array<Pick<OperationEvent, 'type' | 'data'>>) => held(id, (h) => lanes.appendEvents(h, id, events)),
    finishOperation: (id: string, outcome: Omit<OperationOutcome, 'stackClean'> & { stackClean?: boolean }) =>
      held(id, (h) => lanes.finishOperation(h, id, { stackClean: true, ...outcome })),
  };
}
