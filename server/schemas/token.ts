import { z } from 'zod';

export const issuedTokenSchema = z.strictObject({
  id: z.uuid(),
  name: z.string(),
  team: z.string().nullable(),
  admin: z.boolean(),
  token: z.string().describe('The bearer token; shown only in this answer'),
});
