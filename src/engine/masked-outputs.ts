import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OutputMap, Workspace } from '@pulumi/pulumi/automation/index.js';

const run = promisify(execFile);

/** What `pulumi stack output --json` prints in place of a secret value. */
const CLI_SECRET_MASK = '[secret]';

/**
 * Makes the workspace read a stack's outputs once, masked by the CLI, where the SDK reads them twice
 * (masked, then decrypted in clear) to tell the secrets apart. `up` reads them this way after every run;
 * each read is a whole CLI process that opens the state, and this service masks every secret anyway.
 * An output whose clear value is the mask itself counts as a secret: masked either way.
 */
export function readOutputsMasked(workspace: Workspace): void {
  workspace.stackOutputs = async (stackName: string): Promise<OutputMap> => {
    // The environment the SDK gives every command: this process's, then the workspace's.
    const { stdout } = await run(
      workspace.pulumiCommand.command,
      ['stack', 'output', '--json', '--non-interactive', '--stack', stackName],
      {
        cwd: workspace.workDir,
        env: { ...process.env, ...workspace.envVars },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const masked = JSON.parse(stdout) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(masked).map(([key, value]) => [key, { value, secret: value === CLI_SECRET_MASK }]));
  };
}
