import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import type { PolicyEnforcement, PolicyViolation } from '../domain/policy-violation.js';

/**
 * The policy-pack findings of one run, from its engine events. The SDK's `EngineEvent` type lags the
 * CLI (3.259): it calls the advisory level `warning` and has no remediation event, so both are read
 * here as the CLI writes them. The analyze and remediate summary events (one per resource and pack,
 * naming the policies that passed and failed) add nothing a finding does not say, and are skipped.
 */
export class PolicyFindings {
  readonly #found = new Map<string, PolicyViolation>();

  observe(event: EngineEvent): void {
    const finding = violationOf(event) ?? remediationOf(event);
    // The same finding may arrive twice (a policy that reports it twice, a collector that sees a
    // preview and then the update): it counts once.
    if (finding) this.#found.set(JSON.stringify(finding), finding);
  }

  /** Every finding, in the order first seen. */
  all(): PolicyViolation[] {
    return [...this.#found.values()];
  }

  /** The findings that fail the run. */
  mandatory(): PolicyViolation[] {
    return this.#of('mandatory');
  }

  /** The findings reported for information only. */
  advisory(): PolicyViolation[] {
    return this.#of('advisory');
  }

  /** The resources a policy changed before they were applied. */
  remediated(): PolicyViolation[] {
    return this.#of('remediate');
  }

  #of(enforcement: PolicyEnforcement): PolicyViolation[] {
    return this.all().filter((f) => f.enforcement === enforcement);
  }
}

/** The CLI's `policyRemediationEvent`, which the SDK's `EngineEvent` type does not declare. */
interface RemediationEvent {
  resourceUrn?: string;
  policyName: string;
  policyPackName: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

// ANSI escapes and the CLI's colour markup (`<{%reset%}>`), present when colours are not `never`.
const COLOURS = /\u001b\[[0-9;?]*[ -/]*[@-~]|<\{%[a-z0-9 -]*%\}>/g;

function violationOf(event: EngineEvent): PolicyViolation | null {
  const e = event.policyEvent;
  if (!e) return null;
  return {
    pack: e.policyPackName,
    policy: e.policyName,
    resource: e.resourceUrn || null,
    message: e.message.replace(COLOURS, '').trim(),
    // The engine reports only these two on a violation (it turns a `remediate` one into `mandatory`);
    // `warning` is the SDK type's older name for `advisory`.
    enforcement: (e.enforcementLevel as string) === 'mandatory' ? 'mandatory' : 'advisory',
  };
}

function remediationOf(event: EngineEvent): PolicyViolation | null {
  const e = (event as { policyRemediationEvent?: RemediationEvent }).policyRemediationEvent;
  if (!e) return null;
  const before = e.before ?? {};
  const after = e.after ?? {};
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .sort();
  return {
    pack: e.policyPackName,
    policy: e.policyName,
    resource: e.resourceUrn || null,
    message: changed.length ? `changed ${changed.join(', ')}` : 'changed nothing',
    enforcement: 'remediate',
  };
}
