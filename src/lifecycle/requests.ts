import { z } from 'zod';
import { InputError } from '../errors.js';
import { clusterNameSchema, labelsSchema, teamNameSchema, CLUSTER_STATUSES, DRIFT_POLICIES } from '../domain/cluster.js';
import { DURATION_PATTERN } from '../domain/duration.js';

const driftPolicy = z.enum(DRIFT_POLICIES).describe('What a drift check that finds drift leads to: none (report only), notify (drift.detected webhook), auto (also a remediate operation)');
const expiresAt = z.iso.datetime({ offset: true }).describe('When the cluster is destroyed on its own (ISO-8601 with offset)');
const ttl = z.string().regex(DURATION_PATTERN, 'must be a duration like 90m, 24h or 7d').describe('Life from now, instead of expiresAt');
const notBoth = (b: { expiresAt?: unknown; ttl?: unknown }) => b.expiresAt === undefined || b.ttl === undefined;
const notBothIssue = { message: 'give expiresAt or ttl, not both', path: ['ttl'] };

/** Body of POST /v1/clusters. The spec is checked again by the blueprint's own schema. */
export const createClusterBody = z
  .strictObject({
    name: clusterNameSchema.describe('Cluster and stack name'),
    blueprint: z.string().min(1).max(63).describe('Blueprint name, see GET /v1/blueprints'),
    team: teamNameSchema.optional().describe('Owning team; defaults to the token\'s team, required for admin tokens'),
    labels: labelsSchema.optional(),
    spec: z.record(z.string(), z.unknown()).describe('Blueprint-specific spec'),
    driftPolicy: driftPolicy.optional().describe('Drift policy; default notify'),
    expiresAt: expiresAt.optional(),
    ttl: ttl.optional(),
  })
  .refine(notBoth, notBothIssue)
  .describe('CreateClusterRequest');

/** Body of PATCH /v1/clusters/{name}: a JSON merge patch (RFC 7396) of the spec, and labels to replace. */
export const updateClusterBody = z
  .strictObject({
    spec: z.record(z.string(), z.unknown()).optional().describe('JSON merge patch applied to the desired spec; null removes a key'),
    labels: labelsSchema.optional().describe('Replaces all labels'),
    allowReplace: z.boolean().optional().describe('Accept a change that replaces node pools or the cluster itself (refused otherwise)'),
    driftPolicy: driftPolicy.optional(),
    expiresAt: expiresAt.nullable().optional().describe('New expiry (extends or shortens it), or null for none'),
    ttl: ttl.optional(),
  })
  .refine((b) => [b.spec, b.labels, b.driftPolicy, b.expiresAt, b.ttl].some((v) => v !== undefined), { message: 'give at least one of spec, labels, driftPolicy, expiresAt, ttl' })
  .refine(notBoth, notBothIssue)
  .describe('UpdateClusterRequest');

export const clusterNameParam = z.strictObject({ name: clusterNameSchema });
export const operationIdParam = z.strictObject({ id: z.uuid() });

const labelSelector = z
  .string()
  .regex(/^[^=,]+=[^=,]*$/, 'must be key=value')
  .transform((s) => s.split('=') as [string, string]);

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Page size'),
  cursor: z.string().max(512).optional().describe('nextCursor of the previous page'),
};

/** Query of GET /v1/clusters. `label` may repeat; every selector must match. */
export const listClustersQuery = z.strictObject({
  team: teamNameSchema.optional(),
  blueprint: z.string().max(63).optional(),
  status: z.enum(CLUSTER_STATUSES).optional(),
  label: z.union([labelSelector, z.array(labelSelector)]).optional(),
  ...pageQuery,
});

/** `label` as the query parser gives it (one string or several) -> the labels every cluster must carry. */
export function labelsOf(label: z.infer<typeof listClustersQuery>['label']): Record<string, string> | undefined {
  if (label === undefined) return undefined;
  const selectors = typeof label[0] === 'string' ? [label as [string, string]] : (label as [string, string][]);
  const labels: Record<string, string> = {};
  for (const [key, value] of selectors) {
    if (key in labels && labels[key] !== value) {
      const message = `selects "${key}" twice with different values`;
      throw new InputError(`query.label: ${message}`, [{ field: 'query.label', rule: 'conflict', message }]);
    }
    labels[key] = value;
  }
  return labels;
}

export const listOperationsQuery = z.strictObject(pageQuery);

export type CreateClusterBody = z.infer<typeof createClusterBody>;
export type UpdateClusterBody = z.infer<typeof updateClusterBody>;
