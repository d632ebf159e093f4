import { z } from 'zod';
import { ROLLOUT_STATUSES } from '../../src/domain/rollout.js';
import { ROLLOUT_EVENT_TYPES } from '../../src/domain/rollout-events.js';
import { instant } from './common.js';
import { eventData, shutdownEventSchema } from './operation-event.js';

/** The JSON in the `data` line of a rollout's progress event. */
export const rolloutProgressDataSchema = z.strictObject({
  at: instant,
  data: z
    .record(z.string(), z.unknown())
    .describe(
      'status: {status, from, reason, stage}; stage: {stage, status, soakUntil, approvedBy, completedAt}; member: {cluster, stage, state, operation, stepsDone, error, reason}; finished: {status, counts}',
    ),
});
/** The JSON in the `data` line of the `end` event: the rollout's final status. */
export const rolloutEndEventDataSchema = z.strictObject({ status: z.enum(ROLLOUT_STATUSES) });

/**
 * One event of `GET /v1/rollouts/{id}/events`: progress events carry their sequence number as id;
 * the last is `end` with the final status, or `shutdown` when the server shut down first.
 */
export const rolloutEventSchema = z.union([
  z.object({
    event: z.enum(ROLLOUT_EVENT_TYPES),
    id: z
      .string()
      .regex(/^[1-9][0-9]*$/)
      .describe('The sequence number: resume after it with Last-Event-ID'),
    data: eventData(rolloutProgressDataSchema),
  }),
  z.object({ event: z.literal('end'), id: z.string().optional(), data: eventData(rolloutEndEventDataSchema) }),
  shutdownEventSchema,
]);
