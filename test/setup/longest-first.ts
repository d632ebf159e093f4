/**
 * Starts the files that take longest first, so that short ones fill the gaps at the end instead of a
 * long one running alone there. vitest orders by the durations of the last run it cached, and on a
 * clean clone (CI) it has none: it falls back to the largest files, and the longest here are not the
 * largest. Listed longest first, with their times in a clean-clone run (every file of 5 s or more, which
 * the rest, a few seconds each, fill in around); a file not listed keeps vitest's order after them.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST = [
  'test/api/core-promise.pulumi.test.ts', // 176 s
  'test/api/fleet-sweep.pulumi.test.ts', // 127 s
  'test/api/rollouts.pulumi.test.ts', // 120 s
  'test/api/openapi-fuzz.redis.test.ts', // 97 s
  'test/api/approvals.pulumi.test.ts', // 76 s
  'test/api/resilience.pulumi.test.ts', // 67 s
  'test/api/topology.pulumi.test.ts', // 63 s
  'test/api/shutdown.pulumi.test.ts', // 42 s
  'test/engine/child-runner.pulumi.test.ts', // 38 s
  'test/api/scheduling.pulumi.test.ts', // 38 s
  'test/api/drift.pulumi.test.ts', // 37 s
  'test/api/expiry.pulumi.test.ts', // 34 s
  'test/api/contract.pulumi.test.ts', // 33 s
  'test/api/maintenance.pulumi.test.ts', // 31 s
  'test/deploy/release-bundle.pulumi.test.ts', // 26 s
  'test/engine/automation-engine.pulumi.test.ts', // 26 s
  'test/api/lifecycle.pulumi.test.ts', // 24 s
  'test/api/expiry-watch.pulumi.test.ts', // 24 s
  'test/api/kubeconfig.pulumi.test.ts', // 22 s
  'test/api/versions.pulumi.test.ts', // 19 s
  'test/api/store-owner.redis.test.ts', // 18 s
  'test/api/tracing.pulumi.test.ts', // 17 s
  'test/api/outbox.pulumi.test.ts', // 17 s
  'test/api/engine-secrets.pulumi.test.ts', // 16 s
  'test/api/metrics.pulumi.test.ts', // 15 s
  'test/engine/policy-pack.pulumi.test.ts', // 14 s
  'test/api/webhooks.pulumi.test.ts', // 13 s
  'test/api/cloud-blueprints.pulumi.test.ts', // 12 s
  'test/api/streams.redis.test.ts', // 11 s
  'test/store/record-store.db.test.ts', // 10 s
  'test/api/sealed-specs.pulumi.test.ts', // 9 s
  'test/unit/process-tree.test.ts', // 9 s
  'test/api/policy-packs.pulumi.test.ts', // 8 s
  'test/api/one-clock.pulumi.test.ts', // 7 s
  'test/store/store-lock.db.test.ts', // 7 s
  'test/store/token-store.db.test.ts', // 5 s
  'test/programs/gke.test.ts', // 5 s
  'test/api/tokens.redis.test.ts', // 5 s
  'test/api/hardening.redis.test.ts', // 5 s
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONGEST.findIndex((f) => spec.moduleId.endsWith(f));
      return i === -1 ? LONGEST.length : i;
    };
    // Stable: vitest's own order holds among files of one rank.
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({ spec }) => spec);
  }
}
