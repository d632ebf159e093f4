import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { commandFromPath } from './pulumi-cli.js';
import type { PulumiEnv } from './pulumi-env.js';

export interface StackOutputReaderOptions {
  projectName: string;
  /** Work directory of the reader, apart from the workers' (it holds only the project file). */
  workRoot: string;
  env: PulumiEnv;
  /** The rest of the CLI's environment (see engineEnvironment): never the whole of this process's. */
  processEnv: Record<string, string>;
}

/** Largest `stack output` answer accepted. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** The CLI's words for a stack that does not exist (the Automation API matches the same). */
const NO_STACK = /no stack named .* found/i;

/**
 * Reads one output of a cluster's stack in clear, secrets decrypted (the kubeconfig): one
 * `pulumi stack output --json --show-secrets` process per call, which runs no program and takes
 * no lock. When `signal` aborts, the process is killed at once (SIGKILL: a read has nothing to
 * clean up) and the call rejects with the signal's reason.
 * @returns the value, or null when the stack or the output does not exist
 */
export function createStackOutputReader(opts: StackOutputReaderOptions) {
  let ready: Promise<PulumiCommand> | undefined;
  const prepare = async () => {
    // Found (and linked) once per process, not on every read.
    const command = await commandFromPath(opts.env.PATH ?? '', opts.workRoot);
    await mkdir(opts.workRoot, { recursive: true });
    // The CLI resolves `--stack <name>` within the project of its working directory.
    await writeFile(path.join(opts.workRoot, 'Pulumi.yaml'), `name: ${opts.projectName}\nruntime: nodejs\n`);
    return command;
  };

  return async function readOutput(stackName: string, key: string, signal?: AbortSignal): Promise<unknown> {
    ready ??= prepare().catch((err) => {
      ready = undefined;
      throw err;
    });
    const command = await ready;
    signal?.throwIfAborted();
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        command.command,
        ['stack', 'output', '--json', '--show-secrets', '--non-interactive', '--stack', stackName],
        {
          cwd: opts.workRoot,
          env: { ...opts.processEnv, ...opts.env },
          signal,
          killSignal: 'SIGKILL',
          maxBuffer: MAX_OUTPUT_BYTES,
          encoding: 'utf8',
        },
        (err, out, stderr) => {
          if (!err) return resolve(out);
          if (signal?.aborted) return reject(signal.reason);
          // Only stderr is kept: stdout would carry the secrets.
          if (NO_STACK.test(stderr)) return resolve('null');
          reject(
            new Error(`pulumi stack output failed for stack ${stackName}: ${stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500)}`),
          );
        },
      );
    });
    const outputs = JSON.parse(stdout) as Record<string, unknown> | null;
    return outputs?.[key] ?? null;
  };
}

/** Reads one output of a stack in clear; see {@link createStackOutputReader}. */
export type StackOutputReader = ReturnType<typeof createStackOutputReader>;
