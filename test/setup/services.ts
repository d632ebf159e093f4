/**
 * vitest's global setup: makes the real services the suite talks to answer (Redis, PostgreSQL,
 * the pinned Pulumi CLI, the schemathesis fuzzer), each through the same script the service's own
 * start uses, and hands their URLs and paths to every test worker; builds the service to dist/.
 */
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { makePgliteTemplate } from '../support/pglite-template.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function ensure(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', [path.join(ROOT, 'scripts', script)], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: {
      redisUrl: string;
      databaseUrl: string;
      pulumiDir: string;
      schemathesis: string;
      pgliteTemplate: string;
      testBlueprints: string;
    };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Set by npm test once for all projects; a run of vitest alone (one file, one name) makes them here.
  const services = {
    redisUrl: process.env.TEST_REDIS_URL || ensure('ensure-redis.sh', { REDIS_PORT: process.env.TEST_REDIS_PORT ?? '6381' }),
    databaseUrl: process.env.TEST_DATABASE_URL || ensure('ensure-postgres.sh'),
    pulumiDir: process.env.CLUSTERD_PULUMI_DIR || ensure('ensure-pulumi.sh'),
    schemathesis: process.env.CLUSTERD_SCHEMATHESIS || ensure('ensure-schemathesis.sh'),
  };
  Object.assign(process.env, {
    TEST_REDIS_URL: services.redisUrl,
    TEST_DATABASE_URL: services.databaseUrl,
    CLUSTERD_PULUMI_DIR: services.pulumiDir,
    CLUSTERD_SCHEMATHESIS: services.schemathesis,
  });
  // Service processes the tests start run the compiled service, as npm start does.
  if (!process.env.CLUSTERD_BUILT) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    process.env.CLUSTERD_BUILT = '1';
  }
  // The test blueprints compiled, for the job children: each would otherwise start a TypeScript loader
  // (a tenth of its start-up) to load them. child-runner's tests still load them through tsx.
  process.env.CLUSTERD_TEST_BLUEPRINTS ??= await compileTestBlueprints();
  // Every project runs this setup in this process: the first makes the template and removes it at the end.
  let remove = (): Promise<void> => Promise.resolve();
  if (!process.env.CLUSTERD_TEST_PGLITE_TEMPLATE) {
    const template = await makePgliteTemplate();
    process.env.CLUSTERD_TEST_PGLITE_TEMPLATE = template.dir;
    remove = template.remove;
  }
  project.provide('services', {
    ...services,
    pgliteTemplate: process.env.CLUSTERD_TEST_PGLITE_TEMPLATE,
    testBlueprints: process.env.CLUSTERD_TEST_BLUEPRINTS,
  });
  return remove;
}

/** Compiles test/blueprints/*.ts where their imports resolve (under node_modules); returns the directory. */
async function compileTestBlueprints(): Promise<string> {
  const outdir = path.join(ROOT, 'node_modules/.cache/clusterd/test-blueprints');
  await build({
    entryPoints: ['local-files', 'outputs-only'].map((name) => path.join(ROOT, 'test/blueprints', `${name}.ts`)),
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    logLevel: 'warning',
  });
  return outdir;
}
