import { z } from 'zod';
import { InputError } from '../errors.js';
import { clusterNameSchema, labelsSchema, teamNameSchema, CLUSTER_STATUSES, DRIFT_POLICIES, LABEL_KEY, LABEL_VALUE, MAX_LABELS } from '../domain/cluster.js';
import { DURATION_PATTERN } from '../domain/duration.js';
import { atLeastOneOf, notBoth, withRules } from './object-rules.js';

/**
 * A whole number in a query string or header: digits only (no sign, exponent, hex, or spaces, which
 * `Number()` would take) within [min, max]. Described to OpenAPI as the integer it is.
 */
export function queryInteger(min: number, max: number) {
  const digits = new RegExp(`^\\d{1,${String(max).length}}$`);
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .preprocess((v) => (typeof v === 'string' && digits.test(v) ? Number(v) : v), z.number({ error: message }).int(message).min(min, message).max(max, message))
    .meta({ type: 'integer', minimum: min, maximum: max });
}

/**
 * {@link queryInteger} with a default. A prefault (the value parsed when the parameter is absent)
 * rather than a default: zod leaves the default of a preprocessed value out of the OpenAPI
 * description, the prefault it keeps.
 */
export function queryIntegerOr(min: number, max: number, fallback: number) {
  return queryInteger(min, max).prefault(fallback);
}

/** Blueprint names as the registry accepts them. */
export const blueprintNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit');

const driftPolicy = z.enum(DRIFT_POLICIES).describe('What a drift check that finds drift leads to: none (report only), notify (drift.detected webhook), auto (also a remediate operation)');
// A time zone offset can carry 9999-12-31T23:59:59-23:59 into the year 10000, which neither
// toISOString's plain form nor a timestamptz column takes.
const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const expiresAt = z.iso
  .datetime({ offset: true })
  .refine((s) => Date.parse(s) <= LATEST_INSTANT, { message: 'must be at most 9999-12-31T23:59:59Z once converted to UTC', params: { rule: 'range' } })
  .describe('When the cluster is destroyed on its own (ISO-8601 with offset)');
const ttl = z.string().regex(DURATION_PATTERN, 'must be a duration like 90m, 24h or 7d').describe('Life from now, instead of expiresAt');
const expiryOnce = notBoth('expiresAt', 'ttl');

/** Body of POST /v1/clusters. The spec is checked again by the blueprint's own schema. */
export const createClusterBody = withRules(
  z.strictObject({
    name: clusterNameSchema.describe('Cluster and stack name'),
    blueprint: blueprintNameSchema.describe('Blueprint name, see GET /v1/blueprints'),
    team: teamNameSchema.optional().describe('Owning team; defaults to the token\'s team, required for admin tokens'),
    labels: labelsSchema.optional(),
    spec: z.record(z.string(), z.unknown()).describe('Blueprint-specific spec'),
    driftPolicy: driftPolicy.optional().describe('Drift policy; default notify'),
    expiresAt: expiresAt.optional(),
    ttl: ttl.optional(),
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
  }),
  // allowReplace alone changes nothing.
  [atLeastOneOf(['spec', 'labels', 'driftPolicy', 'expiresAt', 'ttl']), expiryOnce],
).describe('UpdateClusterRequest');

export const clusterNameParam = z.strictObject({ name: clusterNameSchema });
export const operationIdParam = z.strictObject({ id: z.uuid() });

/** `key=value`, both as labels allow them (so nothing a label could not hold reaches the query). */
const labelSelector = z
  .string()
  .regex(new RegExp(`^${LABEL_KEY.source}=${LABEL_VALUE.source}$`), 'must be key=value with a label key and value (see labels)')
  .transform((s) => s.split('=') as [string, string]);

/** Opaque page cursors are base64url text made by the store. */
const cursorSchema = z.string().max(512).regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned by the previous page');

export const pageQuery = {
  limit: queryIntegerOr(1, 200, 50).describe('Page size'),
  cursor: cursorSchema.optional().describe('nextCursor of the previous page'),
};

/** Query of GET /v1/clusters. `label` may repeat; every selector must match. */
export const listClustersQuery = z.strictObject({
  team: teamNameSchema.optional(),
  blueprint: blueprintNameSchema.optional(),
  status: z.enum(CLUSTER_STATUSES).optional(),
  // One `label=` arrives as a string, several as an array: always an array from here on.
  label: z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(labelSelector).max(MAX_LABELS, `must be at most ${MAX_LABELS} selectors`))
    .optional()
    .describe(`key=value; repeat for up to ${MAX_LABELS} selectors, all of which must match`),
  ...pageQuery,
});

/** The `label` selectors -> the labels every cluster must carry. */
export function labelsOf(selectors: z.infer<typeof listClustersQuery>['label']): Record<string, string> | undefined {
  if (selectors === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const [key, value] of selectors) {
    if (Object.hasOwn(labels, key) && labels[key] !== value) {
      const message = `selects "${key}" twice with different values`;
      throw new InputError(`query.label: ${message}`, [{ field: 'query.label', rule: 'conflict', message }]);
    }
    labels[key] = value;
  }
  return labels;
}

export const listOperationsQuery = z.strictObject(pageQuery);

/** Query of GET /v1/clusters/{name}/kubeconfig/reads: the newest reads, no paging. */
export const kubeconfigReadsQuery = z.strictObject({ limit: pageQuery.limit });

export type CreateClusterBody = z.infer<typeof createClusterBody>;
export type UpdateClusterBody = z.infer<typeof updateClusterBody>;
