import assert from 'node:assert/strict';
import { afterEach, describe, it, vi } from 'vitest';
import { eksSpecSchema, gkeSpecSchema } from '../../programs/index.js';
import { fieldIssues } from '../../src/lifecycle/zod-issues.js';

const teamRoleArn = 'arn:aws:iam::123456789012:role/payments-admins';
const eks = (spec: Record<string, unknown>) => ({ region: 'eu-west-1', access: { teamRoleArn }, ...spec });
const gke = (spec: Record<string, unknown>) => ({
  projectId: 'acme-prod',
  region: 'europe-west1',
  access: { teamGroup: 'payments@acme.example' },
  ...spec,
});

/** The issues a schema reports, as the API answers them. */
function issues(schema: typeof eksSpecSchema | typeof gkeSpecSchema, spec: unknown) {
  const result = schema.safeParse(spec);
  return result.success ? [] : fieldIssues(result.error, 'spec').map(({ field, message }) => ({ field, message }));
}

interface Case {
  it: string;
  spec: Record<string, unknown>;
  expect: Array<{ field: string; message: string }>;
}

const eksCases: Case[] = [
  { it: 'accepts the smallest spec (region and team role)', spec: eks({}), expect: [] },
  {
    it: 'requires a region',
    spec: { access: { teamRoleArn } },
    expect: [{ field: 'spec.region', message: 'Invalid input: expected string, received undefined' }],
  },
  {
    it: 'refuses a region that is not an AWS region',
    spec: eks({ region: 'europe-west1' }),
    expect: [{ field: 'spec.region', message: 'must be an AWS region like eu-west-1' }],
  },
  { it: 'refuses unknown fields', spec: eks({ nodeCount: 3 }), expect: [{ field: 'spec.nodeCount', message: 'is not a known field' }] },
  {
    it: 'refuses a Kubernetes version outside the table',
    spec: eks({ version: '1.29' }),
    expect: [
      { field: 'spec.version', message: 'must be a supported Kubernetes minor version: one of 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36' },
    ],
  },
  {
    it: 'refuses a patch version: minor versions only',
    spec: eks({ version: '1.33.2' }),
    expect: [
      { field: 'spec.version', message: 'must be a supported Kubernetes minor version: one of 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36' },
    ],
  },
  {
    it: 'refuses a node pool newer than the control plane',
    spec: eks({ version: '1.32', nodePools: [{ name: 'general', version: '1.33' }] }),
    expect: [
      {
        field: 'spec.nodePools.0.version',
        message: 'is 1.33, newer than the control plane (1.32): a node pool is never newer than its control plane',
      },
    ],
  },
  {
    it: 'accepts a node pool three minor versions behind (EKS skew)',
    spec: eks({ version: '1.33', nodePools: [{ name: 'general', version: '1.30' }] }),
    expect: [],
  },
  {
    it: 'refuses duplicate node pool names',
    spec: eks({ nodePools: [{ name: 'general' }, { name: 'general' }] }),
    expect: [{ field: 'spec.nodePools.1.name', message: 'duplicates the name of another node pool ("general")' }],
  },
  {
    it: 'refuses minSize above maxSize',
    spec: eks({ nodePools: [{ name: 'general', minSize: 4, maxSize: 3 }] }),
    expect: [{ field: 'spec.nodePools.0.minSize', message: 'must not exceed maxSize (4 > 3)' }],
  },
  {
    it: 'refuses desiredSize outside minSize..maxSize',
    spec: eks({ nodePools: [{ name: 'general', minSize: 2, maxSize: 5, desiredSize: 6 }] }),
    expect: [{ field: 'spec.nodePools.0.desiredSize', message: 'must be between minSize and maxSize (2..5), got 6' }],
  },
  {
    it: 'refuses an instance type that is not an EC2 type',
    spec: eks({ nodePools: [{ name: 'general', instanceType: 'e2-standard-4' }] }),
    expect: [{ field: 'spec.nodePools.0.instanceType', message: 'must be an EC2 instance type like m6i.large or c7g.2xlarge' }],
  },
  {
    it: 'refuses an instance size that does not exist',
    spec: eks({ nodePools: [{ name: 'general', instanceType: 'm6i.huge' }] }),
    expect: [{ field: 'spec.nodePools.0.instanceType', message: 'must be an EC2 instance type like m6i.large or c7g.2xlarge' }],
  },
  {
    it: 'accepts flex, Graviton and metal instance types',
    spec: eks({
      nodePools: [
        { name: 'a', instanceType: 'm7i-flex.large' },
        { name: 'b', instanceType: 'c7g.16xlarge' },
        { name: 'c', instanceType: 'm5.metal' },
      ],
    }),
    expect: [],
  },
  {
    it: 'refuses a cluster whose only pools are spot or may scale to zero',
    spec: eks({
      nodePools: [
        { name: 'spot', spot: true },
        { name: 'batch', minSize: 0 },
      ],
    }),
    expect: [
      { field: 'spec.nodePools', message: 'must have a pool that is not spot with minSize of at least 1, to run the system add-ons' },
    ],
  },
  {
    it: 'refuses an empty node pool list',
    spec: eks({ nodePools: [] }),
    expect: [{ field: 'spec.nodePools', message: 'must have at least 1 node pool' }],
  },
  {
    it: 'refuses a pool name that is not a DNS-style name',
    spec: eks({ nodePools: [{ name: 'General_Pool' }] }),
    expect: [
      { field: 'spec.nodePools.0.name', message: 'must be 1-32 characters of a-z, 0-9 and -, start with a letter and not end with -' },
    ],
  },
  {
    it: 'refuses node labels under kubernetes.io/',
    spec: eks({ nodePools: [{ name: 'general', labels: { 'node-role.kubernetes.io/worker': 'true' } }] }),
    expect: [
      {
        field: 'spec.nodePools.0.labels.node-role.kubernetes.io/worker',
        message: 'must not use the reserved kubernetes.io/ or k8s.io/ prefixes',
      },
    ],
  },
  {
    it: 'refuses a taint with an unknown effect',
    spec: eks({ nodePools: [{ name: 'general', taints: [{ key: 'gpu', effect: 'NoEvict' }] }] }),
    expect: [{ field: 'spec.nodePools.0.taints.0.effect', message: 'must be one of NoSchedule, PreferNoSchedule, NoExecute' }],
  },
  {
    it: 'refuses a malformed public CIDR',
    spec: eks({ endpoint: { publicCidrs: ['10.0.0.0/33'] } }),
    expect: [{ field: 'spec.endpoint.publicCidrs.0', message: 'must be an IPv4 CIDR block like 10.0.0.0/16' }],
  },
  {
    it: 'refuses a CIDR with host bits set, naming the network',
    spec: eks({ endpoint: { publicCidrs: ['203.0.113.7/24'] } }),
    expect: [{ field: 'spec.endpoint.publicCidrs.0', message: 'has host bits set: the network is 203.0.113.0/24' }],
  },
  {
    it: 'refuses public CIDRs on a private endpoint',
    spec: eks({ endpoint: { access: 'private', publicCidrs: ['203.0.113.0/24'] } }),
    expect: [{ field: 'spec.endpoint.publicCidrs', message: 'must be left out when access is private' }],
  },
  {
    it: 'refuses a VPC block that is too small',
    spec: eks({ network: { mode: 'new', cidr: '10.0.0.0/24' } }),
    expect: [{ field: 'spec.network.cidr', message: 'must be a /16 to /20 block, got /24' }],
  },
  {
    it: 'refuses a public VPC block',
    spec: eks({ network: { mode: 'new', cidr: '8.8.0.0/16' } }),
    expect: [{ field: 'spec.network.cidr', message: 'must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)' }],
  },
  {
    it: 'refuses zones of another region',
    spec: eks({ network: { mode: 'new', zones: ['eu-west-1a', 'eu-central-1b'] } }),
    expect: [{ field: 'spec.network.zones.1', message: 'must be a zone of the region eu-west-1' }],
  },
  {
    it: 'refuses an unknown network mode',
    spec: eks({ network: { mode: 'shared' } }),
    expect: [{ field: 'spec.network.mode', message: 'must be new or existing' }],
  },
  {
    it: 'refuses existing networks with a single subnet',
    spec: eks({ network: { mode: 'existing', vpcId: 'vpc-0123456789abcdef0', privateSubnetIds: ['subnet-0123456789abcdef0'] } }),
    expect: [{ field: 'spec.network.privateSubnetIds', message: 'must have at least 2 subnets in different availability zones' }],
  },
  {
    it: 'refuses a team role that is not an IAM role ARN',
    spec: eks({ access: { teamRoleArn: 'arn:aws:iam::123456789012:user/alice' } }),
    expect: [{ field: 'spec.access.teamRoleArn', message: 'must be an IAM role ARN like arn:aws:iam::123456789012:role/platform' }],
  },
  {
    it: 'refuses tags clusterd sets itself',
    spec: eks({ tags: { 'clusterd-team': 'other' } }),
    expect: [{ field: 'spec.tags.clusterd-team', message: 'is set by clusterd itself' }],
  },
  {
    it: 'refuses an add-on version outside the catalog',
    spec: eks({ addons: { certManager: { version: 'v1.9.0' } } }),
    expect: [
      {
        field: 'spec.addons.certManager.version',
        message: 'must be a catalog version of cert-manager: one of v1.17.2, v1.18.2, v1.19.6, v1.20.3, v1.21.1',
      },
    ],
  },
  {
    it: 'refuses a log retention CloudWatch does not offer',
    spec: eks({ logRetentionDays: 45 }),
    expect: [
      {
        field: 'spec.logRetentionDays',
        message:
          'must be a CloudWatch retention: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
      },
    ],
  },
  {
    it: 'refuses reserved namespaces for the team',
    spec: eks({ tenancy: { namespaces: ['kube-system'] } }),
    expect: [
      {
        field: 'spec.tenancy.namespaces.0',
        message: 'must not be one of default, kube-system, kube-public, kube-node-lease, cert-manager, ingress-nginx, envoy-gateway-system',
      },
    ],
  },
  {
    it: 'refuses a quota that is not a Kubernetes quantity',
    spec: eks({ tenancy: { quota: { memory: '128GB' } } }),
    expect: [{ field: 'spec.tenancy.quota.memory', message: 'must be a Kubernetes quantity like 500m, 4, 512Mi or 8Gi' }],
  },
];

const gkeCases: Case[] = [
  { it: 'accepts the smallest spec (project, region and team group)', spec: gke({}), expect: [] },
  {
    it: 'requires a project id',
    spec: { region: 'europe-west1', access: { teamGroup: 'a@b.example' } },
    expect: [{ field: 'spec.projectId', message: 'Invalid input: expected string, received undefined' }],
  },
  {
    it: 'refuses metrics-server (GKE ships its own)',
    spec: gke({ addons: { metricsServer: { enabled: true } } }),
    expect: [{ field: 'spec.addons.metricsServer', message: 'is not a known field' }],
  },
  {
    it: 'refuses a machine type that is not a Compute Engine type',
    spec: gke({ nodePools: [{ name: 'general', machineType: 'm6i.large' }] }),
    expect: [
      { field: 'spec.nodePools.0.machineType', message: 'must be a Compute Engine machine type like e2-standard-4 or n2-highmem-8' },
    ],
  },
  {
    it: 'accepts predefined, custom, shared-core and local-SSD machine types',
    spec: gke({
      nodePools: [
        { name: 'a', machineType: 'n2-custom-8-32768' },
        { name: 'b', machineType: 'e2-medium' },
        { name: 'c', machineType: 'c3-standard-8-lssd' },
      ],
    }),
    expect: [],
  },
  {
    it: 'refuses a node pool more than two minor versions behind (GKE skew)',
    spec: gke({ releaseChannel: 'NONE', version: '1.34', nodePools: [{ name: 'general', version: '1.31' }] }),
    expect: [
      {
        field: 'spec.nodePools.0.version',
        message: 'is 1.31, more than 2 minor versions behind the control plane (1.34): GKE supports a skew of at most 2',
      },
    ],
  },
  {
    it: 'refuses pinned pool versions on a release channel',
    spec: gke({ version: '1.34', nodePools: [{ name: 'general', version: '1.33' }] }),
    expect: [
      {
        field: 'spec.nodePools.0.version',
        message: 'must be left out on a release channel (GKE upgrades the nodes); set releaseChannel to NONE to pin node pool versions',
      },
    ],
  },
  {
    it: 'refuses a private endpoint without private nodes',
    spec: gke({ endpoint: { access: 'private' }, privateNodes: { enabled: false } }),
    expect: [{ field: 'spec.endpoint.access', message: 'can be private only with private nodes (privateNodes.enabled)' }],
  },
  {
    it: 'refuses a control plane range that is not a /28',
    spec: gke({ privateNodes: { masterCidr: '172.16.0.0/24' } }),
    expect: [{ field: 'spec.privateNodes.masterCidr', message: 'must be a /28 block, got /24' }],
  },
  {
    it: 'refuses overlapping node, pod and service ranges',
    spec: gke({ network: { mode: 'new', subnetCidr: '10.0.0.0/20', podsCidr: '10.0.0.0/14' } }),
    expect: [{ field: 'spec.network.podsCidr', message: 'overlaps network.subnetCidr (10.0.0.0/20)' }],
  },
  {
    it: 'refuses a control plane range inside the node range',
    spec: gke({ privateNodes: { masterCidr: '10.0.0.16/28' } }),
    expect: [{ field: 'spec.privateNodes.masterCidr', message: 'overlaps network.subnetCidr (10.0.0.0/20)' }],
  },
  {
    it: 'refuses a public pod range',
    spec: gke({ network: { mode: 'new', podsCidr: '100.64.0.0/14' } }),
    expect: [
      {
        field: 'spec.network.podsCidr',
        message: 'the pod range must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)',
      },
    ],
  },
  {
    it: 'refuses zones of another region',
    spec: gke({ zones: ['europe-west4-a'] }),
    expect: [{ field: 'spec.zones.0', message: 'must be a zone of the region europe-west1' }],
  },
  {
    it: 'refuses workload logs without system components',
    spec: gke({ logging: ['WORKLOADS'] }),
    expect: [{ field: 'spec.logging', message: 'must include SYSTEM_COMPONENTS when any component is logged' }],
  },
  {
    it: 'refuses a team group that is not an email address',
    spec: gke({ access: { teamGroup: 'payments' } }),
    expect: [{ field: 'spec.access.teamGroup', message: 'must be an email address' }],
  },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('the eks spec schema', () => {
  for (const c of eksCases) it(c.it, () => assert.deepEqual(issues(eksSpecSchema, c.spec), c.expect));

  it('fills production defaults: a new VPC, one general pool, STANDARD support, deletion protection on, no retired add-on', () => {
    const spec = eksSpecSchema.parse(eks({}));
    assert.equal(spec.upgradePolicy, 'STANDARD');
    assert.deepEqual(spec.network, { mode: 'new', cidr: '10.0.0.0/16', natGateways: 'one-per-zone' });
    assert.deepEqual(spec.nodePools, [
      { name: 'general', minSize: 2, maxSize: 5, diskSizeGb: 100, labels: {}, taints: [], spot: false, instanceType: 'm6i.large' },
    ]);
    assert.equal(spec.deletionProtection, true);
    assert.deepEqual(spec.addons, {
      metricsServer: { enabled: true, version: '3.13.1' },
      certManager: { enabled: true, version: 'v1.21.1' },
      ingressNginx: { enabled: false, version: '4.13.0' },
      envoyGateway: { enabled: false, version: 'v1.9.0' },
    });
  });

  it('defaults the version to the newest in standard support at the instant it parses', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-05-01T00:00:00Z'));
    assert.equal(eksSpecSchema.parse(eks({})).version, '1.35');
    vi.setSystemTime(new Date('2026-11-30T00:00:00Z'));
    assert.equal(eksSpecSchema.parse(eks({})).version, '1.36');
    assert.equal(eksSpecSchema.parse(eks({ version: '1.34' })).version, '1.34');
  });

  it('parses its own output again unchanged (the stored spec is re-validated on every PATCH)', () => {
    const once = eksSpecSchema.parse(eks({ endpoint: { publicCidrs: ['203.0.113.0/24'] } }));
    assert.deepEqual(eksSpecSchema.parse(once), once);
  });
});

describe('the gke spec schema', () => {
  for (const c of gkeCases) it(c.it, () => assert.deepEqual(issues(gkeSpecSchema, c.spec), c.expect));

  it('fills production defaults: Regular channel, private nodes, a new VPC-native network, deletion protection on', () => {
    const spec = gkeSpecSchema.parse(gke({}));
    assert.equal(spec.releaseChannel, 'REGULAR');
    assert.deepEqual(spec.privateNodes, { enabled: true, masterCidr: '172.16.0.0/28' });
    assert.deepEqual(spec.network, { mode: 'new', subnetCidr: '10.0.0.0/20', podsCidr: '10.16.0.0/14', servicesCidr: '10.20.0.0/20' });
    assert.equal(spec.deletionProtection, true);
  });

  it('defaults the version to the newest in standard support at the instant it parses', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-06-08T00:00:00Z'));
    assert.equal(gkeSpecSchema.parse(gke({})).version, '1.35');
    vi.setSystemTime(new Date('2026-06-09T00:00:00Z'));
    assert.equal(gkeSpecSchema.parse(gke({})).version, '1.36');
  });

  it('parses its own output again unchanged', () => {
    const once = gkeSpecSchema.parse(gke({}));
    assert.deepEqual(gkeSpecSchema.parse(once), once);
  });
});
