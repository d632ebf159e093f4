import { z } from 'zod';
import { OPERATION_STATUSES } from '../../src/domain/operation.js';
import { instant } from './common.js';

/** The JSON in the `data` line of an engine, log or status event. */
export const progressEventDataSchema = z.strictObject({
  at: instant,
  data: z.unknown().describe('engine: the engine event; log: the line; status: the change'),
});
/** The JSON in the `data` line of the `end` event: the operation's final status. */
export const endEventDataSchema = z.strictObject({ status: z.enum(OPERATION_STATUSES) });
/** The JSON in the `data` line of the `shutdown` event. */
export const shutdownEventDataSchema = z.strictObject({
  reason: z.string(),
  resumeAfter: z.number().int().describe('The last sequence number sent: resume after it'),
});

/** The JSON in the `data` line of an event stream's event (see {@link operationEventSchema}). */
export function eventData(schema: z.ZodType) {
  const { $schema: _dialect, ...contentSchema } = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' });
  return z.string().meta({ contentMediaType: 'application/json', contentSchema });
}

/** The last event of a stream that the server's shutdown ended: reconnect and resume. */
export const shutdownEventSchema = z.object({
  event: z.literal('shutdown'),
  retry: z
    .string()
    .regex(/^[0-9]+$/)
    .describe('Milliseconds an EventSource waits before it reconnects'),
  data: eventData(shutdownEventDataSchema),
});

/**
 * One event of `GET /v1/operations/{id}/events`, as a Server-Sent Events parser reads it: engine
 * events, log lines and status changes carry their sequence number as id; the last event is `end`
 * with the final status (a parser hands it the id of the event before it), or `shutdown` when the
 * server shut down first.
 */
export const operationEventSchema = z.union([
  z.object({
    event: z.enum(['engine', 'log', 'status']),
    id: z
      .string()
      .regex(/^[1-9][0-9]*$/)
      .describe('The sequence number: resume after it with Last-Event-ID'),
    data: eventData(progressEventDataSchema),
  }),
  z.object({
    event: z.literal('end'),
    id: z.string().optional(),
    data: eventData(endEventDataSchema),
  }),
  shutdownEventSchema,
]);
