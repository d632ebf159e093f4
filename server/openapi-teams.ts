/** The /v1/teams part of the OpenAPI description: a team's defaults for its clusters. */
import { maintenancePolicySchema } from '../src/maintenance/policy-schema.js';
import { json, parameters, ref, requestSchema, route, tagged } from './openapi-parts.js';
import { teamMaintenanceSchema, waitingForSchema } from './schemas/maintenance.js';
import { teamParam } from './schemas/path-params.js';

export const teamsTag = {
  name: 'Teams',
  description:
    "A team's defaults: the maintenance policy of its clusters that have none of their own (work the service starts on its own waits for a window)",
};

export function teamPaths() {
  const team = parameters(teamParam, 'path');
  return tagged('Teams', {
    '/v1/teams/{team}/maintenance': {
      get: route({
        operationId: 'getTeamMaintenance',
        summary: "The team's default maintenance policy (an admin, or a token of that team)",
        parameters: team,
        ok: { 200: json('The policy, or null', ref('TeamMaintenance')) },
        problems: { 404: 'Another team than the token’s' },
      }),
      put: route({
        operationId: 'setTeamMaintenance',
        summary:
          "Set the team's default maintenance policy (admin). Clusters with their own policy keep it; operations waiting for a window are looked at again",
        parameters: team,
        body: ref('MaintenancePolicy'),
        ok: { 200: json('The policy now in force', ref('TeamMaintenance')) },
        problems: { 403: undefined },
      }),
      delete: route({
        operationId: 'deleteTeamMaintenance',
        summary: "Remove the team's default (admin): its clusters without their own policy are always open",
        parameters: team,
        idempotent: true,
        ok: { 204: { description: 'Removed' } },
        problems: { 403: undefined },
      }),
    },
  });
}

export const teamRequestSchemas = () => ({ MaintenancePolicy: requestSchema(maintenancePolicySchema) });
export const teamResponseSchemas = { TeamMaintenance: teamMaintenanceSchema, WaitingFor: waitingForSchema };
