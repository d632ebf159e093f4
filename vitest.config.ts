/**
 * One project per layer. unit: pure, no service. store: PGlite and a real PostgreSQL. redis: the
 * service over a real Redis (and PostgreSQL). engine: the real Pulumi CLI on a file:// backend.
 * The global setup provides the services; every layer runs in `npm test`.
 */
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { LongestFirst } from './test/setup/longest-first.js';

const MINUTE = 60_000;

function layer(name: string, include: string[], timeoutMs: number, exclude: string[] = [], isolate = true): TestProjectInlineConfiguration {
  return { extends: true, test: { name, include, exclude, testTimeout: timeoutMs, hookTimeout: timeoutMs, isolate } };
}

export default defineConfig({
  test: {
    globalSetup: ['test/setup/services.ts'],
    setupFiles: ['test/setup/env.ts'],
    // Test files spawn services, workers and CLIs of their own: one process per file.
    pool: 'forks',
    // One file more than there are cores: an engine file waits on sleeping resources, leases and polls for
    // about a third of its time (a clean run on 2 cores with 2 files at once kept the CPU 67 % busy), and a
    // third file fills that. Four at once on 2 cores break the bounds the tests put on leases and grace
    // periods (measured).
    maxWorkers: Number(process.env.CLUSTERD_TEST_WORKERS ?? availableParallelism() + 1),
    restoreMocks: true,
    sequence: { sequencer: LongestFirst },
    projects: [
      // Pure: one module graph per worker for all its files, not one per file (a third of the layer's CPU).
      layer('unit', ['test/**/*.test.ts'], MINUTE, ['test/**/*.{db,redis,pulumi}.test.ts'], false),
      layer('store', ['test/**/*.db.test.ts'], 2 * MINUTE),
      layer('redis', ['test/**/*.redis.test.ts'], 5 * MINUTE),
      layer('engine', ['test/**/*.pulumi.test.ts'], 10 * MINUTE),
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**', 'server/**', 'queue/**', 'programs/**'],
      reporter: ['text-summary', 'json-summary'],
    },
  },
});
