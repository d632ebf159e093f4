import { IANAZone } from 'luxon';
import { z } from 'zod';
import { WEEKDAYS, type MaintenancePolicy } from '../domain/maintenance.js';
import { MAX_WINDOW_MS, TIME_OF_DAY_PATTERN, WINDOW_DURATION_PATTERN, windowDurationMs } from './window-schedule.js';

const MAX_WINDOWS = 20;
const MAX_EXCLUSIONS = 50;

const windowSchema = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS))
    .min(1, 'must name at least one day')
    .max(7, 'must name at most 7 days')
    .refine((d) => new Set(d).size === d.length, { message: 'must not name a day twice', params: { rule: 'unique' } })
    .meta({ uniqueItems: true })
    .describe('Days the window opens on, in its time zone'),
  start: z.string().regex(TIME_OF_DAY_PATTERN, 'must be a local time of day like 02:00 or 02:00:30').describe('Local time it opens'),
  duration: z
    .string()
    .regex(WINDOW_DURATION_PATTERN, 'must be a duration like 4h, 90m or 30s')
    .refine((d) => (windowDurationMs(d) ?? 0) <= MAX_WINDOW_MS, { message: 'must be at most 7d', params: { rule: 'max' } })
    .describe('How long it stays open, at most 7d'),
  timezone: z
    .string()
    .refine((tz) => IANAZone.isValidZone(tz), {
      message: 'must be an IANA time zone like Europe/Paris or UTC',
      params: { rule: 'timezone' },
    })
    .describe('IANA time zone'),
});

// RFC 3339 (and the description's date-time) requires the seconds, which zod would let go.
const instant = z.iso
  .datetime({ offset: true })
  .regex(/T\d{2}:\d{2}:\d{2}/, 'must be an ISO-8601 date-time with seconds and an offset, like 2026-12-20T00:00:00+01:00');

const exclusionSchema = z
  .strictObject({
    start: instant.describe('When the freeze begins (ISO-8601 with offset)'),
    end: instant.describe('When it ends; after start'),
    // Counted in characters (code points), as JSON Schema's maxLength counts them.
    reason: z
      .string()
      .min(1, 'must not be empty')
      .refine((r) => [...r].length <= 200, { message: 'must be at most 200 characters', params: { rule: 'too_big' } })
      .meta({ maxLength: 200 })
      .describe('Why: shown to whoever waits'),
  })
  .refine((e) => Date.parse(e.end) > Date.parse(e.start), {
    message: 'must be after start',
    path: ['end'],
    params: { rule: 'after_start' },
  });

/**
 * A maintenance policy: the service starts work on its own (rollout members, drift remediation,
 * expiry destroys) only inside one of the windows and outside every exclusion. No window: every
 * moment outside the exclusions.
 */
export const maintenancePolicySchema = z
  .strictObject({
    windows: z
      .array(windowSchema)
      .max(MAX_WINDOWS, `must hold at most ${MAX_WINDOWS} windows`)
      .optional()
      .describe('Weekly windows; empty or absent: always open outside the exclusions'),
    exclusions: z
      .array(exclusionSchema)
      .max(MAX_EXCLUSIONS, `must hold at most ${MAX_EXCLUSIONS} exclusions`)
      .optional()
      .describe('Freezes that close every window while they last'),
  })
  .describe('MaintenancePolicy');

export type MaintenancePolicyBody = z.infer<typeof maintenancePolicySchema>;

/** The policy as recorded: both lists present. */
export const policyOf = (body: MaintenancePolicyBody): MaintenancePolicy => ({
  windows: body.windows ?? [],
  exclusions: body.exclusions ?? [],
});
