import type { Request } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '../src/lifecycle/parse.js';
import { queryInteger } from './schemas/query-integer.js';

/** Largest event sequence number: `operation_events.seq` is an int4. */
export const MAX_EVENT_SEQ = 2_147_483_647;

const position = queryInteger(0, MAX_EVENT_SEQ);

/** Query of GET /v1/operations/{id}/events. */
export const eventsQuery = z.strictObject({
  after: position.optional().describe('Replay only events after this sequence number (Last-Event-ID wins when both are given)'),
});

/** The `Last-Event-ID` header as OpenAPI describes it: the same rule as `after`. */
export const lastEventIdHeader = {
  name: 'Last-Event-ID',
  in: 'header',
  required: false,
  schema: { type: 'integer', minimum: 0, maximum: MAX_EVENT_SEQ },
  description: 'The id of the last event received: the stream resumes right after it',
} as const;

/**
 * Where an event stream starts: after the `Last-Event-ID` a reconnecting client sends, else after
 * `?after=`, else from the first event. Both are checked whenever present (400 naming
 * `header.Last-Event-ID` or `query.after`), so that a value the events table cannot hold never
 * turns into an empty stream that waits forever.
 */
export function streamPosition(req: Request): number {
  const { after } = parseOrThrow(eventsQuery, req.query, 'query', 'query');
  const header = req.get('last-event-id');
  if (header === undefined) return after ?? 0;
  return parseOrThrow(position, header, 'header.Last-Event-ID', 'header');
}
