import type { z } from 'zod';
import type { RolloutStep } from '../domain/rollout.js';
import type { VersionCalendarEntry } from '../domain/version-support.js';
import type { FieldIssue } from '../errors.js';

/** What a program knows about the cluster besides its spec. */
export interface BlueprintContext {
  clusterName: string;
  team: string;
  labels: Record<string, string>;
}

/** An inline Pulumi program: declares resources, returns the stack outputs. */
export type InlineProgram = () => Promise<Record<string, unknown> | void>;

/**
 * A blueprint turns a validated spec into an inline Pulumi program.
 * Programs do no I/O of their own and read no environment variables: everything comes from the spec and context.
 */
export interface Blueprint<Spec extends Record<string, unknown> = Record<string, unknown>> {
  /** Unique name used in requests (`"blueprint": "eks"`): lowercase letters, digits and -. */
  name: string;
  /** One line for humans, shown in GET /v1/blueprints. */
  description: string;
  /** Validates `spec` on create, and the merged spec on update; must be a zod object schema. */
  specSchema: z.ZodType<Spec>;
  /**
   * Rules about a change from the current desired spec to the next one (upgrades, replacements); empty when allowed.
   * A change that would replace a node pool or the cluster is refused unless `options.allowReplace` is set.
   */
  validateChange?(from: Spec, to: Spec, options: ChangeOptions): FieldIssue[];
  /**
   * The next step of an upgrade of a cluster whose desired spec is `spec` to the Kubernetes minor
   * `version`, by this blueprint's own rules (control plane first, then node pools, one minor version
   * at a time): a merge patch of the spec that one operation applies. `step` is null once the spec is
   * there; `issues` when the blueprint refuses the upgrade (a downgrade, an unknown version). A fleet
   * rollout asks again after each step; without this method, a blueprint takes no upgrade rollouts.
   */
  nextUpgradeStep?(spec: Spec, version: string): { step: RolloutStep | null } | { issues: FieldIssue[] };
  /**
   * Rules only a new cluster must follow (a retired add-on may not be enabled); empty when allowed.
   * Existing clusters keep what they have: a change is checked by `validateChange`.
   */
  validateCreate?(spec: Spec): FieldIssue[];
  /**
   * What a validated spec declares, in terms every blueprint shares: team policies and quotas read
   * these, never a blueprint's own spec layout. Without it, only the policy rules that need no fact
   * (allowed blueprints, labels, expiry, cluster count) apply to the blueprint's clusters.
   */
  facts?(spec: Spec): ClusterFacts;
  /** Software the spec installs whose project is retired (an add-on no longer maintained), for the fleet view; empty when none. */
  retiredParts?(spec: Spec): RetiredPart[];
  /** The Kubernetes version lifecycle of the blueprint's clusters; without it, versions have no support status. */
  versions?: BlueprintVersions<Spec>;
  /** Rules for a destroy (e.g. deletion protection); empty when allowed. */
  validateDestroy?(spec: Spec): FieldIssue[];
  /**
   * Properties a provider reports as changed on every refresh (known noise): a drift check ignores them.
   * Matched by resource type token (`aws:eks/cluster:Cluster`) and top-level property name.
   */
  driftNoise?: DriftNoiseRule[];
  /** Builds the inline program for one run. */
  program(spec: Spec, context: BlueprintContext): InlineProgram;
}

/**
 * The provider's support calendar of the Kubernetes minor versions a blueprint creates, read by the
 * service at run time (by the database's clock): a new cluster gets the newest version in standard
 * support by default and may not start past it (unless the provider has extended support and the
 * request asks for it); every cluster shows its version's support status.
 */
export interface BlueprintVersions<Spec> {
  /** One row for every minor version the spec schema accepts, old ones included (their clusters must still parse). */
  calendar: readonly VersionCalendarEntry[];
  /** The spec's top-level field holding the control plane's minor version (`"version"`). */
  field: string;
  /** Whether a new cluster may be created on a version at all (EKS: only those whose add-on pins are verified). @defaultValue every version */
  offered?(version: string): boolean;
  /** How a spec keeps a cluster on a version past its standard support; absent when the provider creates none there. */
  extendedSupport?: {
    /** Spec values that ask for it, filled in where the request's spec leaves them out (EKS: `{ upgradePolicy: 'EXTENDED' }`). */
    defaults: Record<string, unknown>;
    /** The spec field that says it, named in errors (`"upgradePolicy"`). */
    field: string;
    /** Whether the spec asks for it. */
    isOn(spec: Spec): boolean;
  };
}

/** What a cluster's spec declares, by a blueprint's {@link Blueprint.facts}. */
export interface ClusterFacts {
  /** The cloud region or location; null where there is none (a test blueprint). */
  region: string | null;
  /** The Kubernetes minor version of the control plane. */
  version: string | null;
  /** Whether the API endpoint is reachable from the internet; `publicCidrs` limits from where (null: anywhere). */
  endpoint: { public: boolean; publicCidrs: string[] | null } | null;
  nodePools: NodePoolFacts[];
}

export interface NodePoolFacts {
  name: string;
  /** Instance or machine type; null where there is none. */
  instanceType: string | null;
  minSize: number;
  maxSize: number;
  desiredSize: number | null;
}

/** A piece of software a cluster runs that its project no longer maintains. */
export interface RetiredPart {
  /** Where it is in the spec (`addons.ingressNginx`). */
  field: string;
  /** What it is (`ingress-nginx`). */
  name: string;
  /** Retired since, `YYYY-MM-DD`. */
  since: string;
  reason: string;
  /** What to move to, in the spec's terms (`addons.envoyGateway`). */
  replacedBy?: string;
}

/** What the caller of a change said it accepts. */
export interface ChangeOptions {
  /** The caller accepts that the change replaces node pools or the cluster (`"allowReplace": true` on PATCH). */
  allowReplace: boolean;
}

/** Properties of one resource type that drift checks ignore. */
export interface DriftNoiseRule {
  /** Resource type token, e.g. `gcp:container/cluster:Cluster`. */
  type: string;
  /** Top-level property names. */
  properties: string[];
}

/** What a blueprint module receives from the service when it is loaded. */
export interface BlueprintModuleContext {
  /** The service's data directory; a blueprint may keep local files under it (the test blueprint does). */
  dataDir: string;
}

/**
 * The shape of a blueprint module named in CLUSTERD_BLUEPRINT_MODULES: its default export
 * is a Blueprint, an array of them, or a function of the module context returning either.
 */
export type BlueprintModuleExport =
  Blueprint<any> | Blueprint<any>[] | ((ctx: BlueprintModuleContext) => Blueprint<any> | Blueprint<any>[]);
