/** The query strings of the API's lists, as the routes parse them and the description states them. */
import { z } from 'zod';
import { TOKEN_STATES } from '../../src/auth/token-record.js';
import { CLUSTER_STATUSES, LABEL_KEY, LABEL_VALUE, MAX_LABELS, teamNameSchema } from '../../src/domain/cluster.js';
import { InputError } from '../../src/errors.js';
import { blueprintNameSchema } from '../../src/lifecycle/requests.js';
import { queryIntegerOr } from './query-integer.js';

/** `key=value`, both as labels allow them (so nothing a label could not hold reaches the query). */
const labelSelector = z
  .string()
  .regex(new RegExp(`^${LABEL_KEY.source}=${LABEL_VALUE.source}$`), 'must be key=value with a label key and value (see labels)')
  .transform((s) => s.split('=') as [string, string]);

/** Opaque page cursors are base64url text made by the store. */
const cursorSchema = z
  .string()
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor returned by the previous page');

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

/** Query of GET /v1/clusters/{name}/operations. */
export const listOperationsQuery = z.strictObject(pageQuery);

/** Query of GET /v1/clusters/{name}/kubeconfig/reads: the newest reads, no paging. */
export const kubeconfigReadsQuery = z.strictObject({ limit: pageQuery.limit });

/** Query of GET /v1/clusters/{name}/drift. */
export const driftHistoryQuery = z.strictObject(pageQuery);

/** Query of GET /v1/drift. */
export const fleetDriftQuery = z.strictObject({ team: teamNameSchema.optional().describe('Admin only: one team') });

/** Query of GET /v1/fleet/versions. */
export const fleetVersionsQuery = z.strictObject({
  team: teamNameSchema.optional().describe('Admin only: one team'),
  horizonDays: queryIntegerOr(0, 3650, 90).describe('List the clusters whose standard support ends within this many days (or has ended)'),
  limit: queryIntegerOr(1, 1000, 100).describe('Most clusters in each list; the counts cover every cluster'),
});

/** Query of GET /v1/webhooks/{id}/deliveries. */
export const listDeliveriesQuery = z.strictObject(pageQuery);

/** Query of GET /v1/tokens. */
export const listTokensQuery = z.strictObject({
  team: teamNameSchema.optional().describe('Only the tokens of this team'),
  state: z.enum(TOKEN_STATES).optional().describe('Only the tokens in this state, by the database clock; default every state'),
  ...pageQuery,
});

/** Query of GET /v1/rollouts. */
export const listRolloutsQuery = z.strictObject(pageQuery);

/** Query of the routes that queue a person's operation without a body (DELETE, preview, refresh, drift-check, remediate). */
export const queueOperationQuery = z.strictObject({
  respectMaintenance: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      "true: the operation waits for the cluster's maintenance window, as the service's own work does; default false (runs at once)",
    ),
});
