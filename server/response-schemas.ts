/**
 * What the API answers, as zod schemas: the OpenAPI description's response schemas are generated
 * from them, and the views that build the answers are typed by them, so that the compiler holds the
 * answers to the description. Objects are strict: a field added to an answer must be described here.
 */
import { z } from 'zod';
import { CLUSTER_STATUSES, DRIFT_POLICIES } from '../src/domain/cluster.js';
import { DRIFT_STATUSES, SWEEP_STATUSES } from '../src/domain/drift.js';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../src/domain/operation.js';
import { DELIVERY_STATUSES } from '../src/domain/webhook.js';
import { PING_EVENT, WEBHOOK_EVENT_TYPES } from '../src/domain/webhook-event.js';

/** An instant as the records print it: ISO-8601 in UTC. */
const instant = z.iso.datetime();
const count = z.int().min(0);
const json = z.record(z.string(), z.unknown());
const nextCursor = z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page');

export const fieldIssueSchema = z.strictObject({
  field: z.string().describe('Dotted path into the body, query.<name>, header.<Name>, or the path parameter'),
  rule: z.string(),
  message: z.string(),
});

export const problemSchema = z
  .strictObject({
    type: z.string().describe('urn:clusterd:problem:<slug>'),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string().describe('The request path and query'),
    errors: z.array(fieldIssueSchema).optional().describe('400: each field and the rule it breaks'),
  })
  .describe('RFC 9457 problem document');

const operationError = z.strictObject({ code: z.string(), title: z.string(), detail: z.string() });

const resourceChange = z.strictObject({
  urn: z.string(),
  type: z.string(),
  name: z.string(),
  op: z.enum(['create', 'update', 'replace', 'delete', 'read', 'refresh']),
  properties: z.array(z.string()).describe('Top-level property names that differ; never values'),
  drift: z.enum(['cloud', 'spec']).optional().describe('Drift checks: the live resource differs from the state (cloud), or the state from the desired spec (spec)'),
  diffs: z.array(z.strictObject({ property: z.string(), state: z.unknown(), actual: z.unknown() })).optional().describe('Drift checks: each differing property, secrets "[secret]"'),
});

const changeSummary = z.strictObject({
  counts: z.strictObject({ create: count, update: count, replace: count, delete: count, same: count }),
  resources: z.array(resourceChange),
});

export const clusterSchema = z.strictObject({
  name: z.string(),
  team: z.string(),
  blueprint: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(CLUSTER_STATUSES),
  spec: json.describe('The desired spec; write-only fields read "[secret]"'),
  generation: z.int().min(1),
  appliedSpec: json.nullable().describe('The spec last applied successfully'),
  appliedGeneration: z.int().min(1).nullable(),
  outputs: json.describe('Stack outputs; secret ones read "[secret]"'),
  driftPolicy: z.enum(DRIFT_POLICIES),
  expiresAt: instant.nullable(),
  lastOperation: z.strictObject({ id: z.uuid(), href: z.string() }).nullable(),
  createdAt: instant,
  updatedAt: instant,
});

export const operationSchema = z.strictObject({
  id: z.uuid(),
  cluster: z.string(),
  team: z.string(),
  kind: z.enum(OPERATION_KINDS),
  status: z.enum(OPERATION_STATUSES),
  generation: z.int().min(1),
  requestedBy: z.string(),
  cancelRequested: z.boolean(),
  attempts: count,
  queuedAt: instant,
  startedAt: instant.nullable(),
  finishedAt: instant.nullable(),
  summary: changeSummary.nullable(),
  outputs: json.nullable(),
  error: operationError.nullable(),
  supersededBy: z.uuid().nullable(),
  links: z.strictObject({ self: z.string(), events: z.string(), cancel: z.string() }),
});

export const acceptedSchema = z.strictObject({ cluster: clusterSchema, operation: operationSchema });
/** PATCH that changed settings only: done at once, no operation. */
export const settingsChangedSchema = z.strictObject({ cluster: clusterSchema, operation: z.null() });
export const clusterPageSchema = z.strictObject({ items: z.array(clusterSchema), nextCursor });
export const operationPageSchema = z.strictObject({ items: z.array(operationSchema), nextCursor });
export const kubeconfigSchema = z.strictObject({ kubeconfig: z.string() });
export const kubeconfigReadsSchema = z.strictObject({ items: z.array(z.strictObject({ readBy: z.string(), readAt: instant })) });

export const driftReportSchema = z.strictObject({
  id: z.uuid(),
  clusterName: z.string(),
  team: z.string(),
  blueprint: z.string(),
  operationId: z.uuid(),
  sweepId: z.uuid().nullable(),
  checkedAt: instant,
  status: z.enum(DRIFT_STATUSES),
  kinds: z.array(z.enum(['cloud', 'spec'])),
  resources: z.array(resourceChange),
  error: operationError.nullable(),
  remediation: z.strictObject({
    action: z.enum(['none', 'notified', 'remediating', 'skipped']),
    reason: z.string().optional(),
    operationId: z.uuid().optional(),
  }),
});
export const clusterDriftSchema = z.strictObject({ latest: driftReportSchema.nullable(), items: z.array(driftReportSchema), nextCursor });

const fleetCounts = { clusters: count, checked: count, clean: count, drifted: count, failed: count, neverChecked: count };
export const fleetDriftSchema = z.strictObject({
  ...fleetCounts,
  byTeam: z.record(z.string(), z.strictObject(fleetCounts)),
  byBlueprint: z.record(z.string(), z.strictObject(fleetCounts)),
});

export const driftSweepSchema = z.strictObject({
  id: z.uuid(),
  trigger: z.enum(['schedule', 'manual']),
  requestedBy: z.string(),
  status: z.enum(SWEEP_STATUSES),
  maxConcurrent: z.int().min(1),
  total: count,
  clean: count,
  drifted: count,
  failed: count,
  skipped: z.array(z.strictObject({ cluster: z.string(), reason: z.string() })),
  startedAt: instant,
  finishedAt: instant.nullable(),
  error: z.string().nullable(),
});

export const issuedTokenSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  team: z.string().nullable(),
  admin: z.boolean(),
  token: z.string().describe('The bearer token; shown only in this answer'),
});

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
export const createdWebhookSchema = webhookSchema.extend({ signingSecret: z.string().describe('Signs every delivery; shown only in this answer') });
export const webhookListSchema = z.strictObject({ items: z.array(webhookSchema) });

export const webhookPayloadSchema = z
  .strictObject({
    id: z.uuid().describe('Event id, the same in every subscription'),
    type: z.enum([...WEBHOOK_EVENT_TYPES, PING_EVENT]),
    createdAt: instant,
    team: z.string().nullable(),
    cluster: z.string().nullable(),
    data: json,
  })
  .describe('The JSON body of a delivery');

export const deliverySchema = z.strictObject({
  id: z.uuid(),
  webhookId: z.uuid(),
  event: z.strictObject({ id: z.uuid(), type: z.enum([...WEBHOOK_EVENT_TYPES, PING_EVENT]) }),
  status: z.enum(DELIVERY_STATUSES),
  attemptCount: count,
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
  nextAttemptAt: instant.nullable().describe('When the next attempt is due; null unless pending'),
  finishedAt: instant.nullable(),
  payload: webhookPayloadSchema,
  attempts: z
    .array(z.strictObject({ attempt: z.int().min(1), at: instant, statusCode: z.int().nullable(), error: z.string().nullable(), durationMs: count }))
    .optional()
    .describe('Every attempt, in lists of deliveries'),
});
export const deliveryPageSchema = z.strictObject({ items: z.array(deliverySchema), nextCursor });

export const blueprintListSchema = z.strictObject({
  items: z.array(z.strictObject({ name: z.string(), description: z.string(), specSchema: json.describe('JSON Schema of the spec') })),
});

export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const readinessSchema = z.union([
  z.strictObject({
    status: z.enum(['ready', 'not-ready']),
    checks: z.record(z.string(), z.strictObject({ ok: z.boolean(), reason: z.string().optional() })),
  }),
  z.strictObject({ status: z.literal('draining') }),
]);

/** The JSON in the `data` line of an event stream's event (see {@link operationEventSchema}). */
function eventData(schema: z.ZodType) {
  const { $schema: _dialect, ...contentSchema } = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' });
  return z.string().meta({ contentMediaType: 'application/json', contentSchema });
}

/**
 * One event of `GET /v1/operations/{id}/events`, as a Server-Sent Events parser reads it: engine
 * events, log lines and status changes carry their sequence number as id; the last event is `end`
 * with the final status (a parser hands it the id of the event before it), or `shutdown` when the
 * server shut down first.
 */
export const operationEventSchema = z.union([
  z.object({
    event: z.enum(['engine', 'log', 'status']),
    id: z.string().regex(/^[1-9][0-9]*$/).describe('The sequence number: resume after it with Last-Event-ID'),
    data: eventData(z.strictObject({ at: instant, data: z.unknown().describe('engine: the engine event; log: the line; status: the change') })),
  }),
  z.object({
    event: z.literal('end'),
    id: z.string().optional(),
    data: eventData(z.strictObject({ status: z.enum(OPERATION_STATUSES) })),
  }),
  z.object({
    event: z.literal('shutdown'),
    retry: z.string().regex(/^[0-9]+$/).describe('Milliseconds an EventSource waits before it reconnects'),
    data: eventData(z.strictObject({ reason: z.string(), resumeAfter: z.number().int().describe('The last sequence number sent: resume after it') })),
  }),
]);
