import type { Migration } from '../migrations.js';

/**
 * Operations that wait for approval: the `awaiting-approval` status (not finished: it holds its
 * cluster's lane order), the approval itself (rule, plan, answers) as one document, the token that
 * asked (it never approves its own request), and the outbox topic of the approval webhooks. The
 * unfinished-operations index takes the new status in, since the lane and the expiry of approvals
 * read those operations.
 */
export const operationApprovals: Migration = {
  version: 17,
  name: 'operation-approvals',
  statements: [
    'ALTER TABLE operations DROP CONSTRAINT operations_status_check',
    `ALTER TABLE operations ADD CONSTRAINT operations_status_check
       CHECK (status IN ('queued', 'running', 'awaiting-approval', 'succeeded', 'failed', 'cancelled', 'superseded'))`,
    'ALTER TABLE operations ADD COLUMN approval jsonb',
    'ALTER TABLE operations ADD COLUMN requested_by_token text',
    `ALTER TABLE operations ADD CONSTRAINT operations_awaiting_has_approval CHECK (status <> 'awaiting-approval' OR approval IS NOT NULL)`,
    'DROP INDEX operations_unfinished',
    `CREATE INDEX operations_unfinished ON operations (cluster_id, seq) WHERE status IN ('queued', 'running', 'awaiting-approval')`,
    // The expiry of approvals reads these few rows whole.
    `CREATE INDEX operations_awaiting_approval ON operations (queued_at) WHERE status = 'awaiting-approval'`,
    'ALTER TABLE outbox DROP CONSTRAINT outbox_topic_check',
    `ALTER TABLE outbox ADD CONSTRAINT outbox_topic_check
       CHECK (topic IN ('operation.finished', 'rollout.event', 'support.notice', 'operation.approval'))`,
  ],
};
