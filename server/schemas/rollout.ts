import { z } from 'zod';
import { MEMBER_STATES, ROLLOUT_MODES, ROLLOUT_STATUSES, STAGE_STATUSES } from '../../src/domain/rollout.js';
import { count, instant, jsonObject, pageOf } from './common.js';
import { waitingForSchema } from './maintenance.js';
import { changeSummary } from './operation.js';

const issueSchema = z.strictObject({ field: z.string(), rule: z.string(), message: z.string() });
const stepSchema = z.strictObject({ title: z.string(), patch: jsonObject.describe('JSON merge patch of the spec') });
const selectorSchema = z.strictObject({
  blueprint: z.string(),
  team: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
const changeSchema = z
  .union([
    z.strictObject({ spec: jsonObject }),
    z.strictObject({
      upgrade: z.strictObject({
        version: z.string(),
        requested: z
          .string()
          .optional()
          .describe('What the request named when it was not a version (newest-standard), resolved at creation'),
      }),
    }),
    z.strictObject({ addons: jsonObject }),
  ])
  .describe('The change, pinned when the rollout was created');

const stageSchema = z.strictObject({
  name: z.string(),
  selector: z.record(z.string(), z.string()).optional(),
  maxConcurrency: z.union([z.int().min(1), z.string()]),
  soakMs: count.describe('Soak after the stage, milliseconds'),
  maxFailures: count,
  approval: z.boolean(),
  status: z.enum(STAGE_STATUSES),
  members: count,
  startedAt: instant.nullable(),
  soakUntil: instant.nullable(),
  approvedBy: z.string().nullable(),
  approvedAt: instant.nullable(),
  completedAt: instant.nullable(),
});

const memberSchema = z.strictObject({
  cluster: z.string(),
  team: z.string(),
  stage: z.string().describe('Name of its stage'),
  state: z.enum(MEMBER_STATES),
  steps: z.array(stepSchema).describe('The change as planned when the rollout was created; each step is one update operation'),
  stepsDone: count,
  operations: z.array(z.uuid()).describe('Every operation queued for it, oldest first'),
  currentOperation: z.uuid().nullable(),
  error: z
    .strictObject({ code: z.string(), title: z.string() })
    .nullable()
    .describe(
      "Why it failed: its operation's error, drift after the change (drift-after-change), a change that no longer applies (change-refused), or a step its team's node quota refused as it started (quota-exceeded)",
    ),
  reason: z.string().nullable(),
  attempts: count,
  waitingFor: waitingForSchema.nullable().describe("Pending, but its cluster's maintenance window is closed"),
  summary: changeSummary.nullable().describe('A preview rollout: what its preview operation found would change'),
  startedAt: instant.nullable(),
  finishedAt: instant.nullable(),
});

const excludedSchema = z.strictObject({ cluster: z.string(), reason: z.enum(['invalid', 'unstaged']), issues: z.array(issueSchema) });

export const rolloutSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  team: z.string().nullable(),
  requestedBy: z.string(),
  mode: z.enum(ROLLOUT_MODES).describe('change: applies the change; preview: only previews it with the engine (enginePreview)'),
  selector: selectorSchema,
  change: changeSchema,
  onInvalid: z.enum(['refuse', 'skip']),
  waitForCleanDriftCheck: z.boolean(),
  status: z.enum(ROLLOUT_STATUSES),
  reason: z.string().nullable(),
  waitingFor: waitingForSchema
    .nullable()
    .describe('Members that could start wait for their maintenance window: when the first opens (detail: how many wait)'),
  currentStage: z.string().nullable().describe('Name of the stage under way; null once the rollout is over'),
  stages: z.array(stageSchema),
  members: z.array(memberSchema),
  excluded: z.array(excludedSchema).describe('Clusters the selector took that the rollout does not change, and why'),
  counts: z.strictObject(Object.fromEntries(MEMBER_STATES.map((s) => [s, count])) as Record<(typeof MEMBER_STATES)[number], typeof count>),
  createdAt: instant,
  updatedAt: instant,
  finishedAt: instant.nullable(),
});

export const rolloutPageSchema = pageOf(rolloutSchema);

export const rolloutPreviewSchema = z.strictObject({
  stages: z.array(
    z.strictObject({
      name: z.string(),
      maxConcurrency: z.int().min(1).describe('Members changed at once in this stage'),
      members: z.array(
        z.strictObject({
          cluster: z.string(),
          steps: z.array(stepSchema),
          specAfter: jsonObject.describe('The desired spec once every step is done; write-only fields masked'),
        }),
      ),
    }),
  ),
  excluded: z.array(excludedSchema),
});
