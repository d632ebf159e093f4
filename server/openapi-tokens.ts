/** The /v1/tokens part of the OpenAPI description: tokens, their roles, expiry and revocation (admin). */
import { createTokenBody } from '../src/tokens/requests.js';
import { created, json, parameters, ref, requestSchema, route, tagged } from './openapi-parts.js';
import { listTokensQuery } from './schemas/list-queries.js';
import { tokenIdParam } from './schemas/path-params.js';
import { issuedTokenSchema, tokenPageSchema, tokenSchema } from './schemas/token.js';

export const tokensTag = {
  name: 'Tokens',
  description:
    'Bearer tokens and their roles (admin, member, approver, viewer), issued, listed and revoked by an admin; never their value but once',
};

const link = (operationId: string) => ({ operationId, parameters: { id: '$response.body#/id' } });

export function tokenPaths() {
  const id = parameters(tokenIdParam, 'path');
  return tagged('Tokens', {
    '/v1/tokens': {
      post: route({
        operationId: 'createToken',
        summary: 'Issue a token with a role and an optional expiry (admin); the value is shown once',
        body: ref('CreateTokenRequest'),
        secret: true,
        ok: {
          201: created('The token; its value is shown only here', ref('IssuedToken'), 'The token', {
            GetToken: link('getToken'),
            RevokeToken: link('revokeToken'),
          }),
        },
        problems: { 403: undefined },
      }),
      get: route({
        operationId: 'listTokens',
        summary: 'Tokens, newest first, revoked and expired ones included (admin); never their value',
        parameters: parameters(listTokensQuery, 'query'),
        ok: { 200: json('A page of tokens', ref('TokenPage')) },
        problems: { 403: undefined },
      }),
    },
    '/v1/tokens/{id}': {
      get: route({
        operationId: 'getToken',
        summary: 'Read a token (admin); never its value',
        parameters: id,
        ok: { 200: json('The token', ref('Token')) },
        problems: { 403: undefined, 404: undefined },
      }),
      delete: route({
        operationId: 'revokeToken',
        summary: 'Revoke a token (admin): it stops working at once, and stays listed as revoked',
        parameters: id,
        ok: { 204: { description: 'Revoked' } },
        problems: {
          403: undefined,
          404: 'No such token, or it is revoked already',
          409: 'It is the last active admin token: issue another admin token first',
        },
      }),
    },
  });
}

export const tokenRequestSchemas = () => ({ CreateTokenRequest: requestSchema(createTokenBody) });
export const tokenResponseSchemas = { Token: tokenSchema, IssuedToken: issuedTokenSchema, TokenPage: tokenPageSchema };
