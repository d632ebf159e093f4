import assert from 'node:assert/strict';
import { beforeAll, describe, it } from 'vitest';
import * as pulumi from '@pulumi/pulumi';
import { ancestors, find, installMocks, ofType, run, valueOf, type Registered } from './support.js';

await installMocks();
const { gkeBlueprint, gkeSpecSchema, GKE_VERSIONS } = await import('../../programs/index.js');

const context = { clusterName: 'prod-eu', team: 'payments', labels: {} };
// An explicit version: the schema's default moves with the calendar.
const parse = (spec: Record<string, unknown>) =>
  gkeSpecSchema.parse({
    projectId: 'acme-prod',
    region: 'europe-west1',
    access: { teamGroup: 'payments@acme.example' },
    version: '1.36',
    ...spec,
  });

describe('the gke program', () => {
  describe('with the default spec (at 1.36)', () => {
    let resources: Registered[];
    let outputs: Record<string, unknown>;
    beforeAll(async () => {
      ({ resources, outputs } = await run(gkeBlueprint.program(parse({ tags: { 'Cost.Center': 'CC/42' } }), context)));
    });

    it('declares a regional, VPC-native cluster named after the clusterd cluster, on the Regular channel at least at 1.36', () => {
      const cluster = find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs;
      assert.equal(cluster.name, 'prod-eu');
      assert.equal(cluster.project, 'acme-prod');
      assert.equal(cluster.location, 'europe-west1');
      assert.equal(cluster.networkingMode, 'VPC_NATIVE');
      assert.deepEqual(cluster.ipAllocationPolicy, { clusterSecondaryRangeName: 'pods', servicesSecondaryRangeName: 'services' });
      assert.deepEqual(cluster.releaseChannel, { channel: 'REGULAR' });
      assert.equal(cluster.minMasterVersion, '1.36');
    });

    it('removes the default node pool, enables Workload Identity and Dataplane V2, and keeps deletion protection on', () => {
      const cluster = find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs;
      assert.equal(cluster.removeDefaultNodePool, true);
      assert.deepEqual(cluster.workloadIdentityConfig, { workloadPool: 'acme-prod.svc.id.goog' });
      assert.equal(cluster.datapathProvider, 'ADVANCED_DATAPATH');
      assert.equal(cluster.deletionProtection, true);
      assert.deepEqual(cluster.loggingConfig, { enableComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS'] });
    });

    it('makes private nodes with a public endpoint open to any address', () => {
      const cluster = find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs;
      assert.deepEqual(cluster.privateClusterConfig, {
        enablePrivateNodes: true,
        enablePrivateEndpoint: false,
        masterIpv4CidrBlock: '172.16.0.0/28',
      });
      assert.deepEqual(cluster.masterAuthorizedNetworksConfig.cidrBlocks, [{ cidrBlock: '0.0.0.0/0', displayName: 'clusterd 0.0.0.0/0' }]);
    });

    it('builds a network, a subnetwork with pod and service ranges, and a Cloud Router with NAT for the private nodes', () => {
      assert.equal(find(resources, 'gcp:compute/network:Network', 'network').inputs.autoCreateSubnetworks, false);
      const subnet = find(resources, 'gcp:compute/subnetwork:Subnetwork', 'nodes').inputs;
      assert.equal(subnet.ipCidrRange, '10.0.0.0/20');
      assert.equal(subnet.privateIpGoogleAccess, true);
      assert.deepEqual(subnet.secondaryIpRanges, [
        { rangeName: 'pods', ipCidrRange: '10.16.0.0/14' },
        { rangeName: 'services', ipCidrRange: '10.20.0.0/20' },
      ]);
      assert.equal(find(resources, 'gcp:compute/router:Router', 'router').inputs.region, 'europe-west1');
      assert.equal(
        find(resources, 'gcp:compute/routerNat:RouterNat', 'nat').inputs.sourceSubnetworkIpRangesToNat,
        'ALL_SUBNETWORKS_ALL_IP_RANGES',
      );
    });

    it('gives the nodes a dedicated service account with only the logging, monitoring and image-pull roles', () => {
      const account = find(resources, 'gcp:serviceaccount/account:Account', 'nodes').inputs;
      assert.equal(account.accountId, 'prod-eu-nodes');
      const roles = ofType(resources, 'gcp:projects/iAMMember:IAMMember')
        .filter((m) => m.inputs.member === 'serviceAccount:prod-eu-nodes@acme-prod.iam.gserviceaccount.com')
        .map((m) => m.inputs.role)
        .sort();
      assert.deepEqual(roles, [
        'roles/artifactregistry.reader',
        'roles/autoscaling.metricsWriter',
        'roles/logging.logWriter',
        'roles/monitoring.metricWriter',
        'roles/monitoring.viewer',
        'roles/stackdriver.resourceMetadata.writer',
      ]);
      const pool = find(resources, 'gcp:container/nodePool:NodePool', 'pool-general').inputs;
      assert.equal(pool.nodeConfig.serviceAccount, 'prod-eu-nodes@acme-prod.iam.gserviceaccount.com');
    });

    it("lets the team's group fetch credentials and makes it admin of the team namespace", () => {
      const viewer = find(resources, 'gcp:projects/iAMMember:IAMMember', 'team-cluster-viewer').inputs;
      assert.deepEqual([viewer.role, viewer.member], ['roles/container.clusterViewer', 'group:payments@acme.example']);
      const binding = find(resources, 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding', 'payments-team-admin').inputs;
      assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'payments@acme.example' }]);
    });

    it('runs a separate node pool with autoscaling bounds, auto-upgrade and repair, hardened nodes and the pool label', () => {
      const pool = find(resources, 'gcp:container/nodePool:NodePool', 'pool-general').inputs;
      assert.equal(pool.name, 'general');
      assert.equal(pool.cluster, 'prod-eu');
      assert.equal(pool.initialNodeCount, 1);
      assert.equal(pool.autoscaling.totalMinNodeCount, 2);
      assert.equal(pool.autoscaling.totalMaxNodeCount, 5);
      assert.deepEqual(pool.management, { autoRepair: true, autoUpgrade: true });
      assert.equal(pool.version, undefined);
      assert.equal(pool.nodeConfig.machineType, 'e2-standard-4');
      assert.equal(pool.nodeConfig.diskSizeGb, 100);
      assert.equal(pool.nodeConfig.spot, false);
      assert.deepEqual(pool.nodeConfig.workloadMetadataConfig, { mode: 'GKE_METADATA' });
      assert.deepEqual(pool.nodeConfig.labels, { 'clusterd.io/pool': 'general' });
    });

    it('labels the cluster and every node pool with sanitised spec tags, clusterd-cluster and clusterd-team', () => {
      const expected = { cost_center: 'cc_42', 'clusterd-cluster': 'prod-eu', 'clusterd-team': 'payments' };
      assert.deepEqual(find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs.resourceLabels, expected);
      for (const pool of ofType(resources, 'gcp:container/nodePool:NodePool'))
        assert.deepEqual(pool.inputs.nodeConfig.resourceLabels, expected);
    });

    it('creates every GCP resource through the explicit provider of the spec project and region', () => {
      const provider = find(resources, 'pulumi:providers:gcp', 'gcp');
      assert.equal(provider.inputs.project, 'acme-prod');
      assert.equal(provider.inputs.region, 'europe-west1');
      assert.equal(provider.inputs.credentials, undefined);
      const ref = `${provider.urn}::gcp-id`;
      for (const r of resources.filter((r) => r.type.startsWith('gcp:'))) assert.equal(r.provider, ref, `${r.type}::${r.name}`);
    });

    it('creates nothing outside the cluster component', () => {
      assert.deepEqual(
        resources.filter((r) => !r.parent).map((r) => r.type),
        ['clusterd:gke:Cluster'],
      );
      for (const r of resources.filter((r) => r.parent))
        assert.equal(ancestors(resources, r).at(-1), 'clusterd:gke:Cluster', `${r.type}::${r.name}`);
    });

    it('installs cert-manager, and no metrics-server (GKE ships one), through the Kubernetes provider of this cluster', () => {
      const ref = `${find(resources, 'pulumi:providers:kubernetes', 'k8s').urn}::k8s-id`;
      for (const r of resources.filter((r) => r.type.startsWith('kubernetes:'))) assert.equal(r.provider, ref, `${r.type}::${r.name}`);
      assert.deepEqual(
        ofType(resources, 'kubernetes:helm.sh/v3:Release').map((r) => `${r.inputs.chart}@${r.inputs.version}`),
        ['cert-manager@v1.21.1'],
      );
    });

    it('returns the endpoint, CA, cluster id, OIDC issuer, pools and a secret kubeconfig using gke-gcloud-auth-plugin', async () => {
      assert.equal(await valueOf(outputs.endpoint), 'https://34.1.2.3');
      assert.equal(await valueOf(outputs.certificateAuthority), 'Q0EtREFUQQ==');
      assert.equal(await valueOf(outputs.clusterId), 'cluster-id');
      assert.equal(
        await valueOf(outputs.oidcIssuer),
        'https://container.googleapis.com/v1/projects/acme-prod/locations/europe-west1/clusters/prod-eu',
      );
      assert.deepEqual(outputs.nodePools, ['general']);
      assert.equal(await pulumi.isSecret(outputs.kubeconfig as pulumi.Output<string>), true);
      const kubeconfig = JSON.parse(await valueOf<string>(outputs.kubeconfig));
      assert.equal(kubeconfig.clusters[0].cluster.server, 'https://34.1.2.3');
      assert.equal(kubeconfig.users[0].user.exec.command, 'gke-gcloud-auth-plugin');
    });
  });

  describe('with a static version, a private endpoint, chosen zones, a spot pool and ingress-nginx (kept from before its retirement)', () => {
    let resources: Registered[];
    beforeAll(async () => {
      const spec = parse({
        releaseChannel: 'NONE',
        version: '1.32',
        zones: ['europe-west1-b', 'europe-west1-c'],
        endpoint: { access: 'private' },
        nodePools: [
          { name: 'general', minSize: 2, maxSize: 6, desiredSize: 4, machineType: 'n2-standard-8', diskSizeGb: 200 },
          {
            name: 'spot',
            minSize: 0,
            maxSize: 10,
            spot: true,
            version: '1.31',
            taints: [{ key: 'spot', value: 'true', effect: 'NoSchedule' }],
          },
        ],
        addons: { ingressNginx: { enabled: true, version: '4.12.1' } },
      });
      ({ resources } = await run(gkeBlueprint.program(spec, context)));
    });

    it('uses the private endpoint only, with no authorised public networks', () => {
      const cluster = find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs;
      assert.equal(cluster.privateClusterConfig.enablePrivateEndpoint, true);
      assert.deepEqual(cluster.masterAuthorizedNetworksConfig, { cidrBlocks: [] });
      assert.deepEqual(cluster.releaseChannel, { channel: 'UNSPECIFIED' });
      assert.equal(cluster.minMasterVersion, '1.32.5-gke.1000');
      assert.deepEqual(cluster.nodeLocations, ['europe-west1-b', 'europe-west1-c']);
    });

    it('pins the control plane and each pool to the newest patch of their minor version, with auto-upgrade off', () => {
      const general = find(resources, 'gcp:container/nodePool:NodePool', 'pool-general').inputs;
      const spot = find(resources, 'gcp:container/nodePool:NodePool', 'pool-spot').inputs;
      assert.equal(general.version, '1.32.5-gke.1000');
      assert.equal(spot.version, '1.31.5-gke.1000');
      assert.deepEqual(general.management, { autoRepair: true, autoUpgrade: false });
    });

    it('sizes pools per zone at creation, and makes the spot pool of Spot VMs with its taint', () => {
      const general = find(resources, 'gcp:container/nodePool:NodePool', 'pool-general').inputs;
      const spot = find(resources, 'gcp:container/nodePool:NodePool', 'pool-spot').inputs;
      assert.equal(general.initialNodeCount, 2);
      assert.equal(general.nodeConfig.machineType, 'n2-standard-8');
      assert.equal(general.nodeConfig.diskSizeGb, 200);
      assert.equal(spot.nodeConfig.spot, true);
      assert.equal(spot.autoscaling.locationPolicy, 'ANY');
      assert.deepEqual(spot.nodeConfig.taints, [{ key: 'spot', value: 'true', effect: 'NO_SCHEDULE' }]);
    });

    it('opens the ingress-nginx webhook port from the control plane to the nodes', () => {
      const rule = find(resources, 'gcp:compute/firewall:Firewall', 'control-plane-to-webhooks').inputs;
      assert.deepEqual(rule.sourceRanges, ['172.16.0.0/28']);
      assert.deepEqual(rule.allows, [{ protocol: 'tcp', ports: ['8443'] }]);
      const nginx = find(resources, 'kubernetes:helm.sh/v3:Release', 'ingress-nginx').inputs;
      assert.equal(nginx.version, '4.12.1');
    });
  });

  describe('on every Kubernetes version it accepts', () => {
    for (const version of GKE_VERSIONS) {
      it(`asks for at least ${version} on a channel, and the newest ${version} patch with static versions`, async () => {
        const onChannel = await run(gkeBlueprint.program(parse({ version }), context));
        assert.equal(find(onChannel.resources, 'gcp:container/cluster:Cluster', 'cluster').inputs.minMasterVersion, version);
        const pinned = await run(gkeBlueprint.program(parse({ version, releaseChannel: 'NONE' }), context));
        assert.equal(find(pinned.resources, 'gcp:container/cluster:Cluster', 'cluster').inputs.minMasterVersion, `${version}.5-gke.1000`);
        assert.equal(find(pinned.resources, 'gcp:container/nodePool:NodePool', 'pool-general').inputs.version, `${version}.5-gke.1000`);
      });
    }
  });

  describe('with Envoy Gateway on private nodes', () => {
    let resources: Registered[];
    beforeAll(async () => {
      ({ resources } = await run(gkeBlueprint.program(parse({ addons: { envoyGateway: { enabled: true } } }), context)));
    });

    it('installs the gateway-helm chart from its OCI registry', () => {
      const release = find(resources, 'kubernetes:helm.sh/v3:Release', 'gateway-helm').inputs;
      assert.deepEqual(
        [release.chart, release.version, release.repositoryOpts],
        ['oci://docker.io/envoyproxy/gateway-helm', 'v1.9.0', undefined],
      );
    });

    it('declares the EnvoyProxy without the EKS load balancer annotation, and the envoy GatewayClass using it', () => {
      const proxy = find(resources, 'kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy', 'envoy-proxy').inputs;
      assert.deepEqual(proxy.spec.provider.kubernetes.envoyService, { externalTrafficPolicy: 'Local', annotations: {} });
      const gatewayClass = find(resources, 'kubernetes:gateway.networking.k8s.io/v1:GatewayClass', 'gateway-class').inputs;
      assert.deepEqual(gatewayClass.spec.parametersRef, {
        group: 'gateway.envoyproxy.io',
        kind: 'EnvoyProxy',
        name: 'clusterd-default',
        namespace: 'envoy-gateway-system',
      });
    });

    it('opens its webhook port from the control plane to the nodes', () => {
      const rule = find(resources, 'gcp:compute/firewall:Firewall', 'control-plane-to-webhooks').inputs;
      assert.deepEqual(rule.sourceRanges, ['172.16.0.0/28']);
      assert.deepEqual(rule.allows, [{ protocol: 'tcp', ports: ['9443'] }]);
    });

    it('opens the ports of both webhooks while a cluster still runs ingress-nginx too', async () => {
      const spec = parse({ addons: { ingressNginx: { enabled: true }, envoyGateway: { enabled: true } } });
      const both = await run(gkeBlueprint.program(spec, context));
      const rule = find(both.resources, 'gcp:compute/firewall:Firewall', 'control-plane-to-webhooks').inputs;
      assert.deepEqual(rule.allows, [{ protocol: 'tcp', ports: ['8443', '9443'] }]);
    });
  });

  it('opens no webhook port when no add-on with a webhook is enabled', async () => {
    const { resources } = await run(gkeBlueprint.program(parse({}), context));
    assert.equal(ofType(resources, 'gcp:compute/firewall:Firewall').length, 0);
  });

  describe('on an existing network without private nodes', () => {
    it('builds no network, router or NAT and uses the named secondary ranges', async () => {
      const spec = parse({
        privateNodes: { enabled: false },
        network: {
          mode: 'existing',
          network: 'shared-vpc',
          subnetwork: 'projects/host/regions/europe-west1/subnetworks/gke',
          podsRangeName: 'gke-pods',
          servicesRangeName: 'gke-services',
        },
      });
      const { resources } = await run(gkeBlueprint.program(spec, context));
      for (const type of [
        'gcp:compute/network:Network',
        'gcp:compute/subnetwork:Subnetwork',
        'gcp:compute/router:Router',
        'gcp:compute/routerNat:RouterNat',
      ]) {
        assert.equal(ofType(resources, type).length, 0, type);
      }
      const cluster = find(resources, 'gcp:container/cluster:Cluster', 'cluster').inputs;
      assert.equal(cluster.network, 'shared-vpc');
      assert.equal(cluster.subnetwork, 'projects/host/regions/europe-west1/subnetworks/gke');
      assert.deepEqual(cluster.ipAllocationPolicy, { clusterSecondaryRangeName: 'gke-pods', servicesSecondaryRangeName: 'gke-services' });
      assert.equal(cluster.privateClusterConfig, undefined);
    });
  });
});
