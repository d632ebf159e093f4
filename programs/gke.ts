/**
 * `clusterd:gke:Cluster`: a GKE Standard cluster the way an experienced operator runs one: a
 * regional control plane, VPC-native networking on secondary ranges, private nodes behind Cloud
 * NAT, Dataplane V2 (NetworkPolicy enforced), Workload Identity, a dedicated least-privilege node
 * service account, the default node pool removed in favour of separate pools, and the team baseline
 * installed through a Kubernetes provider bound to this cluster.
 */
import * as pulumi from '@pulumi/pulumi';
import * as gcp from '@pulumi/gcp';
import * as k8s from '@pulumi/kubernetes';
import type { BlueprintContext } from '../src/blueprints/blueprint.js';
import { catalogFor } from './addon-catalog.js';
import { Baseline, objectLabels } from './addons.js';
import { clusterTags, gcpLabels, POOL_LABEL, publicCidrsOf } from './common-spec.js';
import type { GkeSpec } from './gke-spec.js';

/** Arguments of {@link GkeCluster}. */
export interface GkeClusterArgs {
  /** A spec parsed by `gkeSpecSchema` (defaults applied, rules checked). */
  spec: GkeSpec;
  context: BlueprintContext;
}

/**
 * What the node service account may do, and nothing more: write logs and metrics, report
 * metadata, read images from Artifact Registry. (The Compute Engine default account it replaces
 * has Editor on the project.)
 */
export const NODE_ROLES = [
  'roles/logging.logWriter',
  'roles/monitoring.metricWriter',
  'roles/monitoring.viewer',
  'roles/stackdriver.resourceMetadata.writer',
  'roles/autoscaling.metricsWriter',
  'roles/artifactregistry.reader',
] as const;

const TAINT_EFFECTS = { NoSchedule: 'NO_SCHEDULE', PreferNoSchedule: 'PREFER_NO_SCHEDULE', NoExecute: 'NO_EXECUTE' } as const;
const CLOUD_PLATFORM = ['https://www.googleapis.com/auth/cloud-platform'];

/** The service account id of a cluster's nodes: 6-30 characters. */
export function nodeAccountId(clusterName: string): string {
  return `${clusterName.slice(0, 24).replace(/-+$/, '')}-nodes`;
}

/** One GKE cluster and everything it owns. */
export class GkeCluster extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  readonly clusterId: pulumi.Output<string>;
  readonly oidcIssuer: pulumi.Output<string>;
  /** Secret: never in clear in state, logs or answers. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly nodePoolNames: string[];

  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('clusterd:gke:Cluster', name, {}, opts);
    const { spec, context } = args;
    const labels = gcpLabels(clusterTags(spec.tags, context));
    const project = spec.projectId;
    // Credentials come from the worker's environment; project and region from the spec only.
    const provider = new gcp.Provider('gcp', { project, region: spec.region }, { parent: this });
    const child = { parent: this, provider };

    const network = this.network(spec, context.clusterName, child);

    const nodeAccount = new gcp.serviceaccount.Account(
      'nodes',
      { project, accountId: nodeAccountId(context.clusterName), displayName: `Nodes of GKE cluster ${context.clusterName}` },
      child,
    );
    const nodeMember = pulumi.interpolate`serviceAccount:${nodeAccount.email}`;
    const grants = NODE_ROLES.map(
      (role) => new gcp.projects.IAMMember(`nodes-${role.replace('roles/', '')}`, { project, role, member: nodeMember }, child),
    );
    // Lets the team fetch credentials; what it may do inside is RBAC's business.
    new gcp.projects.IAMMember(
      'team-cluster-viewer',
      { project, role: 'roles/container.clusterViewer', member: `group:${spec.access.teamGroup}` },
      child,
    );

    // Static versions: the newest patch of each minor version, so that nodes never run a patch the control plane lacks.
    const staticVersion = (minor: string) =>
      gcp.container.getEngineVersionsOutput({ project, location: spec.region, versionPrefix: `${minor}.` }, { parent: this, provider });
    const pinned = spec.releaseChannel === 'NONE';
    const privateNodes = spec.privateNodes.enabled;
    const publicCidrs = publicCidrsOf(spec.endpoint);
    const cluster = new gcp.container.Cluster(
      'cluster',
      {
        name: context.clusterName,
        project,
        location: spec.region,
        nodeLocations: spec.zones,
        network: network.network,
        subnetwork: network.subnetwork,
        networkingMode: 'VPC_NATIVE',
        ipAllocationPolicy: { clusterSecondaryRangeName: network.podsRange, servicesSecondaryRangeName: network.servicesRange },
        // The default pool cannot be changed without replacing the cluster: it goes, separate pools come.
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        nodeConfig: { serviceAccount: nodeAccount.email, oauthScopes: CLOUD_PLATFORM, workloadMetadataConfig: { mode: 'GKE_METADATA' } },
        releaseChannel: { channel: spec.releaseChannel === 'NONE' ? 'UNSPECIFIED' : spec.releaseChannel },
        minMasterVersion: pinned ? staticVersion(spec.version).latestMasterVersion : spec.version,
        workloadIdentityConfig: { workloadPool: `${project}.svc.id.goog` },
        privateClusterConfig: privateNodes
          ? {
              enablePrivateNodes: true,
              enablePrivateEndpoint: spec.endpoint.access === 'private',
              masterIpv4CidrBlock: spec.privateNodes.masterCidr,
            }
          : undefined,
        masterAuthorizedNetworksConfig: {
          cidrBlocks: publicCidrs.map((cidrBlock) => ({ cidrBlock, displayName: `clusterd ${cidrBlock}` })),
        },
        masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
        datapathProvider: 'ADVANCED_DATAPATH',
        enableShieldedNodes: true,
        authenticatorGroupsConfig: spec.access.rbacSecurityGroup ? { securityGroup: spec.access.rbacSecurityGroup } : undefined,
        loggingConfig: { enableComponents: spec.logging },
        monitoringConfig: { enableComponents: ['SYSTEM_COMPONENTS'], managedPrometheus: { enabled: true } },
        addonsConfig: {
          gcePersistentDiskCsiDriverConfig: { enabled: true },
          httpLoadBalancing: { disabled: false },
          horizontalPodAutoscaling: { disabled: false },
        },
        deletionProtection: spec.deletionProtection,
        resourceLabels: labels,
      },
      // nodeConfig and initialNodeCount describe the default pool, which is gone after creation.
      { ...child, dependsOn: [...network.dependsOn, ...grants], ignoreChanges: ['nodeConfig', 'initialNodeCount'] },
    );

    const zoneCount = spec.zones?.length ?? 3;
    const pools = spec.nodePools.map((pool) => {
      return new gcp.container.NodePool(
        `pool-${pool.name}`,
        {
          name: pool.name,
          project,
          location: spec.region,
          cluster: cluster.name,
          nodeLocations: spec.zones,
          // Per zone, at creation only: the autoscaler owns the size afterwards.
          initialNodeCount: Math.max(1, Math.ceil((pool.desiredSize ?? pool.minSize) / zoneCount)),
          autoscaling: { totalMinNodeCount: pool.minSize, totalMaxNodeCount: pool.maxSize, locationPolicy: pool.spot ? 'ANY' : 'BALANCED' },
          // Release channels require auto-upgrade; static versions move only through the spec.
          management: { autoRepair: true, autoUpgrade: !pinned },
          version: pinned ? staticVersion(pool.version ?? spec.version).latestNodeVersion : undefined,
          upgradeSettings: { strategy: 'SURGE', maxSurge: 1, maxUnavailable: 0 },
          nodeConfig: {
            machineType: pool.machineType,
            diskSizeGb: pool.diskSizeGb,
            diskType: 'pd-balanced',
            imageType: 'COS_CONTAINERD',
            serviceAccount: nodeAccount.email,
            oauthScopes: CLOUD_PLATFORM,
            spot: pool.spot,
            labels: { ...pool.labels, [POOL_LABEL]: pool.name },
            taints: pool.taints.map((t) => ({ key: t.key, value: t.value ?? '', effect: TAINT_EFFECTS[t.effect] })),
            resourceLabels: labels,
            workloadMetadataConfig: { mode: 'GKE_METADATA' },
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            metadata: { 'disable-legacy-endpoints': 'true' },
          },
        },
        // Pools have fixed names (nodes carry them): a replacement must free the name first.
        { ...child, deleteBeforeReplace: true, ignoreChanges: ['initialNodeCount'] },
      );
    });

    // The control plane calls admission webhooks on the nodes; private clusters only open 443 and 10250.
    const webhooks = catalogFor('gke').filter((e) => e.webhookPorts && spec.addons[e.key]?.enabled);
    if (privateNodes && webhooks.length) {
      new gcp.compute.Firewall(
        'control-plane-to-webhooks',
        {
          project,
          network: network.network,
          direction: 'INGRESS',
          sourceRanges: [spec.privateNodes.masterCidr],
          allows: [{ protocol: 'tcp', ports: webhooks.flatMap((e) => e.webhookPorts!.map(String)) }],
          targetServiceAccounts: [nodeAccount.email],
          description: `admission webhooks (${webhooks.map((e) => e.chart).join(', ')}) of GKE cluster ${context.clusterName}`,
        },
        child,
      );
    }

    const caData = cluster.masterAuth.apply((auth) => auth.clusterCaCertificate ?? '');
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, caData])
        .apply(([clusterName, endpoint, ca]) => kubeconfigJson(clusterName, endpoint, ca)),
    );
    const k8sProvider = new k8s.Provider(
      'k8s',
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, deleteUnreachable: true },
      { parent: this },
    );
    new Baseline(
      'baseline',
      {
        kind: 'gke',
        team: context.team,
        teamGroup: spec.access.teamGroup,
        tenancy: spec.tenancy,
        addons: spec.addons,
        provider: k8sProvider,
        labels: objectLabels(context),
        dependsOn: pools,
      },
      { parent: this },
    );

    this.endpoint = pulumi.interpolate`https://${cluster.endpoint}`;
    this.certificateAuthority = caData;
    this.clusterId = cluster.id;
    this.oidcIssuer = pulumi.interpolate`https://container.googleapis.com/v1/projects/${project}/locations/${spec.region}/clusters/${cluster.name}`;
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

  /** The new network (with Cloud NAT for private nodes), or the existing one of the spec. */
  private network(spec: GkeSpec, clusterName: string, child: pulumi.CustomResourceOptions) {
    const net = spec.network;
    if (net.mode === 'existing') {
      return {
        network: net.network,
        subnetwork: net.subnetwork,
        podsRange: net.podsRangeName,
        servicesRange: net.servicesRangeName,
        dependsOn: [] as pulumi.Resource[],
      };
    }
    const project = spec.projectId;
    const network = new gcp.compute.Network(
      'network',
      { project, name: clusterName, autoCreateSubnetworks: false, routingMode: 'REGIONAL' },
      child,
    );
    const subnetwork = new gcp.compute.Subnetwork(
      'nodes',
      {
        project,
        name: `${clusterName}-nodes`,
        region: spec.region,
        network: network.id,
        ipCidrRange: net.subnetCidr,
        // Private nodes still reach Google APIs (image pulls, logging) without NAT.
        privateIpGoogleAccess: true,
        secondaryIpRanges: [
          { rangeName: 'pods', ipCidrRange: net.podsCidr },
          { rangeName: 'services', ipCidrRange: net.servicesCidr },
        ],
      },
      child,
    );
    const dependsOn: pulumi.Resource[] = [subnetwork];
    if (spec.privateNodes.enabled) {
      const router = new gcp.compute.Router(
        'router',
        { project, name: `${clusterName}-router`, region: spec.region, network: network.id },
        child,
      );
      dependsOn.push(
        new gcp.compute.RouterNat(
          'nat',
          {
            project,
            name: `${clusterName}-nat`,
            region: spec.region,
            router: router.name,
            natIpAllocateOption: 'AUTO_ONLY',
            sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
            logConfig: { enable: true, filter: 'ERRORS_ONLY' },
          },
          child,
        ),
      );
    }
    return { network: network.id, subnetwork: subnetwork.id, podsRange: 'pods', servicesRange: 'services', dependsOn };
  }
}

/** A kubeconfig that authenticates with gke-gcloud-auth-plugin (the caller's own Google credentials). */
export function kubeconfigJson(clusterName: string, endpoint: string, caData: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: `https://${endpoint}`, 'certificate-authority-data': caData } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    'current-context': clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'gke-gcloud-auth-plugin',
            installHint:
              'Install gke-gcloud-auth-plugin: https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin',
            provideClusterInfo: true,
            interactiveMode: 'Never',
          },
        },
      },
    ],
  });
}
