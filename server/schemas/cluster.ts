import { z } from 'zod';
import { CLUSTER_STATUSES, DRIFT_POLICIES } from '../../src/domain/cluster.js';
import { instant, jsonObject, pageOf } from './common.js';
import { maintenancePolicyViewSchema, maintenanceWindowSchema } from './maintenance.js';
import { operationSchema } from './operation.js';
import { clusterSupportSchema } from './versions.js';

export const clusterSchema = z.strictObject({
  name: z.string(),
  team: z.string(),
  blueprint: z.string(),
  labels: z.record(z.string(), z.string()),
  status: z.enum(CLUSTER_STATUSES),
  spec: jsonObject.describe('The desired spec; write-only fields read "[secret]"'),
  generation: z.int().min(1),
  appliedSpec: jsonObject.nullable().describe('The spec last applied successfully'),
  appliedGeneration: z.int().min(1).nullable(),
  outputs: jsonObject.describe('Stack outputs; secret ones read "[secret]"'),
  driftPolicy: z.enum(DRIFT_POLICIES),
  expiresAt: instant.nullable(),
  maintenance: maintenancePolicyViewSchema.nullable().describe("The cluster's own maintenance policy; null: its team's, if any"),
  maintenanceWindow: maintenanceWindowSchema.optional().describe('GET /v1/clusters/{name} only: the policy in effect and the next window'),
  support: clusterSupportSchema.nullable().describe('null when the blueprint has no support calendar or it does not list the version'),
  lastOperation: z.strictObject({ id: z.uuid(), href: z.string() }).nullable(),
  createdAt: instant,
  updatedAt: instant,
});

export const clusterPageSchema = pageOf(clusterSchema);
/** A change queued: the cluster as it now stands and the operation to follow. */
export const acceptedSchema = z.strictObject({
  cluster: clusterSchema,
  operation: operationSchema,
  notices: z
    .array(z.string())
    .optional()
    .describe('What the service decided that the request did not say, e.g. a new cluster put in extended support'),
});
/** PATCH that changed settings only: done at once, no operation. */
export const settingsChangedSchema = z.strictObject({ cluster: clusterSchema, operation: z.null() });
export const kubeconfigSchema = z.strictObject({ kubeconfig: z.string() });
export const kubeconfigReadsSchema = z.strictObject({ items: z.array(z.strictObject({ readBy: z.string(), readAt: instant })) });
