import {
  LocalWorkspace,
  Stack,
  type InlineProgramArgs,
  type LocalWorkspaceOptions,
  type OutputMap,
} from '@pulumi/pulumi/automation/index.js';
import { runnable } from './traced-pulumi-command.js';

/** What `pulumi stack output --json` prints in place of a secret value. */
const CLI_SECRET_MASK = '[secret]';

/**
 * Spares the CLI processes the SDK starts for what this service does not use. Each is a whole `pulumi`
 * process that opens the state and derives the passphrase's key: about a third of a second of CPU, on
 * every operation.
 * - `up`, `refresh` and `destroy` read the last history entry for a summary: the engine counts the
 *   changes from the run's events instead (see ChangeTracker), so none is read.
 * - Outputs come from the run's own events when they carried them (`fromRun`, see RootStackOutputs).
 *   Otherwise they are read once, masked by the CLI, where the SDK reads them twice (masked, then
 *   decrypted in clear) to tell the secrets apart: this service masks every secret anyway. An output
 *   whose clear value is the mask itself counts as a secret: masked either way.
 */
export function leanStack(stack: Stack, fromRun: () => OutputMap | undefined = () => undefined): Stack {
  stack.info = () => Promise.resolve(undefined);
  const workspace = stack.workspace;
  workspace.stackOutputs = async (stackName: string): Promise<OutputMap> => {
    const seen = fromRun();
    if (seen) return seen;
    // Through the workspace's command, as every other CLI process of the run: the same environment
    // (this process's, then the workspace's) and the same trace (see traced-pulumi-command.ts).
    const { stdout } = await runnable(workspace.pulumiCommand).run(['stack', 'output', '--json', '--stack', stackName], workspace.workDir, {
      ...workspace.envVars,
    });
    const masked = JSON.parse(stdout) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(masked).map(([key, value]) => [key, { value, secret: value === CLI_SECRET_MASK }]));
  };
  return stack;
}

/**
 * The stack as `LocalWorkspace.selectStack` gives it, without the `pulumi stack select` process that
 * only proves the stack exists: every command the SDK runs on it names the stack itself, and fails
 * with the same StackNotFoundError when there is none.
 */
export async function uncheckedStack(args: InlineProgramArgs, opts: LocalWorkspaceOptions): Promise<Stack> {
  const workspace = await LocalWorkspace.create({ ...opts, program: args.program });
  const select = workspace.selectStack.bind(workspace);
  workspace.selectStack = () => Promise.resolve();
  try {
    return await Stack.select(args.stackName, workspace);
  } finally {
    workspace.selectStack = select;
  }
}
