import assert from 'node:assert/strict';
import { beforeAll, describe, it } from 'vitest';
import * as pulumi from '@pulumi/pulumi';
import { ancestors, find, installMocks, ofType, run, valueOf, type Registered } from './support.js';

await installMocks();
const { eksBlueprint, eksSpecSchema, EKS_ADDON_PINS, EKS_ADDON_VERSIONS, EKS_VERSIONS } = await import('../../programs/index.js');

const context = { clusterName: 'prod-eu', team: 'payments', labels: { env: 'prod' } };
const teamRoleArn = 'arn:aws:iam::123456789012:role/payments-admins';
// An explicit version: the schema's default moves with the calendar.
const parse = (spec: Record<string, unknown>) =>
  eksSpecSchema.parse({ region: 'eu-west-1', access: { teamRoleArn }, version: '1.36', ...spec });

/** AWS resource types that take no tags. */
const UNTAGGABLE = new Set([
  'pulumi:providers:aws',
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
]);

describe('the eks program', () => {
  describe('with the default spec (at 1.36)', () => {
    let resources: Registered[];
    let outputs: Record<string, unknown>;
    beforeAll(async () => {
      ({ resources, outputs } = await run(eksBlueprint.program(parse({ tags: { 'cost-center': 'cc-42' } }), context)));
    });

    it('declares the cluster as an eks:index:Cluster named after the clusterd cluster, at the spec version', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster');
      assert.equal(cluster.inputs.name, 'prod-eu');
      assert.equal(cluster.inputs.version, '1.36');
      assert.deepEqual(cluster.inputs.upgradePolicy, { supportType: 'STANDARD' });
    });

    it('uses access entries, an OIDC provider and managed node groups only', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.authenticationMode, 'API');
      assert.equal(cluster.createOidcProvider, true);
      assert.equal(cluster.skipDefaultNodeGroup, true);
      assert.equal(cluster.bootstrapSelfManagedAddons, false);
    });

    it("gives the team's IAM role the cluster-admin access policy and the team's Kubernetes group", () => {
      const entry = find(resources, 'eks:index:Cluster', 'cluster').inputs.accessEntries.team;
      assert.equal(entry.principalArn, teamRoleArn);
      assert.deepEqual(entry.kubernetesGroups, ['clusterd:team:payments']);
      assert.deepEqual(entry.accessPolicies['cluster-admin'], {
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
        accessScope: { type: 'cluster' },
      });
    });

    it('opens the endpoint publicly to any address and privately to the VPC', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.endpointPublicAccess, true);
      assert.equal(cluster.endpointPrivateAccess, true);
      assert.deepEqual(cluster.publicAccessCidrs, ['0.0.0.0/0']);
    });

    it('pins vpc-cni (with network policy) and kube-proxy to the versions of the table, and leaves CoreDNS to after the nodes', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.vpcCniOptions.addonVersion, EKS_ADDON_VERSIONS['1.36']['vpc-cni']);
      assert.equal(cluster.vpcCniOptions.enableNetworkPolicy, true);
      assert.equal(cluster.kubeProxyAddonOptions.enabled, true);
      assert.equal(cluster.kubeProxyAddonOptions.version, EKS_ADDON_VERSIONS['1.36']['kube-proxy']);
      assert.equal(cluster.corednsAddonOptions.enabled, false);
    });

    it('adds CoreDNS and the EBS CSI driver as EKS add-ons at the pinned versions, the driver with an IRSA role', () => {
      const coredns = find(resources, 'aws:eks/addon:Addon', 'coredns').inputs;
      const ebs = find(resources, 'aws:eks/addon:Addon', 'aws-ebs-csi-driver').inputs;
      assert.equal(coredns.addonVersion, EKS_ADDON_VERSIONS['1.36'].coredns);
      assert.equal(coredns.clusterName, 'prod-eu');
      assert.equal(ebs.addonVersion, EKS_ADDON_VERSIONS['1.36']['aws-ebs-csi-driver']);
      assert.equal(ebs.serviceAccountRoleArn, 'arn:aws:iam::123456789012:role/ebs-csi-driver');
      const trust = JSON.parse(find(resources, 'aws:iam/role:Role', 'ebs-csi-driver').inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
        'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:sub': 'system:serviceaccount:kube-system:ebs-csi-controller-sa',
        'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:aud': 'sts.amazonaws.com',
      });
    });

    it('turns deletion protection on and logs api, audit and authenticator to a log group kept 90 days', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.deletionProtection, true);
      assert.deepEqual(cluster.enabledClusterLogTypes, ['api', 'audit', 'authenticator']);
      const logs = find(resources, 'aws:cloudwatch/logGroup:LogGroup', 'control-plane-logs').inputs;
      assert.equal(logs.name, '/aws/eks/prod-eu/cluster');
      assert.equal(logs.retentionInDays, 90);
    });

    it('builds a VPC over three zones: private /19 and public /22 subnets, tagged for load balancers, one NAT gateway per zone', () => {
      assert.equal(find(resources, 'aws:ec2/vpc:Vpc', 'vpc').inputs.cidrBlock, '10.0.0.0/16');
      const privates = ofType(resources, 'aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith('private-'));
      const publics = ofType(resources, 'aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith('public-'));
      assert.deepEqual(
        privates.map((s) => [s.inputs.cidrBlock, s.inputs.availabilityZone]),
        [
          ['10.0.0.0/19', 'eu-west-1a'],
          ['10.0.32.0/19', 'eu-west-1b'],
          ['10.0.64.0/19', 'eu-west-1c'],
        ],
      );
      assert.deepEqual(
        publics.map((s) => s.inputs.cidrBlock),
        ['10.0.224.0/22', '10.0.228.0/22', '10.0.232.0/22'],
      );
      for (const s of privates) assert.equal(s.inputs.tags['kubernetes.io/role/internal-elb'], '1');
      for (const s of publics) assert.equal(s.inputs.tags['kubernetes.io/role/elb'], '1');
      for (const s of [...privates, ...publics]) assert.equal(s.inputs.tags['kubernetes.io/cluster/prod-eu'], 'shared');
      assert.equal(ofType(resources, 'aws:ec2/natGateway:NatGateway').length, 3);
      assert.equal(ofType(resources, 'aws:ec2/internetGateway:InternetGateway').length, 1);
      const privateRoutes = ofType(resources, 'aws:ec2/routeTable:RouteTable').filter((r) => r.name.startsWith('private-'));
      assert.deepEqual(
        privateRoutes.map((r) => r.inputs.routes[0].natGatewayId),
        ['nat-0-id', 'nat-1-id', 'nat-2-id'],
      );
    });

    it('runs one managed node group per pool in the private subnets, with sizes, version, labels and a hardened launch template', () => {
      const group = find(resources, 'eks:index:ManagedNodeGroup', 'pool-general').inputs;
      assert.deepEqual(group.scalingConfig, { minSize: 2, maxSize: 5, desiredSize: 2 });
      assert.deepEqual(group.instanceTypes, ['m6i.large']);
      assert.equal(group.capacityType, 'ON_DEMAND');
      assert.equal(group.version, '1.36');
      assert.deepEqual(group.labels, { 'clusterd.io/pool': 'general' });
      assert.deepEqual(group.subnetIds, ['private-0-id', 'private-1-id', 'private-2-id']);
      assert.deepEqual(group.launchTemplate, { id: 'general-nodes-id', version: '1' });
      const template = find(resources, 'aws:ec2/launchTemplate:LaunchTemplate', 'general-nodes').inputs;
      assert.deepEqual(template.blockDeviceMappings, [
        { deviceName: '/dev/xvda', ebs: { volumeSize: 100, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } },
      ]);
      assert.equal(template.metadataOptions.httpTokens, 'required');
      assert.deepEqual(
        template.tagSpecifications.map((t: { resourceType: string }) => t.resourceType),
        ['instance', 'volume', 'network-interface'],
      );
    });

    it('tags every taggable AWS resource, and every EKS component, with the spec tags, clusterd-cluster and clusterd-team', () => {
      const expected = { 'cost-center': 'cc-42', 'clusterd-cluster': 'prod-eu', 'clusterd-team': 'payments' };
      const taggable = resources.filter((r) => (r.type.startsWith('aws:') || r.type.startsWith('eks:')) && !UNTAGGABLE.has(r.type));
      assert.ok(taggable.length >= 25, `only ${taggable.length} taggable resources`);
      for (const r of taggable) {
        for (const [key, value] of Object.entries(expected))
          assert.equal(r.inputs.tags?.[key], value, `${r.type}::${r.name} lacks tag ${key}`);
      }
      for (const spec of find(resources, 'aws:ec2/launchTemplate:LaunchTemplate', 'general-nodes').inputs.tagSpecifications) {
        assert.equal(spec.tags['clusterd-cluster'], 'prod-eu');
      }
    });

    it('creates every AWS resource through the explicit provider of the spec region', () => {
      const provider = find(resources, 'pulumi:providers:aws', 'aws');
      assert.equal(provider.inputs.region, 'eu-west-1');
      assert.equal(provider.inputs.accessKey, undefined);
      const ref = `${provider.urn}::aws-id`;
      for (const r of resources.filter((r) => r.type.startsWith('aws:'))) assert.equal(r.provider, ref, `${r.type}::${r.name}`);
      for (const r of resources.filter((r) => r.type.startsWith('eks:'))) assert.equal(r.providers.aws, ref, `${r.type}::${r.name}`);
    });

    it('creates nothing outside the cluster component', () => {
      const roots = resources.filter((r) => !r.parent);
      assert.deepEqual(
        roots.map((r) => r.type),
        ['clusterd:eks:Cluster'],
      );
      for (const r of resources.filter((r) => r.parent))
        assert.equal(ancestors(resources, r).at(-1), 'clusterd:eks:Cluster', `${r.type}::${r.name}`);
    });

    it('installs the baseline and the default add-ons through the Kubernetes provider bound to this cluster', async () => {
      const k8sProvider = find(resources, 'pulumi:providers:kubernetes', 'k8s');
      // A secret input reaches the engine wrapped in Pulumi's secret signature.
      assert.equal(k8sProvider.inputs.kubeconfig['4dabf18193072939515e22adb298388d'], '1b47061264138c4ac30d75fd1eb44270');
      assert.match(k8sProvider.inputs.kubeconfig.value, /"prod-eu"/);
      const ref = `${k8sProvider.urn}::k8s-id`;
      const objects = resources.filter((r) => r.type.startsWith('kubernetes:'));
      assert.ok(objects.length >= 8);
      for (const r of objects) assert.equal(r.provider, ref, `${r.type}::${r.name}`);
      const releases = ofType(resources, 'kubernetes:helm.sh/v3:Release').map((r) => [
        r.inputs.chart,
        r.inputs.version,
        r.inputs.repositoryOpts.repo,
      ]);
      assert.deepEqual(releases.sort(), [
        ['cert-manager', 'v1.21.1', 'https://charts.jetstack.io'],
        ['metrics-server', '3.13.1', 'https://kubernetes-sigs.github.io/metrics-server/'],
      ]);
    });

    it('makes the default gp3 StorageClass', () => {
      const sc = find(resources, 'kubernetes:storage.k8s.io/v1:StorageClass', 'gp3').inputs;
      assert.equal(sc.provisioner, 'ebs.csi.aws.com');
      assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
    });

    it('gives the team a namespace with admin for its group, a quota, container defaults and default-deny network policy', () => {
      assert.equal(find(resources, 'kubernetes:core/v1:Namespace', 'ns-payments').inputs.metadata.name, 'payments');
      const binding = find(resources, 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding', 'payments-team-admin').inputs;
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' });
      assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'clusterd:team:payments' }]);
      assert.deepEqual(find(resources, 'kubernetes:core/v1:ResourceQuota', 'payments-quota').inputs.spec.hard, {
        'requests.cpu': '32',
        'requests.memory': '128Gi',
        pods: '500',
      });
      assert.deepEqual(find(resources, 'kubernetes:core/v1:LimitRange', 'payments-limits').inputs.spec.limits[0].defaultRequest, {
        cpu: '100m',
        memory: '128Mi',
      });
      assert.deepEqual(find(resources, 'kubernetes:networking.k8s.io/v1:NetworkPolicy', 'payments-default-deny').inputs.spec, {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
    });

    it('returns endpoint, certificateAuthority, clusterId, oidcIssuer, nodePools and kubeconfig', async () => {
      assert.deepEqual(Object.keys(outputs).sort(), [
        'certificateAuthority',
        'clusterId',
        'endpoint',
        'kubeconfig',
        'nodePools',
        'oidcIssuer',
      ]);
      assert.equal(await valueOf(outputs.endpoint), 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com');
      assert.equal(await valueOf(outputs.certificateAuthority), 'Q0EtREFUQQ==');
      assert.equal(await valueOf(outputs.clusterId), 'arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu');
      assert.equal(await valueOf(outputs.oidcIssuer), 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF');
      assert.deepEqual(outputs.nodePools, ['general']);
    });

    it('marks the kubeconfig output secret, and only it', async () => {
      assert.equal(await pulumi.isSecret(outputs.kubeconfig as pulumi.Output<string>), true);
      assert.equal(await pulumi.isSecret(outputs.endpoint as pulumi.Output<string>), false);
      assert.equal(JSON.parse(await valueOf<string>(outputs.kubeconfig)).kind, 'Config');
    });
  });

  describe('with a private endpoint, existing subnets, several pools and ingress-nginx (kept from before its retirement)', () => {
    let resources: Registered[];
    beforeAll(async () => {
      const spec = parse({
        version: '1.32',
        endpoint: { access: 'private' },
        network: {
          mode: 'existing',
          vpcId: 'vpc-0123456789abcdef0',
          privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        },
        nodePools: [
          { name: 'general', minSize: 3, maxSize: 9, desiredSize: 4, instanceType: 'm7i.xlarge', diskSizeGb: 200 },
          {
            name: 'batch',
            minSize: 0,
            maxSize: 20,
            spot: true,
            instanceType: 'c7g.2xlarge',
            version: '1.31',
            labels: { workload: 'batch' },
            taints: [{ key: 'batch', effect: 'NoSchedule' }],
          },
        ],
        addons: { ingressNginx: { enabled: true }, metricsServer: { enabled: false } },
        deletionProtection: false,
      });
      ({ resources } = await run(eksBlueprint.program(spec, context)));
    });

    it('closes the public endpoint', () => {
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.endpointPublicAccess, false);
      assert.equal(cluster.endpointPrivateAccess, true);
      assert.equal(cluster.publicAccessCidrs, undefined);
      assert.equal(cluster.deletionProtection, false);
    });

    it('builds no network and puts cluster and nodes in the given subnets', () => {
      assert.equal(ofType(resources, 'aws:ec2/vpc:Vpc').length, 0);
      assert.equal(ofType(resources, 'clusterd:eks:Vpc').length, 0);
      const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
      assert.equal(cluster.vpcId, 'vpc-0123456789abcdef0');
      assert.deepEqual(cluster.privateSubnetIds, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
      assert.equal(cluster.publicSubnetIds, undefined);
    });

    it('sizes, versions, labels and taints each pool as its spec says, spot as SPOT capacity', () => {
      const general = find(resources, 'eks:index:ManagedNodeGroup', 'pool-general').inputs;
      const batch = find(resources, 'eks:index:ManagedNodeGroup', 'pool-batch').inputs;
      assert.deepEqual(general.scalingConfig, { minSize: 3, maxSize: 9, desiredSize: 4 });
      assert.equal(general.version, '1.32');
      assert.equal(
        find(resources, 'aws:ec2/launchTemplate:LaunchTemplate', 'general-nodes').inputs.blockDeviceMappings[0].ebs.volumeSize,
        200,
      );
      assert.equal(batch.capacityType, 'SPOT');
      assert.equal(batch.version, '1.31');
      assert.deepEqual(batch.instanceTypes, ['c7g.2xlarge']);
      assert.deepEqual(batch.labels, { workload: 'batch', 'clusterd.io/pool': 'batch' });
      assert.deepEqual(batch.taints, [{ key: 'batch', effect: 'NO_SCHEDULE' }]);
    });

    it('pins the EKS add-ons of 1.32', () => {
      assert.equal(find(resources, 'aws:eks/addon:Addon', 'coredns').inputs.addonVersion, EKS_ADDON_VERSIONS['1.32'].coredns);
    });

    it('installs exactly the add-ons the spec enables, ingress-nginx behind an NLB', () => {
      const releases = ofType(resources, 'kubernetes:helm.sh/v3:Release');
      assert.deepEqual(releases.map((r) => r.inputs.chart).sort(), ['cert-manager', 'ingress-nginx']);
      const nginx = releases.find((r) => r.inputs.chart === 'ingress-nginx')!.inputs;
      assert.equal(nginx.version, '4.13.0');
      assert.equal(nginx.namespace, 'ingress-nginx');
      assert.equal(nginx.values.controller.service.annotations['service.beta.kubernetes.io/aws-load-balancer-type'], 'nlb');
    });
  });

  describe('on every Kubernetes version it accepts', () => {
    for (const version of EKS_VERSIONS) {
      it(`declares ${version} with its pinned add-on versions and the STANDARD support type`, async () => {
        const { resources } = await run(eksBlueprint.program(parse({ version }), context));
        const pins = EKS_ADDON_PINS[version];
        const cluster = find(resources, 'eks:index:Cluster', 'cluster').inputs;
        assert.equal(cluster.version, version);
        assert.deepEqual(cluster.upgradePolicy, { supportType: 'STANDARD' });
        assert.equal(cluster.vpcCniOptions.addonVersion, pins['vpc-cni'].version);
        assert.equal(cluster.kubeProxyAddonOptions.version, pins['kube-proxy'].version);
        assert.equal(find(resources, 'aws:eks/addon:Addon', 'coredns').inputs.addonVersion, pins.coredns.version);
        assert.equal(find(resources, 'aws:eks/addon:Addon', 'aws-ebs-csi-driver').inputs.addonVersion, pins['aws-ebs-csi-driver'].version);
        assert.equal(find(resources, 'eks:index:ManagedNodeGroup', 'pool-general').inputs.version, version);
      });
    }

    it('asks EKS for extended support when the spec says EXTENDED', async () => {
      const { resources } = await run(eksBlueprint.program(parse({ version: '1.33', upgradePolicy: 'EXTENDED' }), context));
      assert.deepEqual(find(resources, 'eks:index:Cluster', 'cluster').inputs.upgradePolicy, { supportType: 'EXTENDED' });
    });
  });

  describe('with Envoy Gateway', () => {
    let resources: Registered[];
    beforeAll(async () => {
      ({ resources } = await run(eksBlueprint.program(parse({ addons: { envoyGateway: { enabled: true } } }), context)));
    });

    it('installs the gateway-helm chart from its OCI registry, two controllers behind a disruption budget', () => {
      const release = find(resources, 'kubernetes:helm.sh/v3:Release', 'gateway-helm').inputs;
      assert.equal(release.chart, 'oci://docker.io/envoyproxy/gateway-helm');
      assert.equal(release.repositoryOpts, undefined);
      assert.equal(release.version, 'v1.9.0');
      assert.equal(release.namespace, 'envoy-gateway-system');
      assert.deepEqual(release.values, { deployment: { replicas: 2 }, podDisruptionBudget: { minAvailable: 1 } });
    });

    it('declares an EnvoyProxy of two proxies behind a budget and an NLB that keeps client addresses, after the release', () => {
      const release = find(resources, 'kubernetes:helm.sh/v3:Release', 'gateway-helm');
      const proxy = find(resources, 'kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy', 'envoy-proxy');
      assert.equal(proxy.inputs.metadata.name, 'clusterd-default');
      assert.equal(proxy.inputs.metadata.namespace, 'envoy-gateway-system');
      assert.deepEqual(proxy.inputs.spec, {
        provider: {
          type: 'Kubernetes',
          kubernetes: {
            envoyDeployment: { replicas: 2 },
            envoyPDB: { minAvailable: 1 },
            envoyService: {
              externalTrafficPolicy: 'Local',
              annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
            },
          },
        },
      });
      assert.ok(proxy.dependencies.includes(release.urn));
    });

    it("declares the envoy GatewayClass with the EnvoyProxy as its parameters, through the cluster's provider", () => {
      const gatewayClass = find(resources, 'kubernetes:gateway.networking.k8s.io/v1:GatewayClass', 'gateway-class');
      assert.equal(gatewayClass.inputs.metadata.name, 'envoy');
      assert.deepEqual(gatewayClass.inputs.spec, {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'clusterd-default', namespace: 'envoy-gateway-system' },
      });
      assert.ok(gatewayClass.dependencies.includes(find(resources, 'kubernetes:helm.sh/v3:Release', 'gateway-helm').urn));
      assert.equal(gatewayClass.provider, `${find(resources, 'pulumi:providers:kubernetes', 'k8s').urn}::k8s-id`);
      assert.equal(ancestors(resources, gatewayClass)[0], 'clusterd:addons:Baseline');
    });
  });

  describe('with a single NAT gateway and chosen zones', () => {
    it('routes every private subnet through the one NAT gateway', async () => {
      const spec = parse({ network: { mode: 'new', cidr: '172.20.0.0/20', zones: ['eu-west-1b', 'eu-west-1c'], natGateways: 'single' } });
      const { resources } = await run(eksBlueprint.program(spec, context));
      assert.equal(ofType(resources, 'aws:ec2/natGateway:NatGateway').length, 1);
      const routes = ofType(resources, 'aws:ec2/routeTable:RouteTable').filter((r) => r.name.startsWith('private-'));
      assert.deepEqual(
        routes.map((r) => r.inputs.routes[0].natGatewayId),
        ['nat-0-id', 'nat-0-id'],
      );
      const subnets = ofType(resources, 'aws:ec2/subnet:Subnet').map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone]);
      assert.deepEqual(subnets, [
        ['public-0', '172.20.14.0/26', 'eu-west-1b'],
        ['private-0', '172.20.0.0/23', 'eu-west-1b'],
        ['public-1', '172.20.14.64/26', 'eu-west-1c'],
        ['private-1', '172.20.2.0/23', 'eu-west-1c'],
      ]);
    });
  });
});
