import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LocalWorkspace } from '@pulumi/pulumi/automation/index.js';
import { commandFromPath } from './automation-engine.js';
import type { PulumiEnv } from './pulumi-env.js';

export interface StackOutputReaderOptions {
  projectName: string;
  /** Work directories of the reader, apart from the workers' (their settings files are not shared). */
  workRoot: string;
  env: PulumiEnv;
  secretsProvider: string;
}

/**
 * Reads one output of a cluster's stack in clear, secrets decrypted (the kubeconfig). Runs no
 * program and takes no lock: `stack output` only reads the latest state.
 * @returns the value, or null when the stack or the output does not exist
 */
export function createStackOutputReader(opts: StackOutputReaderOptions) {
  let command: ReturnType<typeof commandFromPath> | undefined;
  return async function readOutput(stackName: string, key: string): Promise<unknown> {
    // Found (and linked) once per process, not on every read.
    command ??= commandFromPath(opts.env.PATH ?? '', opts.workRoot);
    const workDir = path.join(opts.workRoot, stackName);
    await mkdir(workDir, { recursive: true });
    try {
      const stack = await LocalWorkspace.selectStack(
        { stackName, projectName: opts.projectName, program: async () => undefined },
        {
          workDir, envVars: opts.env, secretsProvider: opts.secretsProvider,
          projectSettings: { name: opts.projectName, runtime: 'nodejs' }, pulumiCommand: await command,
        },
      );
      return (await stack.outputs())[key]?.value ?? null;
    } catch (err) {
      if ((err as Error).name === 'StackNotFoundError') return null;
      throw err;
    }
  };
}
