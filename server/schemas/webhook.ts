import { z } from 'zod';
import { DELIVERY_STATUSES } from '../../src/domain/webhook.js';
import { PING_EVENT, WEBHOOK_EVENT_TYPES } from '../../src/domain/webhook-event.js';
import { count, instant, jsonObject, pageOf } from './common.js';

export const webhookSchema = z.strictObject({
  id: z.uuid(),
  team: z.string().nullable().describe("null: every team's events"),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  description: z.string().nullable(),
  active: z.boolean(),
  createdBy: z.string(),
  createdAt: instant,
  links: z.strictObject({ self: z.string(), deliveries: z.string(), test: z.string() }),
});
export const createdWebhookSchema = webhookSchema.extend({
  signingSecret: z.string().describe('Signs every delivery; shown only in this answer'),
});
export const webhookListSchema = z.strictObject({ items: z.array(webhookSchema) });

const eventType = z.enum([...WEBHOOK_EVENT_TYPES, PING_EVENT]);

export const webhookPayloadSchema = z
  .strictObject({
    id: z.uuid().describe('Event id, the same in every subscription'),
    type: eventType,
    createdAt: instant,
    team: z.string().nullable(),
    cluster: z.string().nullable(),
    data: jsonObject,
  })
  .describe('The JSON body of a delivery');

export const deliveryAttemptSchema = z.strictObject({
  attempt: z.int().min(1),
  at: instant,
  statusCode: z.int().nullable(),
  error: z.string().nullable(),
  durationMs: count,
});

export const deliverySchema = z.strictObject({
  id: z.uuid(),
  webhookId: z.uuid(),
  event: z.strictObject({ id: z.uuid(), type: eventType }),
  status: z.enum(DELIVERY_STATUSES),
  attemptCount: count,
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
  nextAttemptAt: instant.nullable().describe('When the next attempt is due; null unless pending'),
  finishedAt: instant.nullable(),
  payload: webhookPayloadSchema,
  attempts: z.array(deliveryAttemptSchema).optional().describe('Every attempt, in lists of deliveries'),
});
export const deliveryPageSchema = pageOf(deliverySchema);
