import { z } from 'zod';
import { clusterNameSchema, labelsSchema, teamNameSchema, DRIFT_POLICIES } from '../domain/cluster.js';
import { DURATION_PATTERN } from '../domain/duration.js';
import { maintenancePolicySchema } from '../maintenance/policy-schema.js';
import { atLeastOneOf, notBoth, withRules } from './object-rules.js';

/** Blueprint names as the registry accepts them. */
export const blueprintNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit');

const driftPolicy = z
  .enum(DRIFT_POLICIES)
  .describe(
    'What a drift check that finds drift leads to: none (report only), notify (drift.detected webhook), auto (also a remediate operation)',
  );
// A time zone offset can carry 9999-12-31T23:59:59-23:59 into the year 10000, which neither
// toISOString's plain form nor a timestamptz column takes.
const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const expiresAt = z.iso
  .datetime({ offset: true })
  .refine((s) => Date.parse(s) <= LATEST_INSTANT, {
    message: 'must be at most 9999-12-31T23:59:59Z once converted to UTC',
    params: { rule: 'range' },
  })
  .describe('When the cluster is destroyed on its own (ISO-8601 with offset)');
const ttl = z.string().regex(DURATION_PATTERN, 'must be a duration like 90m, 24h or 7d').describe('Life from now, instead of expiresAt');
const expiryOnce = notBoth('expiresAt', 'ttl');

/** Body of POST /v1/clusters. The spec is checked again by the blueprint's own schema. */
export const createClusterBody = withRules(
  z.strictObject({
    name: clusterNameSchema.describe('Cluster and stack name'),
    blueprint: blueprintNameSchema.describe('Blueprint name, see GET /v1/blueprints'),
    team: teamNameSchema.optional().describe("Owning team; defaults to the token's team, required for admin tokens"),
    labels: labelsSchema.optional(),
    spec: z.record(z.string(), z.unknown()).describe('Blueprint-specific spec'),
    driftPolicy: driftPolicy.optional().describe('Drift policy; default notify'),
    expiresAt: expiresAt.optional(),
    ttl: ttl.optional(),
    maintenance: maintenancePolicySchema.optional().describe("The cluster's own maintenance policy; absent: its team's"),
    allowExtendedSupport: z
      .boolean()
      .optional()
      .describe(
        "Accept a Kubernetes version past the end of its standard support, in the provider's extended support (at extra cost; EKS only): the spec is set to ask for it. Refused otherwise; default false",
      ),
  }),
  [expiryOnce],
).describe('CreateClusterRequest');

/** Body of PATCH /v1/clusters/{name}: a JSON merge patch (RFC 7396) of the spec, and labels to replace. */
export const updateClusterBody = withRules(
  z.strictObject({
    spec: z.record(z.string(), z.unknown()).optional().describe('JSON merge patch applied to the desired spec; null removes a key'),
    labels: labelsSchema.optional().describe('Replaces all labels'),
    allowReplace: z.boolean().optional().describe('Accept a change that replaces node pools or the cluster itself (refused otherwise)'),
    driftPolicy: driftPolicy.optional(),
    expiresAt: expiresAt.nullable().optional().describe('New expiry (extends or shortens it), or null for none'),
    ttl: ttl.optional(),
    maintenance: maintenancePolicySchema
      .nullable()
      .optional()
      .describe("The cluster's own maintenance policy, or null to follow its team's"),
    respectMaintenance: z
      .boolean()
      .optional()
      .describe("The update waits for the cluster's maintenance window, as the service's own work does; default false (runs at once)"),
  }),
  // allowReplace and respectMaintenance alone change nothing.
  [atLeastOneOf(['spec', 'labels', 'driftPolicy', 'expiresAt', 'ttl', 'maintenance']), expiryOnce],
).describe('UpdateClusterRequest');

export type CreateClusterBody = z.infer<typeof createClusterBody>;
export type UpdateClusterBody = z.infer<typeof updateClusterBody>;
