/**
 * Starts the files that take longest first, so that short ones fill the gaps at the end instead of a
 * long one running alone there. vitest orders by the durations of the last run it cached, and on a
 * clean clone (CI) it has none: it falls back to the largest files, and the longest here are not the
 * largest. Listed by their share of a clean-clone run; a file not listed keeps vitest's order after them.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST = [
  'test/api/core-promise.pulumi.test.ts',
  'test/api/fleet-sweep.pulumi.test.ts',
  'test/api/rollouts.pulumi.test.ts',
  'test/api/openapi-fuzz.redis.test.ts',
  'test/api/drift.pulumi.test.ts',
  'test/api/resilience.pulumi.test.ts',
  'test/api/maintenance.pulumi.test.ts',
  'test/engine/automation-engine.pulumi.test.ts',
  'test/engine/child-runner.pulumi.test.ts',
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
