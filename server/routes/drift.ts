import { Router } from 'express';
import { z } from 'zod';
import type { DriftService } from '../../src/drift/drift-service.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { clusterNameParam, pageQuery } from '../../src/lifecycle/requests.js';
import { teamNameSchema } from '../../src/domain/cluster.js';
import { principalOf } from '../auth.js';
import type { driftSweepSchema, fleetDriftSchema } from '../response-schemas.js';
import { driftReportView } from '../views.js';
import { limitPerToken } from '../rate-limit.js';
import type { RateLimiter } from '../../src/limits/rate-limiter.js';

export const driftHistoryQuery = z.strictObject(pageQuery);
export const fleetDriftQuery = z.strictObject({ team: teamNameSchema.optional().describe('Admin only: one team') });
export const sweepIdParam = z.strictObject({ id: z.uuid() });

/** Drift reports per cluster, the fleet summary, and sweeps. Mounted at /v1. */
export function driftRouter(deps: { drift: DriftService; limits?: { driftSweeps?: RateLimiter } }): Router {
  const router = Router();

  router.get('/clusters/:name/drift', async (req, res) => {
    const { name } = parseOrThrow(clusterNameParam, req.params, '', 'path');
    const q = parseOrThrow(driftHistoryQuery, req.query, 'query', 'query');
    const { latest, history } = await deps.drift.forCluster(principalOf(req), name, q.limit, q.cursor);
    res.json({ latest: latest && driftReportView(latest), items: history.items.map(driftReportView), nextCursor: history.nextCursor });
  });

  router.get('/drift', async (req, res) => {
    const q = parseOrThrow(fleetDriftQuery, req.query, 'query', 'query');
    res.json((await deps.drift.fleet(principalOf(req), q.team)) satisfies z.output<typeof fleetDriftSchema>);
  });

  router.post('/drift/sweeps', limitPerToken(deps.limits?.driftSweeps, 'manual drift sweeps'), async (req, res) => {
    const sweep = await deps.drift.startSweep(principalOf(req));
    res.status(202).location(`/v1/drift/sweeps/${sweep.id}`).json(sweep satisfies z.output<typeof driftSweepSchema>);
  });

  router.get('/drift/sweeps/:id', async (req, res) => {
    const { id } = parseOrThrow(sweepIdParam, req.params, '', 'path');
    res.json((await deps.drift.sweep(principalOf(req), id)) satisfies z.output<typeof driftSweepSchema>);
  });

  return router;
}
