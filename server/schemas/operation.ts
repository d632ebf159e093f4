import { z } from 'zod';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../../src/domain/operation.js';
import { count, instant, jsonObject, pageOf } from './common.js';
import { waitingForSchema } from './maintenance.js';

export const operationErrorSchema = z.strictObject({ code: z.string(), title: z.string(), detail: z.string() });

export const resourceChangeSchema = z.strictObject({
  urn: z.string(),
  type: z.string(),
  name: z.string(),
  op: z.enum(['create', 'update', 'replace', 'delete', 'read', 'refresh']),
  properties: z.array(z.string()).describe('Top-level property names that differ; never values'),
  drift: z
    .enum(['cloud', 'spec'])
    .optional()
    .describe('Drift checks: the live resource differs from the state (cloud), or the state from the desired spec (spec)'),
  diffs: z
    .array(z.strictObject({ property: z.string(), state: z.unknown(), actual: z.unknown() }))
    .optional()
    .describe('Drift checks: each differing property, secrets "[secret]"'),
});

export const changeSummary = z.strictObject({
  counts: z.strictObject({ create: count, update: count, replace: count, delete: count, same: count }),
  resources: z.array(resourceChangeSchema),
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
  outputs: jsonObject.nullable(),
  error: operationErrorSchema.nullable(),
  supersededBy: z.uuid().nullable(),
  respectMaintenance: z.boolean().describe("Starts only inside the cluster's maintenance window"),
  waitingFor: waitingForSchema.nullable().describe('Queued and passed over until its maintenance window opens'),
  links: z.strictObject({ self: z.string(), events: z.string(), cancel: z.string() }),
});

export const operationPageSchema = pageOf(operationSchema);
