import { z } from 'zod';
import { ROLES } from '../../src/auth/principal.js';
import { TOKEN_STATES } from '../../src/auth/token-record.js';
import { instant, pageOf } from './common.js';

/** A token as every answer shows it: never its value. */
export const tokenSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  team: z.string().nullable().describe('The team it acts for; null for an admin token'),
  role: z.enum(ROLES),
  state: z.enum(TOKEN_STATES).describe('By the database clock when read: only an active token authenticates'),
  createdAt: instant,
  expiresAt: instant.nullable().describe('When it stops working; null: never'),
  revokedAt: instant.nullable(),
  revokedBy: z.uuid().nullable().describe('The id of the admin token that revoked it'),
});

export const issuedTokenSchema = tokenSchema.extend({
  token: z.string().describe('The bearer token; shown only in this answer'),
});

export const tokenPageSchema = pageOf(tokenSchema);
