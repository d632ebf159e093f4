import { Router } from 'express';
import type { z } from 'zod';
import type { healthSchema, readinessSchema } from '../schemas/meta.js';

export type Check = () => Promise<void>;

/**
 * `/healthz` (the process answers) and `/readyz` (every dependency is usable); no token needed.
 * Once `draining()` is true (the process is shutting down) `/readyz` answers 503 `draining` at once,
 * without looking at any dependency, while `/healthz` still answers 200: the process is alive.
 */
export function healthRouter(checks: Record<string, Check>, draining: () => boolean = () => false): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' } satisfies z.output<typeof healthSchema>));
  router.get('/readyz', async (_req, res) => {
    if (draining()) return void res.status(503).json({ status: 'draining' } satisfies z.output<typeof readinessSchema>);
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, { ok: true }] as const;
        } catch (err) {
          // The reason names the failing dependency, not its connection string or credentials.
          return [name, { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : 'failed' }] as const;
        }
      }),
    );
    const ok = results.every(([, r]) => r.ok);
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : 'not-ready', checks: Object.fromEntries(results) } satisfies z.output<typeof readinessSchema>);
  });
  return router;
}
