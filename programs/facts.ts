/**
 * The facts of the built-in blueprints' specs (region, version, endpoint, node pools): what team
 * policies and quotas read. A pool without a desired size starts at its minimum.
 */
import type { ClusterFacts } from '../src/blueprints/blueprint.js';
import type { EndpointSpec } from './common-spec.js';
import type { EksSpec } from './eks-spec.js';
import type { GkeSpec } from './gke-spec.js';

interface Pool {
  name: string;
  minSize: number;
  maxSize: number;
  desiredSize?: number;
}

/** The facts both built-in specs share the layout of; `typeOf` reads a pool's instance (EKS) or machine (GKE) type. */
function factsOf<P extends Pool>(
  spec: { region: string; version: string; endpoint: EndpointSpec; nodePools: P[] },
  typeOf: (pool: P) => string,
): ClusterFacts {
  const { access, publicCidrs } = spec.endpoint;
  return {
    region: spec.region,
    version: spec.version,
    endpoint: { public: access !== 'private', publicCidrs: access === 'private' ? null : (publicCidrs ?? null) },
    nodePools: spec.nodePools.map((p) => ({
      name: p.name,
      instanceType: typeOf(p),
      minSize: p.minSize,
      maxSize: p.maxSize,
      desiredSize: p.desiredSize ?? p.minSize,
    })),
  };
}

export const eksFacts = (spec: EksSpec): ClusterFacts => factsOf(spec, (p) => p.instanceType);
export const gkeFacts = (spec: GkeSpec): ClusterFacts => factsOf(spec, (p) => p.machineType);
