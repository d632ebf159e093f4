import type { Migration } from '../migrations.js';

/**
 * The trace an operation belongs to: the W3C `traceparent` of the span that recorded it, written at
 * insert when tracing is on, which the worker's span of its run continues (a job is a wake-up for a
 * cluster, not an operation, so the record carries it). Ids and flags only, as the check says.
 */
export const operationTraces: Migration = {
  version: 19,
  name: 'operation-traces',
  statements: [
    'ALTER TABLE operations ADD COLUMN trace_parent text',
    `ALTER TABLE operations ADD CONSTRAINT operations_trace_parent_format
       CHECK (trace_parent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$')`,
  ],
};
