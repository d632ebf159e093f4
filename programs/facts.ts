/**
 * The facts of the built-in blueprints' specs (region, version, endpoint, node pools): what team
 * policies and quotas read. A pool without a desired size starts at its minimum.
 */
import type { ClusterFacts } from '../src/blueprints/blueprint.js';
import type { EndpointSpec } from './common-spec.js';
import type { EksSpec } from './eks-spec.js';
import type { GkeSpec } from './gke-spec.js';

function endpointFacts(endpoint: EndpointSpec): ClusterFacts['endpoint'] {
  return { public: endpoint.access !== 'private', publicCidrs: endpoint.access === 'private' ? null : (endpoint.publicCidrs ?? null) };
}

export function eksFacts(spec: EksSpec): ClusterFacts {
  return {
    region: spec.region,
    version: spec.version,
    endpoint: endpointFacts(spec.endpoint),
    nodePools: spec.nodePools.map((p) => ({
      name: p.name,
      instanceType: p.instanceType,
      minSize: p.minSize,
      maxSize: p.maxSize,
      desiredSize: p.desiredSize ?? p.minSize,
    })),
  };
}

export function gkeFacts(spec: GkeSpec): ClusterFacts {
  return {
    region: spec.region,
    version: spec.version,
    endpoint: endpointFacts(spec.endpoint),
    nodePools: spec.nodePools.map((p) => ({
      name: p.name,
      instanceType: p.machineType,
      minSize: p.minSize,
      maxSize: p.maxSize,
      desiredSize: p.desiredSize ?? p.minSize,
    })),
  };
}
