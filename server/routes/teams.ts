import { Router } from 'express';
import type { MaintenancePolicy } from '../../src/domain/maintenance.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import type { MaintenanceService } from '../../src/maintenance/maintenance-service.js';
import { maintenancePolicySchema } from '../../src/maintenance/policy-schema.js';
import { principalOf } from '../auth.js';
import { teamParam } from '../schemas/path-params.js';
import type { teamMaintenanceSchema } from '../schemas/maintenance.js';
import type { z } from 'zod';
import { teamPolicySchema } from '../../src/guardrails/policy-schema.js';
import type { TeamPolicyService } from '../../src/guardrails/team-policy-service.js';
import type { teamOverviewSchema, teamPolicySchemaView } from '../schemas/team-policy.js';

const view = (team: string, policy: MaintenancePolicy | null): z.infer<typeof teamMaintenanceSchema> => ({ team, policy });

/** /v1/teams/{team}: a team's defaults for its clusters, its policy and what it holds against it. */
export function teamsRouter(deps: { maintenance: MaintenanceService; teamPolicies: TeamPolicyService }): Router {
  const router = Router();
  const teamOf = (params: unknown) => parseOrThrow(teamParam, params, '', 'path').team;

  router.get('/:team', async (req, res) => {
    res.json((await deps.teamPolicies.overview(principalOf(req), teamOf(req.params))) satisfies z.infer<typeof teamOverviewSchema>);
  });

  router.get('/:team/policy', async (req, res) => {
    const team = teamOf(req.params);
    res.json({ team, policy: await deps.teamPolicies.policy(principalOf(req), team) } satisfies z.infer<typeof teamPolicySchemaView>);
  });

  router.put('/:team/policy', async (req, res) => {
    const team = teamOf(req.params);
    const body = parseOrThrow(teamPolicySchema, req.body);
    res.json({ team, policy: await deps.teamPolicies.setPolicy(principalOf(req), team, body) } satisfies z.infer<
      typeof teamPolicySchemaView
    >);
  });

  router.delete('/:team/policy', async (req, res) => {
    await deps.teamPolicies.setPolicy(principalOf(req), teamOf(req.params), null);
    res.status(204).end();
  });

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
