/** A team's policy as answered, and the team's overview (GET /v1/teams/{team}). */
import { z } from 'zod';

const policyView = z
  .strictObject({
    maxClusters: z.int().optional(),
    maxNodes: z.int().optional(),
    blueprints: z.array(z.string()).optional(),
    rules: z
      .record(z.string(), z.strictObject({ regions: z.array(z.string()).optional(), instanceTypes: z.array(z.string()).optional() }))
      .optional(),
    maxTtl: z.string().optional(),
    requiredLabels: z.record(z.string(), z.array(z.string())).optional(),
    approval: z
      .strictObject({
        kinds: z.array(z.string()).optional(),
        changes: z.array(z.string()).optional(),
        labels: z.record(z.string(), z.string()).optional(),
        approvers: z.int().optional(),
      })
      .optional(),
  })
  .describe('TeamPolicyView');

export const teamPolicySchemaView = z.strictObject({
  team: z.string(),
  policy: policyView.nullable().describe('null: none (only the service-wide defaults apply)'),
});

export const teamOverviewSchema = z.strictObject({
  team: z.string(),
  policy: policyView.nullable(),
  usage: z.strictObject({
    clusters: z.int().min(0).describe('Live clusters'),
    nodes: z.int().min(0).describe("Sum of the node pools' maximum sizes over the live clusters"),
  }),
  limits: z
    .array(
      z.strictObject({
        rule: z.enum(['quota.maxClusters', 'quota.maxNodes']),
        limit: z.int(),
        usage: z.int(),
        remaining: z
          .int()
          .describe('Negative when the limit was lowered below the usage: new growth is refused, nothing existing is touched'),
      }),
    )
    .describe('Each limit the policy sets, with the usage against it'),
});
