import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Security headers on every answer, set for a JSON API that no browser should render, frame or
 * embed: a CSP that allows nothing, no framing, nosniff, no referrer, resources readable only by
 * the same origin. HSTS is sent without includeSubDomains: the API does not own its parent
 * domain's policy (browsers ignore HSTS over plain HTTP anyway).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
    xFrameOptions: { action: 'deny' },
    xPoweredBy: true,
  });
}

/**
 * Every authenticated answer: `private`, because it is one caller's view (a shared cache must never
 * serve it to another token, even one that ignores the Authorization rule of RFC 9111), and
 * `no-cache`, because it describes live state (operations move on every second) and must be asked
 * for again before reuse. Nothing in these answers is a secret (secret outputs and write-only
 * fields are masked), so a private copy is acceptable; answers that do carry one use {@link noStore}.
 */
export const privateNoCache: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'private, no-cache');
  next();
};

/**
 * Answers that carry a token, a signing secret or a kubeconfig: no copy anywhere, browser included.
 * app.ts sets it on those routes before authentication, so that every answer they give carries it,
 * a 401 included.
 */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};
