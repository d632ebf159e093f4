/** The harness as a vitest fixture, apart from harness.ts, which the benchmarks load outside vitest. */
import { test } from 'vitest';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

/**
 * A vitest `test` (name it `it`) with a `harness` fixture: one service for the whole file, started by
 * the first test or hook that asks for it and stopped after the file's last test, even when a test or
 * a hook failed. Call it at the top level of the file (vitest defines file fixtures nowhere else); a
 * hook that needs the harness comes from the same API: `it.beforeAll(({ harness }) => ...)`.
 */
export function harnessTest(options: HarnessOptions = {}) {
  return test.extend<{ harness: Harness }>({
    harness: [
      // vitest reads a fixture's dependencies from its first parameter's pattern: none here.
      // eslint-disable-next-line no-empty-pattern
      async ({}, use) => {
        const h = await startHarness(options);
        try {
          await use(h);
        } finally {
          await h.stop();
        }
      },
      { scope: 'file' },
    ],
  });
}
