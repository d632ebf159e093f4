import { z } from 'zod';
import { labelsSchema, teamNameSchema } from '../domain/cluster.js';
import { ON_INVALID, type RolloutChange } from '../domain/rollout.js';
import { blueprintNameSchema } from '../lifecycle/requests.js';
import { exactlyOneOf, withRules } from '../lifecycle/object-rules.js';

/** A soak: `0`, or a whole number of seconds, minutes, hours or days (`30s`, `30m`, `2h`, `1d`). */
export const SOAK_PATTERN = /^(0|[1-9]\d{0,5}(s|m|h|d))$/;
const SOAK_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A soak as milliseconds; the text has passed {@link SOAK_PATTERN}. */
export function soakMs(text: string): number {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text)!;
  return Number(m[1]) * (m[2] ? SOAK_UNIT_MS[m[2] as keyof typeof SOAK_UNIT_MS] : 0);
}

/** The upgrade target that names no version: the newest in standard support when the rollout is created. */
export const NEWEST_STANDARD = 'newest-standard';

/** A percentage of a stage's members, 1-100. */
export const PERCENT_PATTERN = /^([1-9]\d?|100)%$/;

const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and -, starting with a letter or digit');

const stageSchema = z.strictObject({
  name: nameSchema.describe('Stage name, unique in the rollout'),
  selector: labelsSchema
    .optional()
    .describe('Labels a member must carry to belong to this stage; absent: every member that no earlier stage took'),
  maxConcurrency: z
    .union([
      z.int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
      z.string().regex(PERCENT_PATTERN, 'must be a count or a percentage from 1% to 100%'),
    ])
    .describe("Members changed at once: a count, or a percentage of the stage's members (rounded up, at least 1)"),
  soak: z
    .string()
    .regex(SOAK_PATTERN, 'must be 0 or a duration like 30s, 30m, 2h or 1d')
    .optional()
    .describe('Wait after every member of the stage is done, before the next stage; default 0'),
  maxFailures: z
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(1000, 'must be at most 1000')
    .optional()
    .describe('Failed members the stage tolerates; one more halts the rollout. Default 0'),
  approval: z.boolean().optional().describe('Wait for POST /v1/rollouts/{id}/approve once the stage is done; default false'),
});

const changeSchema = withRules(
  z.strictObject({
    spec: z.record(z.string(), z.unknown()).optional().describe('JSON merge patch of the spec, as PATCH /v1/clusters/{name}'),
    upgrade: z
      .strictObject({
        version: z
          .string()
          .regex(new RegExp(`^(1\\.\\d{1,2}|${NEWEST_STANDARD})$`), 'must look like 1.31, or be newest-standard')
          .describe(
            "Kubernetes minor version to reach, or newest-standard: the newest version in standard support by the blueprint's calendar when the rollout is created (pinned then)",
          ),
      })
      .optional()
      .describe("Upgrade by the blueprint's own rules: one recorded operation per step, one minor version at a time"),
    addons: z.record(z.string(), z.unknown()).optional().describe('JSON merge patch of the add-on section of the spec'),
  }),
  [exactlyOneOf(['spec', 'upgrade', 'addons'])],
).describe('RolloutChange');

/** Body of POST /v1/rollouts and POST /v1/rollouts/preview. */
export const createRolloutBody = z
  .strictObject({
    name: nameSchema.describe('A name for people; need not be unique'),
    selector: z
      .strictObject({
        blueprint: blueprintNameSchema.describe('Blueprint of the clusters to change'),
        team: teamNameSchema.optional().describe("Only this team's clusters; a team token may only name its own"),
        labels: labelsSchema.optional().describe('Only clusters carrying every one of these labels'),
      })
      .describe('Which live clusters the rollout takes, when it is created'),
    change: changeSchema,
    strategy: z.strictObject({
      stages: z
        .array(stageSchema)
        .min(1, 'must have at least 1 stage')
        .max(20, 'must have at most 20 stages')
        .refine((stages) => new Set(stages.map((s) => s.name)).size === stages.length, {
          message: 'stage names must be unique',
          params: { rule: 'unique' },
        }),
      waitForCleanDriftCheck: z
        .boolean()
        .optional()
        .describe('A member is done once a drift check after its change is clean, not when its change succeeded; default false'),
    }),
    onInvalid: z
      .enum(ON_INVALID)
      .optional()
      .describe('Members whose blueprint refuses the change: refuse the whole rollout (default) or leave them out'),
  })
  .describe('CreateRolloutRequest');

export type CreateRolloutBody = z.infer<typeof createRolloutBody>;

/** Body of POST /v1/rollouts/preview: a rollout as it would be created, and whether to preview it with the engine. */
export const previewRolloutBody = createRolloutBody
  .extend({
    enginePreview: z
      .boolean()
      .optional()
      .describe(
        "Also run a preview operation of each member's resulting spec (within each stage's concurrency): answers 202 with a rollout in preview mode whose members gather what would change; default false (the plan, at once)",
      ),
  })
  .describe('PreviewRolloutRequest');

export type PreviewRolloutBody = z.infer<typeof previewRolloutBody>;

/** The change of a parsed body as the one kind it is: the schema lets exactly one through. */
export function changeOf(change: CreateRolloutBody['change']): RolloutChange {
  if (change.upgrade) return { upgrade: change.upgrade };
  if (change.addons) return { addons: change.addons };
  return { spec: change.spec ?? {} };
}
