import type { OperationStatus } from '../domain/operation.js';
import type { SqlClient } from './sql.js';

/** Where an operation stands, read in one statement: its status and the seq of its last event. */
export interface OperationProgress {
  id: string;
  status: OperationStatus;
  /** 0 when it has no event. */
  lastSeq: number;
}

/** Reads the progress of many operations at once: what an event stream needs to know whether to read on. */
export interface OperationProgressStore {
  /** Operations that do not exist are left out. At most {@link MAX_PROGRESS_IDS} ids per call. */
  progress(ids: readonly string[]): Promise<OperationProgress[]>;
}

/** Largest number of ids one {@link OperationProgressStore.progress} call takes. */
export const MAX_PROGRESS_IDS = 1000;

/** {@link OperationProgressStore} over PostgreSQL or PGlite. */
export class SqlOperationProgressStore implements OperationProgressStore {
  constructor(private readonly db: SqlClient) {}

  async progress(ids: readonly string[]): Promise<OperationProgress[]> {
    if (ids.length === 0) return [];
    if (ids.length > MAX_PROGRESS_IDS) throw new RangeError(`progress() takes at most ${MAX_PROGRESS_IDS} ids, got ${ids.length}`);
    // Status and last seq come from one snapshot: when the status is final, every event written
    // before it is at or below last_seq.
    const { rows } = await this.db.query<{ id: string; status: OperationStatus; last_seq: number }>(
      `SELECT o.id, o.status, coalesce((SELECT max(e.seq) FROM operation_events e WHERE e.operation_id = o.id), 0)::int AS last_seq
       FROM operations o WHERE o.id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map((r) => ({ id: r.id, status: r.status, lastSeq: r.last_seq }));
  }
}
