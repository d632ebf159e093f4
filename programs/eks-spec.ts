/**
 * The spec of the `eks` blueprint: zod only (no provider SDK), so that the API process can
 * validate requests without loading @pulumi/aws or @pulumi/eks.
 */
import { z } from 'zod';
import { parseCidr, isPrivate } from './cidr.js';
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
import { defaultEksVersion } from './default-version.js';
import { EKS_VERSIONS } from './versions.js';

/** EC2 instance types: a family with a generation digit, a dot, a size (`m6i.large`, `c7g.4xlarge`, `m7i-flex.large`, `u-6tb1.metal`). */
export const EC2_INSTANCE_TYPE =
  /^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal(-[0-9]+xl)?)$/;

const eksNodePoolSchema = z.strictObject({
  ...nodePoolFields(EKS_VERSIONS),
  instanceType: z
    .string()
    .regex(EC2_INSTANCE_TYPE, 'must be an EC2 instance type like m6i.large or c7g.2xlarge')
    .default('m6i.large')
    .describe('EC2 instance type of the nodes. Changing it replaces the node group. Default m6i.large.'),
});

export type EksNodePoolSpec = z.infer<typeof eksNodePoolSchema>;

const AZ = /^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$/;

const newVpcSchema = z
  .strictObject({
    mode: z.literal('new').describe('Create a VPC for the cluster.'),
    cidr: cidrSchema
      .default('10.0.0.0/16')
      .describe(
        'VPC block, /16 to /20 in a private range. Each zone gets a private subnet of 1/8 of it (pods take VPC addresses) and a public one of 1/64. Default 10.0.0.0/16.',
      ),
    zones: z
      .array(z.string().regex(AZ, 'must be an availability zone name like eu-west-1a'))
      .min(2, 'must have at least 2 availability zones')
      .max(6, 'must have at most 6 availability zones')
      .refine((zones) => new Set(zones).size === zones.length, 'availability zones must be unique')
      .optional()
      .describe("Availability zones for the subnets, in the spec's region. Default: the region's first 3 zones."),
    natGateways: z
      .enum(['one-per-zone', 'single'], 'must be one-per-zone or single')
      .default('one-per-zone')
      .describe('one-per-zone keeps egress up when a zone fails; single is cheaper. Default one-per-zone.'),
  })
  .superRefine((vpc, ctx) => {
    const block = parseCidr(vpc.cidr);
    if (!block) return;
    if (block.prefix < 16 || block.prefix > 20)
      ctx.addIssue({ code: 'custom', path: ['cidr'], message: `must be a /16 to /20 block, got /${block.prefix}` });
    if (!isPrivate(block))
      ctx.addIssue({
        code: 'custom',
        path: ['cidr'],
        message: 'must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)',
      });
  });

const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id like subnet-0123456789abcdef0');

const existingVpcSchema = z.strictObject({
  mode: z.literal('existing').describe('Use subnets that already exist.'),
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id like vpc-0123456789abcdef0')
    .describe('The VPC.'),
  privateSubnetIds: z
    .array(subnetId)
    .min(2, 'must have at least 2 subnets in different availability zones')
    .max(16, 'must have at most 16 subnets')
    .refine((ids) => new Set(ids).size === ids.length, 'subnet ids must be unique')
    .describe(
      'Subnets for the nodes and the control plane network interfaces; tag them kubernetes.io/role/internal-elb=1 for internal load balancers.',
    ),
  publicSubnetIds: z
    .array(subnetId)
    .max(16, 'must have at most 16 subnets')
    .refine((ids) => new Set(ids).size === ids.length, 'subnet ids must be unique')
    .default([])
    .describe('Subnets for internet-facing load balancers (tagged kubernetes.io/role/elb=1). Default none.'),
});

/** The network of an EKS cluster: a new VPC, or existing subnets. Changing it replaces the cluster. */
export const eksNetworkSchema = z
  .discriminatedUnion('mode', [newVpcSchema, existingVpcSchema], { error: 'must be new or existing' })
  .prefault({ mode: 'new' })
  .describe('A new VPC (default) or existing subnets. Changing the network replaces the cluster.');

export type EksNetworkSpec = z.infer<typeof eksNetworkSchema>;

/** EKS access policies a team role may get, by their clusterd name. */
export const EKS_ACCESS_POLICIES = {
  'cluster-admin': 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
  admin: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy',
  edit: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
  view: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
} as const;

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
const EKS_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'] as const;

/** The spec of an `eks` cluster. */
export const eksSpecSchema = z
  .strictObject({
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, 'must be an AWS region like eu-west-1')
      .describe('AWS region. Changing it replaces the cluster.'),
    version: versionSchema(EKS_VERSIONS)
      .default(() => defaultEksVersion(Date.now()))
      .describe(
        `Kubernetes minor version of the control plane, one of ${EKS_VERSIONS.join(', ')}; a new cluster may start only on a version the support calendar still offers. Upgrades move one minor version at a time. Default: the newest version in standard support by the calendar (with verified add-on pins) when the cluster is created.`,
      ),
    upgradePolicy: z
      .enum(['STANDARD', 'EXTENDED'], 'must be STANDARD or EXTENDED')
      .default('STANDARD')
      .describe(
        'EKS support type: STANDARD upgrades the control plane when standard support ends; EXTENDED keeps the version 12 more months in extended support, at extra cost. Default STANDARD; the service sets EXTENDED when a request with allowExtendedSupport creates a cluster on a version in extended support.',
      ),
    endpoint: endpointSchema,
    network: eksNetworkSchema,
    nodePools: z
      .array(eksNodePoolSchema)
      .min(1, 'must have at least 1 node pool')
      .max(20, 'must have at most 20 node pools')
      .prefault([{ name: 'general' }])
      .describe(
        'Managed node groups (Amazon Linux 2023, IMDSv2 only, encrypted gp3 root disks), in the private subnets. Default: one pool "general".',
      ),
    access: z
      .strictObject({
        teamRoleArn: z
          .string()
          .regex(
            /^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/,
            'must be an IAM role ARN like arn:aws:iam::123456789012:role/platform',
          )
          .describe(
            "The team's IAM role: gets an EKS access entry with the access policy, and the team's Kubernetes group (admin of the team namespaces).",
          ),
        accessPolicy: z
          .enum(['cluster-admin', 'admin', 'edit', 'view'], 'must be one of cluster-admin, admin, edit, view')
          .default('cluster-admin')
          .describe(
            'EKS access policy of the team role over the whole cluster (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy). Default cluster-admin.',
          ),
      })
      .describe(
        'Who may use the cluster. The identity clusterd runs as is the cluster creator and keeps admin access (it installs the add-ons).',
      ),
    logging: z
      .array(z.enum(EKS_LOG_TYPES, `must be one of ${EKS_LOG_TYPES.join(', ')}`))
      .refine((types) => new Set(types).size === types.length, 'log types must be unique')
      .default(['api', 'audit', 'authenticator'])
      .describe('Control-plane log types sent to CloudWatch Logs. Default api, audit, authenticator.'),
    logRetentionDays: z
      .number()
      .refine(
        (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
        `must be a CloudWatch retention: one of ${LOG_RETENTION_DAYS.join(', ')}`,
      )
      .default(90)
      .describe('Days CloudWatch keeps the control-plane logs (EKS would keep them forever). Default 90.'),
    tags: tagsSchema.default({}),
    tenancy: tenancySchema,
    addons: addonsSchema('eks'),
    deletionProtection: deletionProtectionSchema,
  })
  .superRefine((spec, ctx) => {
    checkNodePools(spec, 'eks', ctx);
    if (spec.network.mode === 'new') {
      spec.network.zones?.forEach((zone, i) => {
        if (!zone.startsWith(spec.region))
          ctx.addIssue({ code: 'custom', path: ['network', 'zones', i], message: `must be a zone of the region ${spec.region}` });
      });
    }
  })
  .describe('An Amazon EKS cluster with managed node groups.');

export type EksSpec = z.infer<typeof eksSpecSchema>;
