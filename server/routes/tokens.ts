import { Router } from 'express';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createTokenBody } from '../../src/tokens/requests.js';
import type { TokenService } from '../../src/tokens/token-service.js';
import { principalOf } from '../auth.js';
import { listTokensQuery } from '../schemas/list-queries.js';
import { tokenIdParam } from '../schemas/path-params.js';
import { issuedTokenView, tokenPageView, tokenView } from '../token-views.js';

/** /v1/tokens (admin): issue (the value is shown once and stored only hashed), list, read, revoke. */
export function tokensRouter(tokens: TokenService): Router {
  const router = Router();
  const idOf = (params: unknown) => parseOrThrow(tokenIdParam, params, '', 'path').id;

  router.post('/', async (req, res) => {
    const { token, value } = await tokens.issue(principalOf(req), parseOrThrow(createTokenBody, req.body));
    res.status(201).location(`/v1/tokens/${token.id}`).json(issuedTokenView(token, value));
  });

  router.get('/', async (req, res) => {
    const q = parseOrThrow(listTokensQuery, req.query, 'query', 'query');
    res.json(tokenPageView(await tokens.list(principalOf(req), q)));
  });

  router.get('/:id', async (req, res) => {
    res.json(tokenView(await tokens.get(principalOf(req), idOf(req.params))));
  });

  router.delete('/:id', async (req, res) => {
    await tokens.revoke(principalOf(req), idOf(req.params));
    res.status(204).end();
  });

  return router;
}
