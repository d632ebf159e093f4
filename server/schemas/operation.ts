import { z } from 'zod';
import { PLAN_CHANGES } from '../../src/domain/approval.js';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../../src/domain/operation.js';
import { count, instant, jsonObject, pageOf, traceIdSchema } from './common.js';
import { waitingForSchema } from './maintenance.js';

export const policyViolationSchema = z
  .strictObject({
    pack: z.string().describe("The policy pack's name"),
    policy: z.string(),
    resource: z.string().nullable().describe('URN of the resource at fault (the stack for a stack policy)'),
    message: z.string().describe("The policy's description, then what it reported; for a remediation, the properties it changed"),
    enforcement: z.enum(['mandatory', 'advisory', 'remediate']),
  })
  .describe('PolicyViolation');

export const operationErrorSchema = z.strictObject({
  code: z.string(),
  title: z.string(),
  detail: z.string(),
  violations: z.array(policyViolationSchema).optional().describe('policy-violation: every mandatory finding of the policy packs'),
});

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
  policyViolations: z
    .array(policyViolationSchema)
    .optional()
    .describe('What the policy packs reported without stopping the run (advisory findings, remediations)'),
});

export const approvalSchema = z
  .strictObject({
    state: z
      .enum(['planning', 'awaiting', 'approved', 'not-needed', 'rejected', 'expired'])
      .describe('planning: its plan runs when its turn comes; awaiting: the plan waits for answers; approved: it runs, bound to the plan'),
    rule: z
      .strictObject({ kinds: z.array(z.enum(OPERATION_KINDS)), changes: z.array(z.enum(PLAN_CHANGES)) })
      .describe('The rule in force when it was accepted'),
    required: z.int().min(1).describe('Distinct approvals needed'),
    reasons: z.array(z.string()).describe('Why the plan waits: kind:destroy, change:replace, ...'),
    requestedAt: instant.nullable(),
    expiresAt: instant.nullable().describe('When the wait ends unanswered (failed, approval-expired)'),
    decisions: z.array(
      z.strictObject({
        decision: z.enum(['approved', 'rejected']),
        by: z.string(),
        role: z.enum(['admin', 'approver']),
        comment: z.string().nullable(),
        at: instant,
      }),
    ),
  })
  .describe('OperationApproval');

/** Body of POST /v1/operations/{id}/approve. */
export const approveRequestSchema = z
  .strictObject({ comment: z.string().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters').optional() })
  .describe('ApproveRequest');

/** Body of POST /v1/operations/{id}/reject: a rejection says why. */
export const rejectRequestSchema = z
  .strictObject({ comment: z.string().min(1, 'must say why').max(2000, 'must be at most 2000 characters') })
  .describe('RejectRequest');

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
  approval: approvalSchema.nullable().describe("Its approval, when its team's policy asks for one"),
  traceId: traceIdSchema
    .nullable()
    .describe('The trace it was recorded in (W3C trace id), which its run continues; null when it was accepted with tracing off'),
  links: z.strictObject({ self: z.string(), events: z.string(), cancel: z.string(), approve: z.string(), reject: z.string() }),
});

export const operationPageSchema = pageOf(operationSchema);
