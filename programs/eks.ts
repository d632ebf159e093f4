/**
 * `clusterd:eks:Cluster`: an EKS cluster the way an experienced operator runs one: private
 * subnets for nodes, access entries instead of aws-auth, an OIDC provider for IRSA, EKS-managed
 * core add-ons pinned per Kubernetes version, managed node groups on a hardened launch template
 * (IMDSv2 only, encrypted gp3, tags down to the instances), control-plane logs with a retention,
 * and the team baseline installed through a Kubernetes provider bound to this cluster.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import * as eks from '@pulumi/eks';
import * as k8s from '@pulumi/kubernetes';
import type { BlueprintContext } from '../src/blueprints/blueprint.js';
import { Baseline, objectLabels } from './addons.js';
import { clusterTags, POOL_LABEL, publicCidrsOf } from './common-spec.js';
import { EKS_ACCESS_POLICIES, type EksSpec } from './eks-spec.js';
import { EksVpc } from './eks-vpc.js';
import { EKS_ADDON_VERSIONS } from './versions.js';

/** Arguments of {@link EksCluster}. */
export interface EksClusterArgs {
  /** A spec parsed by `eksSpecSchema` (defaults applied, rules checked). */
  spec: EksSpec;
  context: BlueprintContext;
}

const TAINT_EFFECTS = { NoSchedule: 'NO_SCHEDULE', PreferNoSchedule: 'PREFER_NO_SCHEDULE', NoExecute: 'NO_EXECUTE' } as const;

/** The AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`), for ARNs of AWS-managed policies. */
export function partitionOf(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** Kubernetes group of a team on EKS: the access entry maps the team role to it. */
export function eksTeamGroup(team: string): string {
  return `clusterd:team:${team}`;
}

/** One EKS cluster and everything it owns. */
export class EksCluster extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  readonly clusterId: pulumi.Output<string>;
  readonly oidcIssuer: pulumi.Output<string>;
  /** Secret: never in clear in state, logs or answers. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly nodePoolNames: string[];

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('clusterd:eks:Cluster', name, {}, opts);
    const { spec, context } = args;
    const tags = clusterTags(spec.tags, context);
    const partition = partitionOf(spec.region);
    const addonVersions = EKS_ADDON_VERSIONS[spec.version];
    // Credentials come from the worker's environment; the region from the spec only.
    const provider = new aws.Provider('aws', { region: spec.region }, { parent: this });
    const child = { parent: this, provider };
    const components = { parent: this, providers: { aws: provider } };

    const network = this.network(spec, context.clusterName, tags, provider);

    const nodeRole = new aws.iam.Role(
      'node-role',
      { assumeRolePolicy: JSON.stringify(assumeBy('ec2.amazonaws.com')), description: `Nodes of EKS cluster ${context.clusterName}`, tags },
      child,
    );
    ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore'].forEach(
      (policy) => {
        new aws.iam.RolePolicyAttachment(
          `node-${policy}`,
          { role: nodeRole.name, policyArn: `arn:${partition}:iam::aws:policy/${policy}` },
          child,
        );
      },
    );

    // EKS would create this log group itself, with no retention: logs would be kept (and paid for) forever.
    const logGroup = new aws.cloudwatch.LogGroup(
      'control-plane-logs',
      { name: `/aws/eks/${context.clusterName}/cluster`, retentionInDays: spec.logRetentionDays, tags },
      child,
    );

    const publicCidrs = publicCidrsOf(spec.endpoint);
    const cluster = new eks.Cluster(
      'cluster',
      {
        name: context.clusterName,
        version: spec.version,
        upgradePolicy: { supportType: spec.upgradePolicy },
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        publicSubnetIds: network.publicSubnetIds.length ? network.publicSubnetIds : undefined,
        nodeAssociatePublicIpAddress: false,
        endpointPrivateAccess: spec.endpoint.access !== 'public',
        endpointPublicAccess: spec.endpoint.access !== 'private',
        publicAccessCidrs: publicCidrs.length ? publicCidrs : undefined,
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: {
          team: {
            principalArn: spec.access.teamRoleArn,
            kubernetesGroups: [eksTeamGroup(context.team)],
            accessPolicies: {
              [spec.access.accessPolicy]: {
                policyArn: EKS_ACCESS_POLICIES[spec.access.accessPolicy].replace('arn:aws:', `arn:${partition}:`),
                accessScope: { type: 'cluster' },
              },
            },
            tags,
          },
        },
        createOidcProvider: true,
        // Managed node groups only: no self-managed default group, and EKS's own cluster security group.
        skipDefaultNodeGroup: true,
        skipDefaultSecurityGroups: true,
        // Core add-ons are EKS-managed (versions pinned below), not the unmanaged ones EKS would bootstrap.
        bootstrapSelfManagedAddons: false,
        useDefaultVpcCni: false,
        vpcCniOptions: { addonVersion: addonVersions['vpc-cni'], enableNetworkPolicy: true },
        kubeProxyAddonOptions: { enabled: true, version: addonVersions['kube-proxy'] },
        // CoreDNS needs nodes to become active: it is added after the node groups, below.
        corednsAddonOptions: { enabled: false },
        enabledClusterLogTypes: spec.logging,
        deletionProtection: spec.deletionProtection,
        tags,
        clusterTags: tags,
      },
      { ...components, dependsOn: [logGroup] },
    );
    const eksCluster = cluster.eksCluster;
    const clusterName = eksCluster.apply((c) => c.name);

    const nodeGroups = spec.nodePools.map((pool) => {
      const launchTemplate = new aws.ec2.LaunchTemplate(
        `${pool.name}-nodes`,
        {
          description: `Nodes of pool ${pool.name} of EKS cluster ${context.clusterName}`,
          // /dev/xvda is the root device of the EKS-optimized Amazon Linux 2023 AMIs.
          blockDeviceMappings: [
            {
              deviceName: '/dev/xvda',
              ebs: { volumeSize: pool.diskSizeGb, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
            },
          ],
          // IMDSv2 only; hop limit 2 so that host-network add-ons still reach it.
          metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 2 },
          // Managed node groups do not pass their tags to instances: the launch template does.
          tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({
            resourceType,
            tags: { ...tags, Name: `${context.clusterName}-${pool.name}` },
          })),
          updateDefaultVersion: true,
          tags,
        },
        child,
      );
      return new eks.ManagedNodeGroup(
        `pool-${pool.name}`,
        {
          cluster,
          nodeRoleArn: nodeRole.arn,
          subnetIds: network.privateSubnetIds,
          operatingSystem: eks.OperatingSystem.AL2023,
          instanceTypes: [pool.instanceType],
          capacityType: pool.spot ? 'SPOT' : 'ON_DEMAND',
          scalingConfig: { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.desiredSize ?? pool.minSize },
          version: pool.version ?? spec.version,
          labels: { ...pool.labels, [POOL_LABEL]: pool.name },
          taints: pool.taints.map((t) => ({ key: t.key, value: t.value, effect: TAINT_EFFECTS[t.effect] })),
          // A new template version (disk size, tags) rolls the nodes in place.
          launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
          tags,
        },
        components,
      );
    });

    const coredns = new aws.eks.Addon(
      'coredns',
      {
        clusterName,
        addonName: 'coredns',
        addonVersion: addonVersions.coredns,
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
        tags,
      },
      { ...child, dependsOn: nodeGroups },
    );
    const ebsRole = new aws.iam.Role(
      'ebs-csi-driver',
      {
        description: `EBS CSI controller of EKS cluster ${context.clusterName} (IRSA)`,
        assumeRolePolicy: pulumi
          .all([cluster.oidcProviderArn, cluster.oidcIssuer])
          .apply(([arn, issuer]) => JSON.stringify(assumeByServiceAccount(arn, issuer, 'kube-system', 'ebs-csi-controller-sa'))),
        tags,
      },
      child,
    );
    new aws.iam.RolePolicyAttachment(
      'ebs-csi-driver',
      { role: ebsRole.name, policyArn: `arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy` },
      child,
    );
    const ebsCsi = new aws.eks.Addon(
      'aws-ebs-csi-driver',
      {
        clusterName,
        addonName: 'aws-ebs-csi-driver',
        addonVersion: addonVersions['aws-ebs-csi-driver'],
        serviceAccountRoleArn: ebsRole.arn,
        resolveConflictsOnCreate: 'OVERWRITE',
        resolveConflictsOnUpdate: 'OVERWRITE',
        tags,
      },
      { ...child, dependsOn: nodeGroups },
    );

    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    const k8sProvider = new k8s.Provider(
      'k8s',
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, deleteUnreachable: true },
      { parent: this },
    );
    // EKS 1.30+ has no default StorageClass; gp2 would be the wrong one anyway.
    new k8s.storage.v1.StorageClass(
      'gp3',
      {
        metadata: { name: 'gp3', labels: objectLabels(context), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
        provisioner: 'ebs.csi.aws.com',
        parameters: { type: 'gp3', encrypted: 'true' },
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
        reclaimPolicy: 'Delete',
      },
      { parent: this, provider: k8sProvider, dependsOn: [ebsCsi] },
    );
    new Baseline(
      'baseline',
      {
        kind: 'eks',
        team: context.team,
        teamGroup: eksTeamGroup(context.team),
        tenancy: spec.tenancy,
        addons: spec.addons,
        provider: k8sProvider,
        labels: objectLabels(context),
        dependsOn: [...nodeGroups, coredns],
      },
      { parent: this },
    );

    this.endpoint = eksCluster.apply((c) => c.endpoint);
    this.certificateAuthority = eksCluster.apply((c) => pulumi.output(c.certificateAuthority).apply((ca) => ca.data));
    this.clusterId = eksCluster.apply((c) => c.arn);
    this.oidcIssuer = pulumi.interpolate`https://${cluster.oidcIssuer}`;
    this.nodePoolNames = spec.nodePools.map((p) => p.name);
    this.registerOutputs({
      endpoint: this.endpoint,
      certificateAuthority: this.certificateAuthority,
      clusterId: this.clusterId,
      oidcIssuer: this.oidcIssuer,
      nodePools: this.nodePoolNames,
      kubeconfig: this.kubeconfig,
    });
  }

  /** The new VPC, or the existing subnets of the spec. */
  private network(spec: EksSpec, clusterName: string, tags: Record<string, string>, provider: aws.Provider) {
    if (spec.network.mode === 'existing') {
      const { vpcId, privateSubnetIds, publicSubnetIds } = spec.network;
      return {
        vpcId: pulumi.output(vpcId),
        privateSubnetIds: privateSubnetIds.map((id) => pulumi.output(id)),
        publicSubnetIds: publicSubnetIds.map((id) => pulumi.output(id)),
      };
    }
    const zones = spec.network.zones ?? firstZones(3, this, provider);
    const vpc = new EksVpc(
      'network',
      { cidr: spec.network.cidr, zones, natGateways: spec.network.natGateways, clusterName, tags, region: spec.region },
      { parent: this, providers: { aws: provider } },
    );
    return { vpcId: vpc.vpcId, privateSubnetIds: vpc.privateSubnetIds, publicSubnetIds: vpc.publicSubnetIds };
  }
}

/** The region's first `count` availability zones that need no opt-in (Local Zones do). */
function firstZones(count: number, parent: pulumi.Resource, provider: aws.Provider): pulumi.Output<string>[] {
  const zones = aws.getAvailabilityZonesOutput(
    { state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] },
    { parent, provider },
  );
  return Array.from({ length: count }, (_, i) =>
    zones.names.apply((names) => {
      const zone = names[i];
      if (!zone) throw new Error(`the region has ${names.length} availability zones; set network.zones`);
      return zone;
    }),
  );
}

function assumeBy(service: string) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] };
}

/** Trust policy of an IRSA role: one Kubernetes service account of this cluster, nothing else. */
function assumeByServiceAccount(providerArn: string, issuer: string, namespace: string, serviceAccount: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  };
}
