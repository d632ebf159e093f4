/**
 * What the benchmarks share: small statistics, the machine line, and a cluster's stack opened the
 * way the engine opens it, for runs straight through the Automation API.
 */
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { LocalWorkspace, type Stack } from '@pulumi/pulumi/automation/index.js';
import localFiles, { type LocalFilesSpec } from '../test/blueprints/local-files.js';
import { buildPulumiEnv } from '../src/engine/pulumi-env.js';
import type { Harness } from '../test/support/harness.js';

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
export const ms = (n: number) => `${n.toFixed(1)} ms`;
export const store = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite';

/** The first line of every benchmark's output. */
export const machineLine = (name: string) => `clusterd ${name} on ${process.version}, ${cpus().length} cores, records in ${store}`;

// As in the root Pulumi.yaml, which the engine reads.
const PROJECT = 'clusterd';

/**
 * Selects a cluster's existing stack in this process with what the engine would use for it: the
 * local-files program for `spec`, the work directory `<dataDir>/workspaces/<name>`, and the same CLI
 * environment (backend, PULUMI_HOME, passphrase, NODE_PATH, PATH).
 */
/** The passphrase the harness gives the service, in a file of the bench's own, as the service gives it to the CLI. */
async function passphraseFile(h: Harness): Promise<string> {
  const file = path.join(h.dataDir, 'bench-passphrase');
  await writeFile(file, h.env.PULUMI_CONFIG_PASSPHRASE!, { mode: 0o600 });
  return file;
}

export async function directStack(h: Harness, name: string, spec: LocalFilesSpec, team = 'bench'): Promise<Stack> {
  const blueprint = localFiles({ dataDir: h.dataDir });
  const env = buildPulumiEnv({
    dataDir: h.dataDir,
    backendUrl: `file://${path.join(h.dataDir, 'state')}`,
    secretsProvider: 'passphrase',
    passphraseFile: await passphraseFile(h),
  });
  return LocalWorkspace.selectStack(
    { stackName: name, projectName: PROJECT, program: blueprint.program(spec, { clusterName: name, team, labels: {} }) },
    {
      workDir: path.join(h.dataDir, 'workspaces', name),
      envVars: env,
      secretsProvider: 'passphrase',
      projectSettings: { name: PROJECT, runtime: 'nodejs' },
    },
  );
}
