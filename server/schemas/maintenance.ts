import { z } from 'zod';
import { WEEKDAYS } from '../../src/domain/maintenance.js';
import { instant } from './common.js';

/** Why something queued has not started: its maintenance window is closed. */
export const waitingForSchema = z
  .strictObject({
    reason: z.literal('maintenance-window'),
    next: instant.nullable().describe('When the next window opens outside every exclusion; null when none opens within a year'),
    detail: z.string().describe('Outside every window, or the exclusion that holds it'),
  })
  .describe('WaitingFor');

export const maintenancePolicyViewSchema = z
  .strictObject({
    windows: z.array(z.strictObject({ days: z.array(z.enum(WEEKDAYS)), start: z.string(), duration: z.string(), timezone: z.string() })),
    exclusions: z.array(z.strictObject({ start: z.string(), end: z.string(), reason: z.string() })),
  })
  .describe('MaintenancePolicyView');

/** The policy in effect on a cluster and what it says now (GET /v1/clusters/{name} only). */
export const maintenanceWindowSchema = z.strictObject({
  source: z.enum(['cluster', 'team']).nullable().describe("Whose policy is in effect: the cluster's own, its team's default, or none"),
  policy: maintenancePolicyViewSchema.nullable(),
  open: z.boolean().describe('The service may start work on its own now'),
  closesAt: instant.nullable().describe('While open: when the open stretch ends; null when it does not within a year'),
  waitingFor: waitingForSchema.nullable().describe('While closed: when it next opens, and why it is closed'),
});

export const teamMaintenanceSchema = z.strictObject({
  team: z.string(),
  policy: maintenancePolicyViewSchema
    .nullable()
    .describe("The team's default; null: none (clusters without their own policy are always open)"),
});
