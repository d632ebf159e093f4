/**
 * Spec pieces both built-in blueprints share: tags, the control-plane endpoint, node pools,
 * the team's tenancy (namespaces, quota, defaults), add-ons and deletion protection.
 * Only zod and pure helpers here: the API process imports this to validate specs.
 */
import { z } from 'zod';
import { ADDON_CATALOG, catalogFor, type CatalogEntry, type ProviderKind } from './addon-catalog.js';
import { cidrProblem } from './cidr.js';
import { minorOf, NODE_SKEW } from './versions.js';

/** Tag keys clusterd sets itself on every resource; a spec may not set them. */
export const RESERVED_TAGS = ['clusterd-cluster', 'clusterd-team'] as const;

/** Node label clusterd puts on every node: the node pool's name, stable across providers. */
export const POOL_LABEL = 'clusterd.io/pool';

/** A Kubernetes minor version from `versions`. */
export function versionSchema<const V extends readonly [string, ...string[]]>(versions: V) {
  return z.enum(versions, `must be a supported Kubernetes minor version: one of ${versions.join(', ')}`);
}

/** An IPv4 network block in CIDR form whose host bits are zero. */
export const cidrSchema = z.string().superRefine((value, ctx) => {
  const problem = cidrProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Cloud tags (AWS) or labels (GCP, sanitised) applied to every resource that takes them. */
export const tagsSchema = z
  .record(
    z.string().min(1, 'tag keys must not be empty').max(63, 'tag keys must be at most 63 characters'),
    z.string().max(63, 'tag values must be at most 63 characters'),
  )
  .superRefine((tags, ctx) => {
    for (const key of Object.keys(tags)) {
      if ((RESERVED_TAGS as readonly string[]).includes(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'is set by clusterd itself' });
      else if (/^aws:/i.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'must not start with aws: (reserved by AWS)' });
    }
    if (Object.keys(tags).length > 40) ctx.addIssue({ code: 'custom', message: 'must have at most 40 tags' });
  })
  .describe(
    'Tags (AWS) or labels (GCP) put on every cloud resource that takes them, besides clusterd-cluster and clusterd-team. Keys and values up to 63 characters; GCP labels are lowercased and other characters become _.',
  );

/** Who may reach the Kubernetes API endpoint. */
export const endpointSchema = z
  .strictObject({
    access: z
      .enum(['public', 'private', 'public-and-private'], 'must be one of public, private, public-and-private')
      .default('public-and-private')
      .describe(
        'public: reachable from the allowed CIDRs only; private: only from inside the network (clusterd workers must be there too, to install add-ons); public-and-private: both, nodes use the private one.',
      ),
    publicCidrs: z
      .array(cidrSchema)
      .min(1, 'must have at least 1 CIDR block (leave the field out to allow any address)')
      .max(40, 'must have at most 40 CIDR blocks')
      .optional()
      .describe(
        'CIDR blocks allowed to reach the public endpoint. Default: any address (0.0.0.0/0); must be left out when access is private.',
      ),
  })
  .superRefine((endpoint, ctx) => {
    if (endpoint.access === 'private' && endpoint.publicCidrs) {
      ctx.addIssue({ code: 'custom', path: ['publicCidrs'], message: 'must be left out when access is private' });
    }
  })
  .prefault({})
  .describe('Control-plane endpoint access.');

export type EndpointSpec = z.infer<typeof endpointSchema>;

/** The public CIDRs in effect for an endpoint spec (empty when the endpoint is private). */
export function publicCidrsOf(endpoint: EndpointSpec): string[] {
  return endpoint.access === 'private' ? [] : (endpoint.publicCidrs ?? ['0.0.0.0/0']);
}

const labelKey = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const nodeLabelsSchema = z
  .record(
    z.string().regex(labelKey, 'node label keys must be Kubernetes label keys ([prefix/]name, name up to 63 characters)'),
    z
      .string()
      .regex(
        labelValue,
        'node label values must be at most 63 characters of A-Z, a-z, 0-9, -, _ and ., starting and ending with a letter or digit',
      ),
  )
  .superRefine((labels, ctx) => {
    for (const key of Object.keys(labels)) {
      if (/(^|\.)(kubernetes\.io|k8s\.io)\//.test(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'must not use the reserved kubernetes.io/ or k8s.io/ prefixes' });
      else if (key === POOL_LABEL) ctx.addIssue({ code: 'custom', path: [key], message: 'is set by clusterd itself' });
    }
  });

const taintSchema = z.strictObject({
  key: z.string().regex(labelKey, 'must be a Kubernetes label key ([prefix/]name, name up to 63 characters)').describe('Taint key.'),
  value: z
    .string()
    .regex(labelValue, 'must be at most 63 characters of A-Z, a-z, 0-9, -, _ and .')
    .optional()
    .describe('Taint value; may be left out.'),
  effect: z
    .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], 'must be one of NoSchedule, PreferNoSchedule, NoExecute')
    .describe('Taint effect.'),
});

export type TaintSpec = z.infer<typeof taintSchema>;

/**
 * The fields of a node pool both providers share; each blueprint adds its machine type field.
 * `desiredSize` defaults to `minSize`.
 */
export function nodePoolFields<const V extends readonly [string, ...string[]]>(versions: V) {
  return {
    name: z
      .string()
      .regex(/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be 1-32 characters of a-z, 0-9 and -, start with a letter and not end with -')
      .describe('Pool name, unique in the cluster; nodes carry it as the clusterd.io/pool label. A pool with a new name is a new pool.'),
    minSize: z
      .number()
      .int('must be an integer')
      .min(0, 'must be at least 0')
      .max(1000, 'must be at most 1000')
      .default(2)
      .describe('Fewest nodes. Default 2.'),
    maxSize: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000')
      .default(5)
      .describe('Most nodes. Default 5.'),
    desiredSize: z
      .number()
      .int('must be an integer')
      .min(0, 'must be at least 0')
      .max(1000, 'must be at most 1000')
      .optional()
      .describe(
        'Nodes to run now, between minSize and maxSize. Default: minSize. On GKE this is the initial size; the cluster autoscaler owns it afterwards.',
      ),
    diskSizeGb: z
      .number()
      .int('must be an integer')
      .min(20, 'must be at least 20')
      .max(16384, 'must be at most 16384')
      .default(100)
      .describe('Root disk per node in GiB (encrypted; gp3 on EKS, pd-balanced on GKE). Default 100.'),
    labels: nodeLabelsSchema.default({}).describe('Kubernetes labels on every node of the pool.'),
    taints: z
      .array(taintSchema)
      .max(50, 'must have at most 50 taints')
      .default([])
      .describe('Kubernetes taints on every node of the pool.'),
    spot: z
      .boolean()
      .default(false)
      .describe('Spot capacity (EKS SPOT, GKE Spot VMs): cheaper, may be reclaimed at any time. Default false.'),
    version: versionSchema(versions)
      .optional()
      .describe('Kubernetes minor version of the pool. Default: the control plane version, upgraded right after the control plane.'),
  };
}

/** Refinements of the node pool list against the cluster's version. */
export function checkNodePools(
  spec: {
    version: string;
    nodePools: Array<{ name: string; minSize: number; maxSize: number; desiredSize?: number; spot: boolean; version?: string }>;
  },
  kind: ProviderKind,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  // CoreDNS, the CSI controllers and the catalog add-ons need somewhere stable to run.
  if (spec.nodePools.length && !spec.nodePools.some((p) => p.minSize >= 1 && !p.spot)) {
    ctx.addIssue({
      code: 'custom',
      path: ['nodePools'],
      message: 'must have a pool that is not spot with minSize of at least 1, to run the system add-ons',
    });
  }
  spec.nodePools.forEach((pool, i) => {
    if (seen.has(pool.name))
      ctx.addIssue({
        code: 'custom',
        path: ['nodePools', i, 'name'],
        message: `duplicates the name of another node pool ("${pool.name}")`,
      });
    seen.add(pool.name);
    if (pool.minSize > pool.maxSize)
      ctx.addIssue({
        code: 'custom',
        path: ['nodePools', i, 'minSize'],
        message: `must not exceed maxSize (${pool.minSize} > ${pool.maxSize})`,
      });
    if (pool.desiredSize !== undefined && (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodePools', i, 'desiredSize'],
        message: `must be between minSize and maxSize (${pool.minSize}..${pool.maxSize}), got ${pool.desiredSize}`,
      });
    }
    const issue = poolVersionProblem(spec.version, pool.version, kind);
    if (issue) ctx.addIssue({ code: 'custom', path: ['nodePools', i, 'version'], message: issue });
  });
}

/** Why a pool version does not fit the control plane version, or null. */
export function poolVersionProblem(controlPlane: string, pool: string | undefined, kind: ProviderKind): string | null {
  if (pool === undefined) return null;
  const lag = minorOf(controlPlane) - minorOf(pool);
  if (lag < 0) return `is ${pool}, newer than the control plane (${controlPlane}): a node pool is never newer than its control plane`;
  if (lag > NODE_SKEW[kind]) {
    return `is ${pool}, more than ${NODE_SKEW[kind]} minor versions behind the control plane (${controlPlane}): ${kind.toUpperCase()} supports a skew of at most ${NODE_SKEW[kind]}`;
  }
  return null;
}

const quantity = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const quantitySchema = z.string().regex(quantity, 'must be a Kubernetes quantity like 500m, 4, 512Mi or 8Gi');
// The system namespaces and those of the catalog add-ons.
const RESERVED_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'cert-manager',
  'ingress-nginx',
  'envoy-gateway-system',
];

/** The team's corner of the cluster: namespaces, the quota on each, and default container resources. */
export const tenancySchema = z
  .strictObject({
    namespaces: z
      .array(
        z
          .string()
          .regex(
            /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
            'must be a DNS label: 1-63 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
          )
          .refine((ns) => !RESERVED_NAMESPACES.includes(ns), { message: `must not be one of ${RESERVED_NAMESPACES.join(', ')}` }),
      )
      .max(10, 'must have at most 10 namespaces')
      .refine((list) => new Set(list).size === list.length, 'namespace names must be unique')
      .default([])
      .describe("The team's namespaces. Default (empty): one namespace named after the team."),
    quota: z
      .strictObject({
        cpu: quantitySchema.default('32').describe('Total CPU requests per namespace. Default 32.'),
        memory: quantitySchema.default('128Gi').describe('Total memory requests per namespace. Default 128Gi.'),
        pods: z
          .number()
          .int('must be an integer')
          .min(1, 'must be at least 1')
          .max(10000, 'must be at most 10000')
          .default(500)
          .describe('Most pods per namespace. Default 500.'),
      })
      .prefault({})
      .describe('ResourceQuota on each team namespace.'),
    containerDefaults: z
      .strictObject({
        cpuRequest: quantitySchema.default('100m').describe('CPU request of a container that sets none. Default 100m.'),
        memoryRequest: quantitySchema.default('128Mi').describe('Memory request of a container that sets none. Default 128Mi.'),
        memoryLimit: quantitySchema
          .default('512Mi')
          .describe('Memory limit of a container that sets none. Default 512Mi. No CPU limit is imposed: it only throttles.'),
      })
      .prefault({})
      .describe('LimitRange defaults in each team namespace.'),
  })
  .prefault({})
  .describe(
    "The team's namespaces, each with RBAC for the team's group, a ResourceQuota, a LimitRange and a default-deny NetworkPolicy (DNS allowed).",
  );

export type TenancySpec = z.infer<typeof tenancySchema>;

/** The `addons` object of a blueprint: one entry per catalog chart it offers. */
export function addonsSchema(kind: ProviderKind) {
  const shape = Object.fromEntries(
    catalogFor(kind).map((entry) => [
      entry.key,
      z
        .strictObject({
          enabled: z
            .boolean()
            .default(entry.enabledByDefault)
            .describe(`Install ${entry.chart}. Default ${entry.enabledByDefault}.${retiredNote(entry)}`),
          version: z
            .enum(entry.versions, `must be a catalog version of ${entry.chart}: one of ${entry.versions.join(', ')}`)
            .default(entry.versions[entry.versions.length - 1]!)
            .describe(`Chart version of ${entry.chart} (${entry.repo}). Default ${entry.versions[entry.versions.length - 1]}.`),
        })
        .prefault({})
        .describe(`${entry.chart} from ${entry.repo}, in namespace ${entry.namespace}.`),
    ]),
  );
  return z
    .strictObject(shape)
    .prefault({})
    .describe('Helm add-ons from the versioned catalog; patch one by moving to a newer catalog version.');
}

function retiredNote(entry: CatalogEntry): string {
  if (!entry.retired) return '';
  const instead = entry.retired.replacedBy ? `; use ${entry.retired.replacedBy} instead` : '';
  return ` Retired since ${entry.retired.since}: a new cluster may not enable it, a cluster that has it may keep or remove it${instead}.`;
}

/** The parsed `addons` object: chart key to its choice. */
export type AddonsSpec = Partial<Record<keyof typeof ADDON_CATALOG, { enabled: boolean; version: string }>>;

/** Deletion protection: on by default. */
export const deletionProtectionSchema = z
  .boolean()
  .default(true)
  .describe(
    'Refuses destroys (and, in the cloud, deletes of the cluster) while true. Turn it off with a PATCH before destroying. Default true.',
  );

/** Merges the spec's tags with clusterd's own. */
export function clusterTags(tags: Record<string, string>, context: { clusterName: string; team: string }): Record<string, string> {
  return { ...tags, 'clusterd-cluster': context.clusterName, 'clusterd-team': context.team };
}

/**
 * GCP label form of tags: lowercase, characters other than a-z, 0-9, _ and - become _, keys start
 * with a letter (else `k_` is put in front), both cut to 63 characters.
 */
export function gcpLabels(tags: Record<string, string>): Record<string, string> {
  const clean = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 63);
  return Object.fromEntries(
    Object.entries(tags).map(([k, v]) => {
      const key = clean(k);
      return [/^[a-z]/.test(key) ? key : `k_${key}`.slice(0, 63), clean(v)];
    }),
  );
}

/** The team's namespaces in effect: the spec's, or one named after the team. */
export function teamNamespaces(tenancy: TenancySpec, team: string): string[] {
  if (tenancy.namespaces.length) return tenancy.namespaces;
  return [team.replace(/-+$/, '').slice(0, 63) || 'team'];
}
