/**
 * The built-in blueprints `eks` and `gke`. The API process imports this module to validate specs,
 * so nothing here loads a provider SDK: `program()` imports its component when the program runs
 * (in the worker's job process), never before.
 */
import type { Blueprint, BlueprintContext, BlueprintVersions, DriftNoiseRule, InlineProgram } from '../src/blueprints/blueprint.js';
import { addonsOnCreate, retiredAddons } from './addon-rules.js';
import { eksSpecSchema, type EksSpec } from './eks-spec.js';
import { eksFacts, gkeFacts } from './facts.js';
import { gkeSpecSchema, type GkeSpec } from './gke-spec.js';
import { nextUpgradeStep, validateChange, validateDestroy, type ReplacementRules } from './upgrade-rules.js';
import { EKS_CALENDAR, GKE_CALENDAR } from './version-calendars.js';
import { verifiedAddonPins } from './versions.js';

export { eksSpecSchema, type EksSpec } from './eks-spec.js';
export { gkeSpecSchema, type GkeSpec } from './gke-spec.js';
export { ADDON_CATALOG } from './addon-catalog.js';
export { defaultEksVersion, defaultGkeVersion } from './default-version.js';
export { EKS_VERSIONS, GKE_VERSIONS, EKS_ADDON_PINS, EKS_ADDON_VERSIONS, NODE_SKEW, verifiedAddonPins } from './versions.js';

/** Names of the built-in blueprints. */
export type BuiltInBlueprintName = 'eks' | 'gke';

/** The stack outputs every built-in program returns; `kubeconfig` is a secret. */
export const OUTPUT_NAMES = ['endpoint', 'certificateAuthority', 'clusterId', 'oidcIssuer', 'nodePools', 'kubeconfig'] as const;

/**
 * What replaces the EKS cluster or one of its node groups (ForceNew in the AWS provider): the
 * region and the network (VPC and subnets) for the cluster; instance type and capacity type for
 * an `aws:eks/nodeGroup:NodeGroup`. Disk size is not here: it lives in the launch template, whose
 * new version rolls the nodes without replacing the group.
 */
export const EKS_REPLACEMENTS: ReplacementRules<EksSpec> = {
  cluster: [
    { path: 'region', get: (s) => s.region },
    { path: 'network', get: (s) => s.network },
  ],
  pool: [
    { path: 'instanceType', get: (p) => p.instanceType },
    { path: 'spot', get: (p) => p.spot },
  ],
};

/**
 * What replaces the GKE cluster or one of its node pools (ForceNew in the Google provider):
 * project, location, network and subnetwork, private nodes and the control plane's /28 for the
 * cluster; Spot for a pool. Machine type and disk size change in place (GKE recreates the nodes by
 * a surge upgrade, the pool stays).
 */
export const GKE_REPLACEMENTS: ReplacementRules<GkeSpec> = {
  cluster: [
    { path: 'projectId', get: (s) => s.projectId },
    { path: 'region', get: (s) => s.region },
    { path: 'network', get: (s) => s.network },
    { path: 'privateNodes.enabled', get: (s) => s.privateNodes.enabled },
    { path: 'privateNodes.masterCidr', get: (s) => (s.privateNodes.enabled ? s.privateNodes.masterCidr : undefined) },
  ],
  pool: [{ path: 'spot', get: (p) => p.spot }],
};

/**
 * Properties the providers report as changed on refresh although nobody changed them; a drift
 * check ignores them. Kept short: each is noise by design of the service, not a real change.
 */
export const EKS_DRIFT_NOISE: DriftNoiseRule[] = [
  // AWS moves the control plane to new eks.N platform versions (patches) on its own.
  { type: 'aws:eks/cluster:Cluster', properties: ['platformVersion'] },
];

export const GKE_DRIFT_NOISE: DriftNoiseRule[] = [
  // GKE patches (and, on a channel, upgrades) the control plane itself; with the default pool removed,
  // the cluster also reports the separately managed pools and the first pool's node config as its own.
  { type: 'gcp:container/cluster:Cluster', properties: ['masterVersion', 'nodeVersion', 'nodePools', 'nodeConfig'] },
  // The cluster autoscaler moves nodeCount; auto-upgrades move version and recreate the instance groups.
  { type: 'gcp:container/nodePool:NodePool', properties: ['nodeCount', 'version', 'instanceGroupUrls', 'managedInstanceGroupUrls'] },
];

/**
 * The current desired spec as this release's schema reads it (new defaults filled in), so that a
 * spec stored by an older release compares field by field; as stored when it no longer parses.
 */
function current<S>(schema: { safeParse(value: unknown): { success: true; data: S } | { success: false } }, stored: S): S {
  const parsed = schema.safeParse(stored);
  return parsed.success ? parsed.data : stored;
}

/**
 * EKS versions: a new cluster starts only on a version whose add-on pins are verified; past
 * standard support only with the `EXTENDED` support type, which the service fills in when the
 * request allows extended support and the spec leaves `upgradePolicy` out.
 */
export const EKS_VERSION_LIFECYCLE: BlueprintVersions<EksSpec> = {
  calendar: EKS_CALENDAR,
  field: 'version',
  offered: verifiedAddonPins,
  extendedSupport: {
    defaults: { upgradePolicy: 'EXTENDED' },
    field: 'upgradePolicy',
    isOn: (spec) => spec.upgradePolicy === 'EXTENDED',
  },
};

/**
 * GKE versions, without extended support for new clusters (a decision): GKE offers it only on the
 * Extended release channel, and a cluster created on a version already past standard support
 * would have ten months of support at most. A cluster on the Extended channel keeps it.
 */
export const GKE_VERSION_LIFECYCLE: BlueprintVersions<GkeSpec> = { calendar: GKE_CALENDAR, field: 'version' };

/** The `eks` blueprint. */
export const eksBlueprint: Blueprint<EksSpec> = {
  name: 'eks',
  description: 'Amazon EKS cluster with managed node groups, access entries, IRSA, pinned EKS add-ons and the team baseline',
  specSchema: eksSpecSchema,
  validateCreate: (spec) => addonsOnCreate(spec.addons),
  facts: eksFacts,
  retiredParts: (spec) => retiredAddons(spec.addons),
  versions: EKS_VERSION_LIFECYCLE,
  validateChange: (from, to, options) => validateChange(current(eksSpecSchema, from), to, options, EKS_REPLACEMENTS),
  nextUpgradeStep: (spec, version) => nextUpgradeStep(current(eksSpecSchema, spec), version),
  validateDestroy,
  driftNoise: EKS_DRIFT_NOISE,
  program: (spec, context) => programFor('eks', spec, context),
};

/** The `gke` blueprint. */
export const gkeBlueprint: Blueprint<GkeSpec> = {
  name: 'gke',
  description: 'Google GKE Standard cluster: VPC-native, private nodes, Workload Identity, separate node pools and the team baseline',
  specSchema: gkeSpecSchema,
  validateCreate: (spec) => addonsOnCreate(spec.addons),
  facts: gkeFacts,
  retiredParts: (spec) => retiredAddons(spec.addons),
  versions: GKE_VERSION_LIFECYCLE,
  validateChange: (from, to, options) => validateChange(current(gkeSpecSchema, from), to, options, GKE_REPLACEMENTS),
  nextUpgradeStep: (spec, version) => nextUpgradeStep(current(gkeSpecSchema, spec), version),
  validateDestroy,
  driftNoise: GKE_DRIFT_NOISE,
  program: (spec, context) => programFor('gke', spec, context),
};

/** Both built-in blueprints, for the service's registry. */
export const builtInBlueprints: Blueprint<any>[] = [eksBlueprint, gkeBlueprint];

/** The inline program of a built-in blueprint; the spec must have been parsed by that blueprint's schema. */
export function programFor(blueprint: 'eks', spec: EksSpec, context: BlueprintContext): InlineProgram;
export function programFor(blueprint: 'gke', spec: GkeSpec, context: BlueprintContext): InlineProgram;
export function programFor(blueprint: BuiltInBlueprintName, spec: EksSpec | GkeSpec, context: BlueprintContext): InlineProgram;
export function programFor(blueprint: BuiltInBlueprintName, spec: EksSpec | GkeSpec, context: BlueprintContext): InlineProgram {
  switch (blueprint) {
    case 'eks':
      return async () => {
        const { EksCluster } = await import('./eks.js');
        return outputsOf(new EksCluster(context.clusterName, { spec: spec as EksSpec, context }));
      };
    case 'gke':
      return async () => {
        const { GkeCluster } = await import('./gke.js');
        return outputsOf(new GkeCluster(context.clusterName, { spec: spec as GkeSpec, context }));
      };
    default: {
      const unknown: never = blueprint;
      throw new Error(`no built-in blueprint named ${JSON.stringify(unknown)}`);
    }
  }
}

/** The stack outputs of a cluster component, by {@link OUTPUT_NAMES}. */
function outputsOf(cluster: {
  endpoint: unknown;
  certificateAuthority: unknown;
  clusterId: unknown;
  oidcIssuer: unknown;
  nodePoolNames: string[];
  kubeconfig: unknown;
}): Record<(typeof OUTPUT_NAMES)[number], unknown> {
  return {
    endpoint: cluster.endpoint,
    certificateAuthority: cluster.certificateAuthority,
    clusterId: cluster.clusterId,
    oidcIssuer: cluster.oidcIssuer,
    nodePools: cluster.nodePoolNames,
    kubeconfig: cluster.kubeconfig,
  };
}
