/** A cluster's version support status, and the fleet by version (GET /v1/fleet/versions). */
import { z } from 'zod';
import { instant } from './common.js';

const day = z.iso.date();
const supportStatus = z
  .enum(['standard', 'extended', 'unsupported'])
  .describe("standard: in the provider's standard support; extended: past it, in extended support (extra cost); unsupported: past both");

export const clusterSupportSchema = z
  .strictObject({
    version: z
      .string()
      .describe("The Kubernetes minor version the cluster runs (the applied spec's; the desired one before the first run)"),
    targetVersion: z.string().nullable().describe('The desired version when an upgrade to it is not applied yet'),
    status: supportStatus,
    endOfStandardSupport: day,
    endOfExtendedSupport: day,
    daysToEndOfStandardSupport: z.int().describe('Whole days left in standard support; negative once it has ended'),
    extendedSupport: z
      .boolean()
      .nullable()
      .describe(
        'Whether the spec keeps the cluster in extended support past standard support (EKS upgradePolicy EXTENDED); null where the provider has none',
      ),
    nextVersion: z.string().nullable().describe('The version one upgrade step leads to (one minor up), if the calendar lists it'),
    newestInStandardSupport: z.string().nullable().describe('The version a new cluster of this blueprint gets by default'),
    calendar: z.strictObject({ source: z.string(), checked: day }).describe('Where the calendar row was read, and when'),
  })
  .describe("The support status of the cluster's Kubernetes version by its blueprint's calendar, now (the database's clock)");

const clusterRef = { cluster: z.string(), team: z.string(), blueprint: z.string() };

export const fleetVersionsSchema = z.strictObject({
  at: instant.describe('The instant the statuses are for'),
  horizonDays: z.int(),
  counts: z
    .array(
      z.strictObject({
        blueprint: z.string(),
        version: z.string().nullable().describe("null: the blueprint has no calendar, or it does not list the cluster's version"),
        status: z.enum(['standard', 'extended', 'unsupported', 'unknown']),
        clusters: z.int().min(1),
      }),
    )
    .describe('Live clusters by blueprint, version and support status'),
  endingSoon: z
    .strictObject({
      total: z.int().min(0),
      items: z.array(clusterSupportSchema.extend(clusterRef)),
    })
    .describe('Clusters whose standard support ends within the horizon or has ended, soonest first (at most `limit`)'),
  retired: z
    .strictObject({
      total: z.int().min(0),
      items: z.array(
        z.strictObject({
          ...clusterRef,
          field: z.string().describe('Where it is in the spec'),
          name: z.string(),
          since: day,
          reason: z.string(),
          replacedBy: z.string().optional().describe('What to move to, in the spec'),
        }),
      ),
    })
    .describe('Clusters running software whose project is retired (ingress-nginx), at most `limit`'),
});
