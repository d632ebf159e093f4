import { z } from 'zod';
import { LABEL_KEY, LABEL_VALUE } from '../domain/cluster.js';
import { DURATION_PATTERN } from '../domain/duration.js';
import type { TeamPolicy } from '../domain/team-policy.js';
import { PLAN_CHANGES } from '../domain/approval.js';
import { OPERATION_KINDS, changesStack } from '../domain/operation.js';
import { blueprintNameSchema } from '../lifecycle/requests.js';

/** A value pattern: letters, digits, `.`, `_`, `-`, `/` and `*` (any run of characters). */
const pattern = z
  .string()
  .regex(/^[A-Za-z0-9._/*-]{1,128}$/, 'must be 1-128 characters of letters, digits, ., _, -, / and * (any run of characters)');
const patterns = z
  .array(pattern)
  .min(1, 'must have at least 1 pattern (leave the field out to allow any)')
  .max(100, 'must have at most 100 patterns');
const limit = z.int('must be a whole number').min(0, 'must be at least 0').max(1_000_000, 'must be at most 1000000');

const STACK_CHANGING_KINDS = OPERATION_KINDS.filter(changesStack);

const approvalRuleSchema = z
  .strictObject({
    kinds: z
      .array(z.enum(STACK_CHANGING_KINDS, `must be one of ${STACK_CHANGING_KINDS.join(', ')} (the kinds that change a stack)`))
      .max(STACK_CHANGING_KINDS.length)
      .optional()
      .describe('Operations of these kinds always wait for approval'),
    changes: z
      .array(z.enum(PLAN_CHANGES, `must be one of ${PLAN_CHANGES.join(', ')}`))
      .max(PLAN_CHANGES.length)
      .optional()
      .describe('Operations whose plan has a change of one of these sorts, on any resource, wait for approval'),
    labels: z
      .record(
        z.string().regex(new RegExp(`^${LABEL_KEY.source}$`), 'must be a label key'),
        z.string().regex(new RegExp(`^${LABEL_VALUE.source}$`), 'must be a label value'),
      )
      .optional()
      .describe('Only on clusters carrying every one of these labels; absent: on every cluster of the team'),
    approvers: z
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(5, 'must be at most 5')
      .optional()
      .describe('Distinct tokens that must approve; default 1'),
  })
  .describe('ApprovalRule');

/** Body of PUT /v1/teams/{team}/policy: the whole policy, replacing the one in force. */
export const teamPolicySchema = z
  .strictObject({
    maxClusters: limit.optional().describe('Live clusters the team may have'),
    maxNodes: limit.optional().describe("Sum of the node pools' maximum sizes over the team's live clusters"),
    blueprints: z
      .array(blueprintNameSchema)
      .min(1, 'must name at least 1 blueprint')
      .max(50)
      .optional()
      .describe('Blueprints the team may use; absent: any'),
    rules: z
      .record(
        blueprintNameSchema,
        z.strictObject({
          regions: patterns.optional().describe('Allowed regions (patterns, * matches any run of characters)'),
          instanceTypes: patterns.optional().describe('Allowed instance or machine types of node pools (patterns)'),
        }),
      )
      .optional()
      .describe('Per blueprint: the regions and instance types allowed'),
    maxTtl: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration like 90m, 24h or 7d')
      .optional()
      .describe("Longest life of a cluster; absent: the service's default (CLUSTER_MAX_TTL)"),
    requiredLabels: z
      .record(
        z.string().regex(new RegExp(`^${LABEL_KEY.source}$`), 'must be a label key'),
        z.array(z.string().regex(new RegExp(`^${LABEL_VALUE.source}$`), 'must be a label value')).max(100, 'must have at most 100 values'),
      )
      .optional()
      .describe('Label keys every cluster must carry, each with its allowed values (empty: any value)'),
    approval: approvalRuleSchema.optional().describe('Which operations wait for approval before they change anything'),
  })
  .describe('TeamPolicy') satisfies z.ZodType<TeamPolicy>;

export type TeamPolicyBody = z.infer<typeof teamPolicySchema>;
