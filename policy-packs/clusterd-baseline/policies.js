// The policies of the clusterd-baseline pack, apart from the pack so that tests can call them
// without serving anything. They read the inputs of the resources the built-in blueprints declare
// (programs/eks.ts, programs/gke.ts) by type token, so the pack loads no cloud SDK.
/* global module */
'use strict';

const ANY_ADDRESS = new Set(['0.0.0.0/0', '::/0']);

/** True when a list of CIDR blocks is missing or empty (the provider's default: any address) or names any address. */
const opensToAll = (cidrs) => !Array.isArray(cidrs) || cidrs.length === 0 || cidrs.some((cidr) => ANY_ADDRESS.has(cidr));

/** @type {import('@pulumi/policy').ResourceValidationPolicy} */
const endpointNotOpenToTheInternet = {
  name: 'endpoint-not-open-to-the-internet',
  description: "A cluster's Kubernetes API endpoint is private, or public only to listed networks.",
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type === 'aws:eks/cluster:Cluster') {
      const vpc = args.props.vpcConfig ?? {};
      // EKS makes the endpoint public unless told otherwise, and open to 0.0.0.0/0 unless given CIDRs.
      if (vpc.endpointPublicAccess !== false && opensToAll(vpc.publicAccessCidrs))
        reportViolation('the EKS API endpoint is public to any address: set publicAccessCidrs, or make it private');
    } else if (args.type === 'gcp:container/cluster:Cluster') {
      if (args.props.privateClusterConfig?.enablePrivateEndpoint === true) return;
      const networks = args.props.masterAuthorizedNetworksConfig;
      // Without authorized networks a public GKE endpoint takes any address; with them, only those listed.
      if (!networks || (networks.cidrBlocks ?? []).some((block) => ANY_ADDRESS.has(block.cidrBlock)))
        reportViolation('the GKE API endpoint is public to any address: list authorized networks, or make it private');
    }
  },
};

/** @type {import('@pulumi/policy').ResourceValidationPolicy} */
const nodePoolMaxSize = {
  name: 'node-pool-max-size',
  description: 'A node pool can grow to at most `maxNodes` nodes.',
  enforcementLevel: 'mandatory',
  configSchema: { properties: { maxNodes: { type: 'integer', minimum: 1, default: 100 } } },
  validateResource: (args, reportViolation) => {
    const most = mostNodesOf(args);
    if (most === null) return;
    const { maxNodes } = args.getConfig();
    if (most > maxNodes) reportViolation(`the node pool can grow to ${most} nodes; at most ${maxNodes} are allowed`);
  },
};

/** The most nodes a pool may have, or null for other resources and sizes not known yet (a preview). */
function mostNodesOf(args) {
  if (args.type === 'aws:eks/nodeGroup:NodeGroup') return numberOrNull(args.props.scalingConfig?.maxSize);
  if (args.type !== 'gcp:container/nodePool:NodePool') return null;
  const { autoscaling, nodeCount, nodeLocations } = args.props;
  if (autoscaling?.totalMaxNodeCount !== undefined) return numberOrNull(autoscaling.totalMaxNodeCount);
  // Per-zone counts: times the zones listed, else one zone (a lower bound: a regional pool spans the region's zones).
  const zones = Array.isArray(nodeLocations) && nodeLocations.length ? nodeLocations.length : 1;
  const perZone = numberOrNull(autoscaling?.maxNodeCount ?? nodeCount);
  return perZone === null ? null : perZone * zones;
}

const numberOrNull = (value) => (typeof value === 'number' ? value : null);

/** @type {import('@pulumi/policy').ResourceValidationPolicy} */
const gkePrivateNodes = {
  name: 'gke-private-nodes',
  description: 'GKE nodes have internal addresses only.',
  enforcementLevel: 'advisory',
  validateResource: (args, reportViolation) => {
    if (args.type !== 'gcp:container/cluster:Cluster') return;
    if (args.props.privateClusterConfig?.enablePrivateNodes !== true)
      reportViolation('the GKE nodes get public addresses: enable private nodes (privateNodes.enabled in the spec)');
  },
};

module.exports = { endpointNotOpenToTheInternet, nodePoolMaxSize, gkePrivateNodes };
