/** Token records -> the JSON answers (see views.ts): never a token's value, but in the answer that issues it. */
import type { z } from 'zod';
import type { TokenRecord } from '../src/auth/token-record.js';
import type { Page } from '../src/domain/page.js';
import type { issuedTokenSchema, tokenPageSchema, tokenSchema } from './schemas/token.js';

export function tokenView(t: TokenRecord): z.infer<typeof tokenSchema> {
  return {
    id: t.id,
    name: t.name,
    team: t.team,
    role: t.role,
    state: t.state,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    revokedBy: t.revokedBy,
  };
}

/** A token just issued: the only answer that shows its value. */
export function issuedTokenView(t: TokenRecord, token: string): z.infer<typeof issuedTokenSchema> {
  return { ...tokenView(t), token };
}

export function tokenPageView(page: Page<TokenRecord>): z.infer<typeof tokenPageSchema> {
  return { items: page.items.map(tokenView), nextCursor: page.nextCursor };
}
