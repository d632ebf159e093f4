/**
 * The spec of the `gke` blueprint: zod only (no provider SDK), so that the API process can
 * validate requests without loading @pulumi/gcp.
 */
import { z } from 'zod';
import { isPrivate, overlaps, parseCidr } from './cidr.js';
import {
  addonsSchema,
  checkNodePools,
  cidrSchema,
  deletionProtectionSchema,
  endpointSchema,
  nodePoolFields,
  tagsSchema,
  tenancySchema,
  versionSchema,
} from './common-spec.js';
import { defaultGkeVersion } from './default-version.js';
import { GKE_VERSIONS } from './versions.js';

/**
 * Compute Engine machine types: predefined (`e2-standard-4`, `n2-highmem-8`, `c3-standard-4-lssd`,
 * `a2-highgpu-1g`, `e2-medium`) and custom (`custom-4-16384`, `n2-custom-8-32768`).
 */
export const GCE_MACHINE_TYPE =
  /^([a-z][a-z0-9]*-)?(custom-[0-9]+-[0-9]+(-ext)?|(standard|highmem|highcpu|highgpu|megagpu|ultragpu|ultramem|megamem|hypermem|hightpu|edgegpu)-[0-9]+[a-z]*(-lssd|-metal)?|micro|small|medium)$/;

const gkeNodePoolSchema = z.strictObject({
  ...nodePoolFields(GKE_VERSIONS),
  machineType: z
    .string()
    .regex(GCE_MACHINE_TYPE, 'must be a Compute Engine machine type like e2-standard-4 or n2-highmem-8')
    .default('e2-standard-4')
    .describe('Compute Engine machine type of the nodes; changed in place by a rolling node upgrade. Default e2-standard-4.'),
});

export type GkeNodePoolSpec = z.infer<typeof gkeNodePoolSchema>;

const privateBlock = (what: string) =>
  cidrSchema.superRefine((cidr, ctx) => {
    const block = parseCidr(cidr);
    if (block && !isPrivate(block))
      ctx.addIssue({ code: 'custom', message: `${what} must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)` });
  });

const newNetworkSchema = z.strictObject({
  mode: z.literal('new').describe('Create a VPC network and a subnetwork with secondary ranges for pods and services (VPC-native).'),
  subnetCidr: privateBlock('the node range')
    .default('10.0.0.0/20')
    .describe('Primary range of the subnetwork (nodes). Default 10.0.0.0/20.'),
  podsCidr: privateBlock('the pod range').default('10.16.0.0/14').describe('Secondary range for pods. Default 10.16.0.0/14.'),
  servicesCidr: privateBlock('the service range').default('10.20.0.0/20').describe('Secondary range for services. Default 10.20.0.0/20.'),
});

const resourceName = (what: string) =>
  z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, `must be the name of ${what}: 1-63 characters of a-z, 0-9 and -`);

const existingNetworkSchema = z.strictObject({
  mode: z.literal('existing').describe('Use a network and subnetwork that already exist (a Shared VPC too).'),
  network: z.string().min(1, 'must not be empty').describe('Network name or self link (projects/<p>/global/networks/<n>).'),
  subnetwork: z.string().min(1, 'must not be empty').describe('Subnetwork name or self link, in the cluster region.'),
  podsRangeName: resourceName('a secondary range').describe('Name of the secondary range for pods.'),
  servicesRangeName: resourceName('a secondary range').describe('Name of the secondary range for services.'),
});

/** The network of a GKE cluster. Changing it replaces the cluster. */
export const gkeNetworkSchema = z
  .discriminatedUnion('mode', [newNetworkSchema, existingNetworkSchema], { error: 'must be new or existing' })
  .prefault({ mode: 'new' })
  .describe('A new VPC-native network (default) or an existing one. Changing the network replaces the cluster.');

export type GkeNetworkSpec = z.infer<typeof gkeNetworkSchema>;

const GKE_LOG_COMPONENTS = ['SYSTEM_COMPONENTS', 'APISERVER', 'CONTROLLER_MANAGER', 'SCHEDULER', 'WORKLOADS'] as const;
const email = z.string().regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'must be an email address');

/** The spec of a `gke` cluster. */
export const gkeSpecSchema = z
  .strictObject({
    projectId: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id: 6-30 characters of a-z, 0-9 and -, starting with a letter')
      .describe('GCP project that holds the cluster. Changing it replaces the cluster.'),
    region: z
      .string()
      .regex(/^[a-z]+-[a-z]+[0-9]+$/, 'must be a GCP region like europe-west1')
      .describe('GCP region: the control plane is regional (replicated over the zones). Changing it replaces the cluster.'),
    zones: z
      .array(z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/, 'must be a zone name like europe-west1-b'))
      .min(1, 'must have at least 1 zone')
      .max(4, 'must have at most 4 zones')
      .refine((zones) => new Set(zones).size === zones.length, 'zones must be unique')
      .optional()
      .describe("Zones of the region the nodes run in. Default: GKE's choice of three."),
    version: versionSchema(GKE_VERSIONS)
      .default(() => defaultGkeVersion(Date.now()))
      .describe(
        `Kubernetes minor version of the control plane (its minimum, on a release channel), one of ${GKE_VERSIONS.join(', ')}; a new cluster may start only on a version in standard support by the calendar. Upgrades move one minor version at a time. Default: the newest version in standard support by the calendar when the cluster is created.`,
      ),
    releaseChannel: z
      .enum(['RAPID', 'REGULAR', 'STABLE', 'EXTENDED', 'NONE'], 'must be one of RAPID, REGULAR, STABLE, EXTENDED, NONE')
      .default('REGULAR')
      .describe(
        'GKE release channel: GKE upgrades control plane and nodes within it (node pool versions must then be left out). NONE pins static versions, with node auto-upgrade off. Default REGULAR.',
      ),
    endpoint: endpointSchema,
    privateNodes: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Nodes get internal addresses only; egress goes through Cloud NAT (created with a new network). Changing it replaces the cluster. Default true.',
          ),
        masterCidr: privateBlock('the control plane range')
          .default('172.16.0.0/28')
          .describe('/28 block for the control plane in the private cluster. Changing it replaces the cluster. Default 172.16.0.0/28.'),
      })
      .prefault({})
      .describe('Private nodes.'),
    network: gkeNetworkSchema,
    nodePools: z
      .array(gkeNodePoolSchema)
      .min(1, 'must have at least 1 node pool')
      .max(20, 'must have at most 20 node pools')
      .prefault([{ name: 'general' }])
      .describe(
        'Node pools (Container-Optimized OS, Shielded VMs, Workload Identity metadata server, the dedicated node service account). Default: one pool "general".',
      ),
    access: z
      .strictObject({
        teamGroup: email.describe(
          "The team's Google group: admin of the team namespaces (RBAC), and Kubernetes Engine Cluster Viewer on the project so that it can fetch credentials.",
        ),
        rbacSecurityGroup: email
          .optional()
          .describe(
            'The gke-security-groups@<domain> group that enables Google Groups for RBAC; required for teamGroup bindings to match unless the organisation already has it.',
          ),
      })
      .describe('Who may use the cluster. The identity clusterd runs as keeps admin access (it installs the add-ons).'),
    logging: z
      .array(z.enum(GKE_LOG_COMPONENTS, `must be one of ${GKE_LOG_COMPONENTS.join(', ')}`))
      .refine((c) => new Set(c).size === c.length, 'components must be unique')
      .refine((c) => c.length === 0 || c.includes('SYSTEM_COMPONENTS'), 'must include SYSTEM_COMPONENTS when any component is logged')
      .default(['SYSTEM_COMPONENTS', 'WORKLOADS'])
      .describe('Components whose logs go to Cloud Logging. Default SYSTEM_COMPONENTS, WORKLOADS.'),
    tags: tagsSchema.default({}),
    tenancy: tenancySchema,
    addons: addonsSchema('gke'),
    deletionProtection: deletionProtectionSchema,
  })
  .superRefine((spec, ctx) => {
    checkNodePools(spec, 'gke', ctx);
    if (spec.releaseChannel !== 'NONE') {
      spec.nodePools.forEach((pool, i) => {
        if (pool.version !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['nodePools', i, 'version'],
            message: 'must be left out on a release channel (GKE upgrades the nodes); set releaseChannel to NONE to pin node pool versions',
          });
        }
      });
    }
    if (spec.endpoint.access === 'private' && !spec.privateNodes.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint', 'access'],
        message: 'can be private only with private nodes (privateNodes.enabled)',
      });
    }
    spec.zones?.forEach((zone, i) => {
      if (!zone.startsWith(`${spec.region}-`))
        ctx.addIssue({ code: 'custom', path: ['zones', i], message: `must be a zone of the region ${spec.region}` });
    });
    checkRanges(spec, ctx);
  })
  .describe('A Google Kubernetes Engine (Standard) cluster with separate node pools.');

/** The ranges a cluster uses must not overlap (GKE refuses, late). */
function checkRanges(
  spec: { network: GkeNetworkSpec; privateNodes: { enabled: boolean; masterCidr: string } },
  ctx: z.RefinementCtx,
): void {
  const ranges: Array<[string[], string]> = [];
  if (spec.network.mode === 'new') {
    ranges.push(
      [['network', 'subnetCidr'], spec.network.subnetCidr],
      [['network', 'podsCidr'], spec.network.podsCidr],
      [['network', 'servicesCidr'], spec.network.servicesCidr],
    );
  }
  if (spec.privateNodes.enabled) {
    const master = parseCidr(spec.privateNodes.masterCidr);
    if (master && master.prefix !== 28)
      ctx.addIssue({ code: 'custom', path: ['privateNodes', 'masterCidr'], message: `must be a /28 block, got /${master.prefix}` });
    ranges.push([['privateNodes', 'masterCidr'], spec.privateNodes.masterCidr]);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = 0; j < i; j++) {
      const [pathA, a] = ranges[i]!;
      const [pathB, b] = ranges[j]!;
      const blockA = parseCidr(a);
      const blockB = parseCidr(b);
      if (blockA && blockB && overlaps(blockA, blockB))
        ctx.addIssue({ code: 'custom', path: pathA, message: `overlaps ${pathB.join('.')} (${b})` });
    }
  }
}

export type GkeSpec = z.infer<typeof gkeSpecSchema>;
