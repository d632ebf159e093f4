import { z } from 'zod';
import { ROLES, type Role } from '../auth/principal.js';
import { teamNameSchema } from '../domain/cluster.js';
import { DURATION_PATTERN } from '../domain/duration.js';
import { notBoth, withRules, type ObjectRule } from '../lifecycle/object-rules.js';

const TEAM_ROLES = ROLES.filter((r): r is Exclude<Role, 'admin'> => r !== 'admin');

/** The role a body asks for: `role`, else `admin: true` (its first spelling), else member. */
export const roleOf = (body: { role?: Role; admin?: boolean }): Role => body.role ?? (body.admin === true ? 'admin' : 'member');

/** `admin` and `role` may both be given only when they say the same. */
const roleAgrees: ObjectRule = {
  holds: (b) => b.admin === undefined || b.role === undefined || b.admin === (b.role === 'admin'),
  field: 'admin',
  rule: 'role_agrees',
  message: 'admin: true is the first spelling of role: admin; given with role, it must say the same',
  jsonSchema: {
    anyOf: [
      { properties: { admin: false } },
      { properties: { role: false } },
      { properties: { admin: { const: true }, role: { const: 'admin' } } },
      { properties: { admin: { const: false }, role: { enum: TEAM_ROLES } } },
    ],
  },
};

/** An admin token acts for every team and names none; every other role acts for the one it names. */
const teamByRole: ObjectRule = {
  holds: (b) => (b.role === 'admin' || b.admin === true) !== (b.team !== undefined),
  field: 'team',
  rule: 'team_by_role',
  message: 'a member, approver or viewer token names its team; an admin token (role: admin) names none',
  jsonSchema: {
    anyOf: [
      { required: ['team'], properties: { role: { enum: TEAM_ROLES }, admin: { const: false } } },
      { required: ['role'], properties: { role: { const: 'admin' }, team: false } },
      { required: ['admin'], properties: { admin: { const: true }, team: false } },
    ],
  },
};

/** The longest life a token can be given, in days (ten years). */
export const TOKEN_MAX_LIFE_DAYS = 3650;

/** Body of POST /v1/tokens. */
export const createTokenBody = withRules(
  z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ., _ and -'),
    role: z
      .enum(ROLES)
      .optional()
      .describe(
        'admin: everything, every team; member (the default): its team’s clusters; approver: a member who may also approve others’ requests of its team; viewer: read-only, never a kubeconfig',
      ),
    admin: z.boolean().optional().describe('true: the first spelling of role: admin'),
    team: teamNameSchema.optional().describe('The team the token acts for; required for every role but admin, which has none'),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(`When the token stops working (ISO-8601 with offset): in the future, at most ${TOKEN_MAX_LIFE_DAYS} days ahead`),
    ttl: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration like 90m, 24h or 7d')
      .optional()
      .describe(`Life from now, instead of expiresAt; at most ${TOKEN_MAX_LIFE_DAYS}d. Without either the token never expires`),
  }),
  [roleAgrees, teamByRole, notBoth('expiresAt', 'ttl')],
).describe('CreateTokenRequest');

export type CreateTokenBody = z.infer<typeof createTokenBody>;
