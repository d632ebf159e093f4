import type { OperationEvent, OperationRecord } from '../domain/operation.js';
import type { Page } from '../domain/page.js';
import type { OperationStore } from './operation-store.js';
import { addToOutbox } from './outbox-store.js';
import { type EventRow, type OperationRow, SELECT_OPERATION, returningOperation, toOperation } from './rows.js';
import { checkLimit, decodeCursor, encodeCursor, isOperationCursor, isUuid, MAX_PAGE_SIZE, page, uuidOrNil } from './sql-helpers.js';
import { requireOperation } from './sql-statements.js';
import type { SqlClient } from './sql.js';

/** Largest batch of events one `listEvents` call returns (stream replays read in big batches). */
export const MAX_EVENT_BATCH = 1000;

/** {@link OperationStore} over PostgreSQL or PGlite. */
export class SqlOperationStore implements OperationStore {
  constructor(private readonly db: SqlClient) {}

  async getOperation(id: string): Promise<OperationRecord | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<OperationRow>(`${SELECT_OPERATION} WHERE o.id = $1`, [id]);
    return rows[0] ? toOperation(rows[0]) : null;
  }

  async listOperations(clusterId: string, limit: number, cursor?: string): Promise<Page<OperationRecord>> {
    const size = checkLimit(limit, MAX_PAGE_SIZE);
    if (!isUuid(clusterId)) return { items: [], nextCursor: null };
    const before = cursor === undefined ? null : decodeCursor(cursor, isOperationCursor).seq;
    const { rows } = await this.db.query<OperationRow>(
      `${SELECT_OPERATION} WHERE o.cluster_id = $1 AND ($2::bigint IS NULL OR o.seq < $2::bigint) ORDER BY o.seq DESC LIMIT $3`,
      [clusterId, before, size + 1],
    );
    return page(rows.map(toOperation), size, (o) => encodeCursor({ seq: o.seq }));
  }

  async pendingOperations(clusterId: string): Promise<OperationRecord[]> {
    if (!isUuid(clusterId)) return [];
    const { rows } = await this.db.query<OperationRow>(
      `${SELECT_OPERATION} WHERE o.cluster_id = $1 AND o.status IN ('queued', 'running', 'awaiting-approval') ORDER BY o.seq`,
      [clusterId],
    );
    return rows.map(toOperation);
  }

  /**
   * As the interface says; also throws NotFoundError for an unknown id. A queued operation cancelled
   * here also gets cancelRequested, and its `operation.finished` outbox entry in the same transaction.
   */
  requestCancel(id: string, options: { onlyQueued?: boolean } = {}): Promise<OperationRecord | null> {
    return this.db.transaction(async (tx) => {
      // One statement: a worker starting the operation at the same moment either sees `cancelled`
      // (and must not run it) or has already made it `running` (and will see cancel_requested). One
      // awaiting approval has changed nothing yet: it ends at once too.
      const { rows } = await tx.query<OperationRow>(
        returningOperation(`UPDATE operations SET
           status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
           finished_at = CASE WHEN status = 'running' THEN finished_at ELSE now() END,
           cancel_requested = true
         WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`),
        [uuidOrNil(id), options.onlyQueued ? ['queued', 'awaiting-approval'] : ['queued', 'awaiting-approval', 'running']],
      );
      if (!rows[0]) {
        await requireOperation(tx, id);
        return null;
      }
      if (rows[0].status === 'cancelled') await addToOutbox(tx, 'operation.finished', rows[0].id);
      return toOperation(rows[0]);
    });
  }

  async clustersNeedingWork(): Promise<string[]> {
    const { rows } = await this.db.query<{ cluster_id: string }>(
      `SELECT DISTINCT o.cluster_id FROM operations o JOIN clusters c ON c.id = o.cluster_id
       WHERE (o.status = 'queued' AND NOT coalesce(o.waiting_until > now(), false))
          OR (o.status = 'running' AND (c.lane_owner IS NULL OR c.lane_expires_at < now()))
       ORDER BY o.cluster_id`,
    );
    return rows.map((r) => r.cluster_id);
  }

  async listEvents(operationId: string, afterSeq: number, limit: number): Promise<OperationEvent[]> {
    const size = checkLimit(limit, MAX_EVENT_BATCH);
    if (!isUuid(operationId)) return [];
    const { rows } = await this.db.query<EventRow>(
      'SELECT * FROM operation_events WHERE operation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [operationId, afterSeq, size],
    );
    return rows.map((r) => ({ operationId: r.operation_id, seq: r.seq, at: r.at, type: r.type, data: r.data }));
  }
}
