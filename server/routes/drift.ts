import { Router } from 'express';
import type { DriftService } from '../../src/drift/drift-service.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { principalOf } from '../auth.js';
import { driftHistoryQuery, fleetDriftQuery } from '../schemas/list-queries.js';
import { clusterNameParam, sweepIdParam } from '../schemas/path-params.js';
import { clusterDriftView, driftSweepView, fleetDriftView } from '../views.js';
import { limitPerToken } from '../rate-limit.js';
import type { RateLimiter } from '../../src/limits/rate-limiter.js';

/** Drift reports per cluster, the fleet summary, and sweeps. Mounted at /v1. */
export function driftRouter(deps: { drift: DriftService; limits?: { driftSweeps?: RateLimiter } }): Router {
  const router = Router();

  router.get('/clusters/:name/drift', async (req, res) => {
    const { name } = parseOrThrow(clusterNameParam, req.params, '', 'path');
    const q = parseOrThrow(driftHistoryQuery, req.query, 'query', 'query');
    const { latest, history } = await deps.drift.forCluster(principalOf(req), name, q.limit, q.cursor);
    res.json(clusterDriftView(latest, history));
  });

  router.get('/drift', async (req, res) => {
    const q = parseOrThrow(fleetDriftQuery, req.query, 'query', 'query');
    res.json(fleetDriftView(await deps.drift.fleet(principalOf(req), q.team)));
  });

  router.post('/drift/sweeps', limitPerToken(deps.limits?.driftSweeps, 'manual drift sweeps'), async (req, res) => {
    const sweep = await deps.drift.startSweep(principalOf(req));
    res.status(202).location(`/v1/drift/sweeps/${sweep.id}`).json(driftSweepView(sweep));
  });

  router.get('/drift/sweeps/:id', async (req, res) => {
    const { id } = parseOrThrow(sweepIdParam, req.params, '', 'path');
    res.json(driftSweepView(await deps.drift.sweep(principalOf(req), id)));
  });

  return router;
}
