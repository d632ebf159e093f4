import { Router } from 'express';
import type { MaintenancePolicy } from '../../src/domain/maintenance.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import type { MaintenanceService } from '../../src/maintenance/maintenance-service.js';
import { maintenancePolicySchema } from '../../src/maintenance/policy-schema.js';
import { principalOf } from '../auth.js';
import { teamParam } from '../schemas/path-params.js';
import type { teamMaintenanceSchema } from '../schemas/maintenance.js';
import type { z } from 'zod';

const view = (team: string, policy: MaintenancePolicy | null): z.infer<typeof teamMaintenanceSchema> => ({ team, policy });

/** /v1/teams/{team}: a team's defaults for its clusters. */
export function teamsRouter(deps: { maintenance: MaintenanceService }): Router {
  const router = Router();
  const teamOf = (params: unknown) => parseOrThrow(teamParam, params, '', 'path').team;

  router.get('/:team/maintenance', async (req, res) => {
    const team = teamOf(req.params);
    res.json(view(team, await deps.maintenance.teamPolicy(principalOf(req), team)));
  });

  router.put('/:team/maintenance', async (req, res) => {
    const team = teamOf(req.params);
    const body = parseOrThrow(maintenancePolicySchema, req.body);
    res.json(view(team, await deps.maintenance.setTeamPolicy(principalOf(req), team, body)));
  });

  router.delete('/:team/maintenance', async (req, res) => {
    await deps.maintenance.setTeamPolicy(principalOf(req), teamOf(req.params), null);
    res.status(204).end();
  });

  return router;
}
