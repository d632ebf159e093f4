/**
 * What a policy pack (Pulumi CrossGuard) found on a run. Only `up` and `preview` run packs: the
 * CLI's refresh and destroy take none.
 */

/**
 * How a finding bears on the run. `mandatory`: the run fails (a preview reports every one; an update
 * stops at the first resource with one, after applying what came before it). `advisory`: reported,
 * the run goes on. `remediate`: the policy changed the resource's inputs before it was applied (a
 * remediation that cannot fix a resource is reported as `mandatory`, one that only warns as `advisory`).
 */
export type PolicyEnforcement = 'mandatory' | 'advisory' | 'remediate';

/** One finding of one policy on one resource, or on the whole stack. */
export interface PolicyViolation {
  /** The policy pack's name, as its `PolicyPack` declares it (not its directory). */
  pack: string;
  /** The policy's name, unique within its pack. */
  policy: string;
  /**
   * URN of the resource found at fault. A stack policy that names no resource is reported on the
   * root stack's URN; null only when the engine names none at all.
   */
  resource: string | null;
  /**
   * For a violation, the policy's description and then what it reported, one per line, without
   * colours. For a remediation, the names of the input properties it changed (never their values,
   * which may be secrets).
   */
  message: string;
  enforcement: PolicyEnforcement;
}
