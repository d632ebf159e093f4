import type { Request, RequestHandler } from 'express';
import { hashToken } from '../src/auth/tokens.js';
import { ForbiddenError, UnauthenticatedError } from '../src/errors.js';
import type { Principal, RecordStore } from '../src/store/record-store.js';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Resolves `Authorization: Bearer <token>` to a principal, or answers 401. */
export function authenticate(store: Pick<RecordStore, 'findTokenByHash'>): RequestHandler {
  return async (req, _res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) return next(new UnauthenticatedError('missing Authorization: Bearer <token> header'));
    const token = await store.findTokenByHash(hashToken(match[1]!));
    if (!token) return next(new UnauthenticatedError('unknown or revoked token', true));
    req.principal = { tokenId: token.id, name: token.name, team: token.team, admin: token.admin };
    next();
  };
}

export const principalOf = (req: Request): Principal => {
  if (!req.principal) throw new UnauthenticatedError('not authenticated');
  return req.principal;
};

export const requireAdmin: RequestHandler = (req, _res, next) =>
  next(principalOf(req).admin ? undefined : new ForbiddenError('this route needs an admin token'));
