import { withDecision, type ApprovalDecision, type OperationApproval } from '../domain/approval.js';
import type { OperationError, OperationRecord } from '../domain/operation.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { addToOutbox } from './outbox-store.js';
import { returningOperation, toOperation, type OperationRow } from './rows.js';
import { json, uuidOrNil } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** The database's now, as the ISO-8601 text the approval document keeps. */
export const ISO_NOW = `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** The database's now plus `param` milliseconds, as ISO-8601 text. */
export const isoIn = (param: string) =>
  `to_char((now() + ${param}::double precision * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The outbox subject of one step of an operation's approval; each happens at most once. */
export const approvalSubject = (operationId: string, step: 'awaiting' | 'approved' | 'rejected') => `${operationId}:${step}`;
export const parseApprovalSubject = (subject: string): { operationId: string; step: string } => {
  const [operationId = '', step = ''] = subject.split(':');
  return { operationId, step };
};

/** What an answer did. `expired`: it came too late; the operation has ended `failed` (approval-expired). */
export type DecisionOutcome = { outcome: 'recorded' | 'approved' | 'rejected' | 'expired'; operation: OperationRecord };

/** The answers to operations awaiting approval, and their expiry. Every method is atomic. */
export interface ApprovalStore {
  /**
   * Records one answer under the operation's row lock: enough approvals queue it again (to run, bound
   * to its plan), a rejection ends it `failed`. ConflictError when it is not awaiting approval or this
   * token answered already.
   */
  decide(id: string, decision: Omit<ApprovalDecision, 'at'>): Promise<DecisionOutcome>;
  /** Ends every wait past its expiry (`failed`, approval-expired); returns those operations. */
  expireDue(): Promise<OperationRecord[]>;
}

function expiredError(approval: OperationApproval): OperationError {
  return {
    code: 'approval-expired',
    title: 'Nobody approved this operation in time',
    detail: `It waited for approval from ${approval.requestedAt ?? '?'} until ${approval.expiresAt ?? '?'} and changed nothing. Make the request again to ask anew.`,
  };
}

function rejectedError(decision: ApprovalDecision): OperationError {
  return {
    code: 'approval-rejected',
    title: `Rejected by ${decision.by}`,
    detail: decision.comment ?? 'No comment was given. Nothing was changed.',
  };
}

/** {@link ApprovalStore} over PostgreSQL or PGlite. */
export class SqlApprovalStore implements ApprovalStore {
  constructor(private readonly db: SqlClient) {}

  async decide(id: string, answer: Omit<ApprovalDecision, 'at'>): Promise<DecisionOutcome> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: string; approval: OperationApproval | null; expired: boolean; now: string }>(
        `SELECT status, approval, coalesce((approval->>'expiresAt')::timestamptz <= now(), false) AS expired, ${ISO_NOW} AS now
         FROM operations WHERE id = $1 FOR UPDATE`,
        [uuidOrNil(id)],
      );
      const row = rows[0];
      if (!row) throw new NotFoundError(`operation ${id} not found`);
      if (row.status !== 'awaiting-approval' || !row.approval)
        throw new ConflictError(`operation ${id} is ${row.status}, not awaiting approval: there is nothing to answer`);
      if (row.expired) return { outcome: 'expired', operation: await expire(tx, id, row.approval) };
      const decision: ApprovalDecision = { ...answer, at: row.now };
      const next = withDecision(row.approval, decision);
      if ('refusal' in next) throw new ConflictError(next.refusal);
      const status = { approved: 'queued', rejected: 'failed', recorded: 'awaiting-approval' }[next.outcome];
      const { rows: updated } = await tx.query<OperationRow>(
        returningOperation(`UPDATE operations SET status = $2, approval = $3::jsonb,
           error = CASE WHEN $2 = 'failed' THEN $4::jsonb ELSE error END,
           finished_at = CASE WHEN $2 = 'failed' THEN now() ELSE finished_at END
         WHERE id = $1 RETURNING *`),
        [id, status, json(next.approval), json(rejectedError(decision))],
      );
      if (next.outcome === 'approved') await addToOutbox(tx, 'operation.approval', approvalSubject(id, 'approved'));
      if (next.outcome === 'rejected') {
        await addToOutbox(tx, 'operation.approval', approvalSubject(id, 'rejected'));
        await addToOutbox(tx, 'operation.finished', id);
      }
      return { outcome: next.outcome, operation: toOperation(updated[0]!) };
    });
  }

  async expireDue(): Promise<OperationRecord[]> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; approval: OperationApproval }>(
        `SELECT id, approval FROM operations
         WHERE status = 'awaiting-approval' AND (approval->>'expiresAt')::timestamptz <= now() ORDER BY queued_at FOR UPDATE SKIP LOCKED`,
      );
      const expired: OperationRecord[] = [];
      for (const row of rows) expired.push(await expire(tx, row.id, row.approval));
      return expired;
    });
  }
}

/** Ends a wait that came to its expiry; the caller holds the operation's row. */
async function expire(tx: SqlClient, id: string, approval: OperationApproval): Promise<OperationRecord> {
  const { rows } = await tx.query<OperationRow>(
    returningOperation(`UPDATE operations SET status = 'failed', error = $2::jsonb, finished_at = now(), approval = $3::jsonb
       WHERE id = $1 RETURNING *`),
    [id, json(expiredError(approval)), json({ ...approval, state: 'expired' })],
  );
  await addToOutbox(tx, 'operation.finished', id);
  return toOperation(rows[0]!);
}
