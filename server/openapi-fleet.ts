/** The /v1/fleet part of the OpenAPI description: views over every cluster the caller may see. */
import { json, parameters, ref, route, tagged } from './openapi-parts.js';
import { fleetVersionsQuery } from './schemas/list-queries.js';
import { clusterSupportSchema, fleetVersionsSchema } from './schemas/versions.js';

export const fleetTag = {
  name: 'Fleet',
  description:
    "The fleet by Kubernetes version: support status by the providers' calendars, what ends soon, and retired software still running",
};

export function fleetPaths() {
  return tagged('Fleet', {
    '/v1/fleet/versions': {
      get: route({
        operationId: 'getFleetVersions',
        summary:
          'Live clusters by blueprint, version and support status; those whose standard support ends within the horizon; those running retired software (a team token sees its team)',
        parameters: parameters(fleetVersionsQuery, 'query'),
        ok: { 200: json('Counts and lists, by the database clock', ref('FleetVersions')) },
      }),
    },
  });
}

export const fleetResponseSchemas = { FleetVersions: fleetVersionsSchema, ClusterSupport: clusterSupportSchema };
