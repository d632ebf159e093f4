import { Router } from 'express';
import { z } from 'zod';
import { generateToken, hashToken } from '../../src/auth/tokens.js';
import { teamNameSchema } from '../../src/domain/cluster.js';
import { keyOrFlag, withRules } from '../../src/lifecycle/object-rules.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import type { TokenStore } from '../../src/store/token-store.js';
import { requireAdmin } from '../auth.js';
import { issuedTokenView } from '../views.js';

export const createTokenBody = withRules(
  z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ., _ and -'),
    team: teamNameSchema.optional().describe('The team the token acts for; omit with admin: true'),
    admin: z.boolean().default(false),
  }),
  [keyOrFlag('team', 'admin')],
).describe('CreateTokenRequest');

/** POST /v1/tokens (admin): issues a token; its value is shown once and stored only hashed. */
export function tokensRouter(store: Pick<TokenStore, 'createToken'>): Router {
  const router = Router();
  router.post('/', requireAdmin, async (req, res) => {
    const body = parseOrThrow(createTokenBody, req.body);
    const token = generateToken();
    const stored = await store.createToken({ name: body.name, team: body.team ?? null, admin: body.admin, hash: hashToken(token) });
    res.status(201).json(issuedTokenView(stored, token));
  });
  return router;
}
