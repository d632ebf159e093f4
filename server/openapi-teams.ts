/** The /v1/teams part of the OpenAPI description: a team's defaults for its clusters. */
import { maintenancePolicySchema } from '../src/maintenance/policy-schema.js';
import { json, parameters, ref, requestSchema, route, tagged } from './openapi-parts.js';
import { teamMaintenanceSchema, waitingForSchema } from './schemas/maintenance.js';
import { teamParam } from './schemas/path-params.js';
import { teamPolicySchema } from '../src/guardrails/policy-schema.js';
import { teamOverviewSchema, teamPolicySchemaView } from './schemas/team-policy.js';

export const teamsTag = {
  name: 'Teams',
  description:
    "A team's policy and quotas (what it may create and change, checked before anything is recorded) and its defaults: the maintenance policy of its clusters that have none of their own",
};

export function teamPaths() {
  const team = parameters(teamParam, 'path');
  return tagged('Teams', {
    '/v1/teams/{team}': {
      get: route({
        operationId: 'getTeam',
        summary: "The team's policy and what its live clusters hold against each limit (an admin, or a token of that team)",
        parameters: team,
        ok: { 200: json('Policy, usage and limits', ref('TeamOverview')) },
        problems: { 404: 'Another team than the token’s' },
      }),
    },
    '/v1/teams/{team}/policy': {
      get: route({
        operationId: 'getTeamPolicy',
        summary: 'The team’s policy: quotas, allowed blueprints, regions and instance types, longest life, required labels',
        parameters: team,
        ok: { 200: json('The policy, or null', ref('TeamPolicyAnswer')) },
        problems: { 404: 'Another team than the token’s' },
      }),
      put: route({
        operationId: 'setTeamPolicy',
        summary:
          "Set the team's policy (admin), replacing the one in force. Every later create and change is checked against it (403 naming the rule); existing clusters are left as they are",
        parameters: team,
        body: ref('TeamPolicy'),
        ok: { 200: json('The policy now in force', ref('TeamPolicyAnswer')) },
        problems: { 403: undefined },
      }),
      delete: route({
        operationId: 'deleteTeamPolicy',
        summary: "Remove the team's policy (admin): only the service-wide defaults apply",
        parameters: team,
        idempotent: true,
        ok: { 204: { description: 'Removed' } },
        problems: { 403: undefined },
      }),
    },
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

export const teamRequestSchemas = () => ({
  MaintenancePolicy: requestSchema(maintenancePolicySchema),
  TeamPolicy: requestSchema(teamPolicySchema),
});
export const teamResponseSchemas = {
  TeamMaintenance: teamMaintenanceSchema,
  WaitingFor: waitingForSchema,
  TeamPolicyAnswer: teamPolicySchemaView,
  TeamOverview: teamOverviewSchema,
};
