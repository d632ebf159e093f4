import { createRequire } from 'node:module';
import type { ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy';
import { describe, expect, it } from 'vitest';

// The pack is CommonJS JavaScript, as the CLI's policy runner loads it.
const require = createRequire(import.meta.url);
const { endpointNotOpenToTheInternet, nodePoolMaxSize, gkePrivateNodes } = require('../../policy-packs/clusterd-baseline/policies.js') as {
  [name in 'endpointNotOpenToTheInternet' | 'nodePoolMaxSize' | 'gkePrivateNodes']: ResourceValidationPolicy;
};

/**
 * Runs a policy on one resource as the analyzer would: its config is the schema's defaults with
 * `config` over them. Returns what it reported.
 */
function check(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>, config: object = {}): string[] {
  const defaults = Object.fromEntries(Object.entries(policy.configSchema?.properties ?? {}).map(([key, schema]) => [key, schema.default]));
  const args = {
    type,
    props,
    urn: `urn:pulumi:dev::clusterd::${type}::x`,
    name: 'x',
    getConfig: () => ({ ...defaults, ...config }),
  } as unknown as ResourceValidationArgs;
  const reported: string[] = [];
  void (policy.validateResource as ResourceValidation)(args, (message) => reported.push(message));
  return reported;
}

const EKS = 'aws:eks/cluster:Cluster';
const GKE = 'gcp:container/cluster:Cluster';

describe('the clusterd-baseline policy pack', () => {
  describe('endpoint-not-open-to-the-internet (mandatory)', () => {
    it('refuses an EKS endpoint public to 0.0.0.0/0, as the eks blueprint declares it by default, or public with no CIDRs', () => {
      expect(endpointNotOpenToTheInternet.enforcementLevel).toBe('mandatory');
      const open = ['the EKS API endpoint is public to any address: set publicAccessCidrs, or make it private'];
      const vpc = { endpointPrivateAccess: false, endpointPublicAccess: true, subnetIds: ['subnet-1'] };
      expect(check(endpointNotOpenToTheInternet, EKS, { vpcConfig: { ...vpc, publicAccessCidrs: ['0.0.0.0/0'] } })).toEqual(open);
      expect(check(endpointNotOpenToTheInternet, EKS, { vpcConfig: { ...vpc, publicAccessCidrs: ['10.0.0.0/8', '::/0'] } })).toEqual(open);
      expect(check(endpointNotOpenToTheInternet, EKS, { vpcConfig: { subnetIds: ['subnet-1'] } })).toEqual(open);
    });

    it('lets an EKS endpoint be private, or public to listed networks', () => {
      const vpcConfig = { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] };
      expect(check(endpointNotOpenToTheInternet, EKS, { vpcConfig })).toEqual([]);
      expect(check(endpointNotOpenToTheInternet, EKS, { vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false } })).toEqual(
        [],
      );
    });

    it('refuses a public GKE endpoint without authorized networks or with 0.0.0.0/0 among them', () => {
      const open = ['the GKE API endpoint is public to any address: list authorized networks, or make it private'];
      const anyAddress = { cidrBlocks: [{ cidrBlock: '0.0.0.0/0', displayName: 'clusterd 0.0.0.0/0' }] };
      expect(check(endpointNotOpenToTheInternet, GKE, { masterAuthorizedNetworksConfig: anyAddress })).toEqual(open);
      expect(check(endpointNotOpenToTheInternet, GKE, { privateClusterConfig: { enablePrivateNodes: true } })).toEqual(open);
    });

    it('lets a GKE endpoint be private, or public to listed networks', () => {
      const listed = { cidrBlocks: [{ cidrBlock: '203.0.113.0/24' }] };
      expect(check(endpointNotOpenToTheInternet, GKE, { masterAuthorizedNetworksConfig: listed })).toEqual([]);
      const privateEndpoint = { enablePrivateNodes: true, enablePrivateEndpoint: true, masterIpv4CidrBlock: '172.16.0.0/28' };
      expect(
        check(endpointNotOpenToTheInternet, GKE, {
          privateClusterConfig: privateEndpoint,
          masterAuthorizedNetworksConfig: { cidrBlocks: [] },
        }),
      ).toEqual([]);
    });

    it('leaves other resources alone', () => {
      expect(check(endpointNotOpenToTheInternet, 'aws:ec2/vpc:Vpc', { cidrBlock: '0.0.0.0/0' })).toEqual([]);
    });
  });

  describe('node-pool-max-size (mandatory)', () => {
    it('refuses an EKS node group that can grow past 100 nodes, unless the pack config allows more', () => {
      expect(nodePoolMaxSize.enforcementLevel).toBe('mandatory');
      const group = (maxSize: number) => ({ scalingConfig: { minSize: 2, maxSize, desiredSize: 2 } });
      expect(check(nodePoolMaxSize, 'aws:eks/nodeGroup:NodeGroup', group(100))).toEqual([]);
      expect(check(nodePoolMaxSize, 'aws:eks/nodeGroup:NodeGroup', group(101))).toEqual([
        'the node pool can grow to 101 nodes; at most 100 are allowed',
      ]);
      expect(check(nodePoolMaxSize, 'aws:eks/nodeGroup:NodeGroup', group(101), { maxNodes: 200 })).toEqual([]);
      expect(check(nodePoolMaxSize, 'aws:eks/nodeGroup:NodeGroup', group(11), { maxNodes: 10 })).toEqual([
        'the node pool can grow to 11 nodes; at most 10 are allowed',
      ]);
    });

    it('counts a GKE pool by its total maximum, or its per-zone maximum times its zones', () => {
      const pool = 'gcp:container/nodePool:NodePool';
      expect(check(nodePoolMaxSize, pool, { autoscaling: { totalMinNodeCount: 1, totalMaxNodeCount: 150 } })).toEqual([
        'the node pool can grow to 150 nodes; at most 100 are allowed',
      ]);
      const zones = ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'];
      expect(check(nodePoolMaxSize, pool, { autoscaling: { maxNodeCount: 40 }, nodeLocations: zones })).toEqual([
        'the node pool can grow to 120 nodes; at most 100 are allowed',
      ]);
      expect(check(nodePoolMaxSize, pool, { nodeCount: 30, nodeLocations: zones })).toEqual([]);
    });

    it('says nothing while a size is not known yet (a preview), nor of other resources', () => {
      expect(check(nodePoolMaxSize, 'aws:eks/nodeGroup:NodeGroup', { scalingConfig: {} })).toEqual([]);
      expect(check(nodePoolMaxSize, 'gcp:container/nodePool:NodePool', { autoscaling: {} })).toEqual([]);
      expect(check(nodePoolMaxSize, 'aws:autoscaling/group:Group', { maxSize: 1000 })).toEqual([]);
    });
  });

  describe('gke-private-nodes (advisory)', () => {
    it('warns of a GKE cluster whose nodes get public addresses', () => {
      expect(gkePrivateNodes.enforcementLevel).toBe('advisory');
      const warning = ['the GKE nodes get public addresses: enable private nodes (privateNodes.enabled in the spec)'];
      expect(check(gkePrivateNodes, GKE, {})).toEqual(warning);
      expect(check(gkePrivateNodes, GKE, { privateClusterConfig: { enablePrivateNodes: false } })).toEqual(warning);
    });

    it('is satisfied by private nodes, and leaves other resources alone', () => {
      expect(
        check(gkePrivateNodes, GKE, { privateClusterConfig: { enablePrivateNodes: true, masterIpv4CidrBlock: '172.16.0.0/28' } }),
      ).toEqual([]);
      expect(check(gkePrivateNodes, EKS, {})).toEqual([]);
    });
  });
});
