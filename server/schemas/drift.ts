import { z } from 'zod';
import { DRIFT_STATUSES, SWEEP_STATUSES } from '../../src/domain/drift.js';
import { count, instant, nextCursor } from './common.js';
import { operationErrorSchema, resourceChangeSchema } from './operation.js';

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
  resources: z.array(resourceChangeSchema),
  error: operationErrorSchema.nullable(),
  remediation: z.strictObject({
    action: z.enum(['none', 'notified', 'remediating', 'skipped']),
    reason: z.string().optional(),
    operationId: z.uuid().optional(),
  }),
});

/** A cluster's latest report and a page of its reports, newest first. */
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
