import { Router } from 'express';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import type { FleetVersions, FleetVersionsQuery } from '../../src/versions/fleet-versions.js';
import type { Principal } from '../../src/auth/principal.js';
import { principalOf } from '../auth.js';
import { fleetVersionsQuery } from '../schemas/list-queries.js';

/** /v1/fleet: views over every cluster the caller may see. */
export function fleetRouter(deps: { fleetVersions(principal: Principal, query: FleetVersionsQuery): Promise<FleetVersions> }): Router {
  const router = Router();

  router.get('/versions', async (req, res) => {
    const q = parseOrThrow(fleetVersionsQuery, req.query, 'query', 'query');
    res.json(await deps.fleetVersions(principalOf(req), q));
  });

  return router;
}
