/**
 * The Pulumi CLI, made to join the active trace. Every process it runs gets `TRACEPARENT` (the active
 * span's: the engine run's) and the global flag `--otel-traces`, without which the CLI ignores
 * `TRACEPARENT` (pkg/cmd/pulumi/pulumi.go, CLI 3.259). The CLI's root span `pulumi` is then a child of
 * that span, and the engine's and plugins' spans hang under it. The Automation API has no option for
 * the flag, so it is added to the arguments of every command here.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { parseTraceParent } from '../tracing/trace-parent.js';
import { activeTraceParent } from '../tracing/tracing.js';

/** `PulumiCommand.run`, which the SDK's typings leave out (internal): every CLI process of a workspace runs through it. */
type Run = (
  args: string[],
  cwd: string,
  additionalEnv: Record<string, string>,
  onOutput?: (data: string) => void,
  onError?: (data: string) => void,
  signal?: AbortSignal,
) => Promise<{ stdout: string; stderr: string; code: number }>;

/** The command with its `run` in sight. */
export const runnable = (command: PulumiCommand) => command as PulumiCommand & { run: Run };

/**
 * `command`, whose every run continues the active trace and sends the CLI's spans to `cliTraces` (the
 * value of `--otel-traces`). A `file://` URL names a directory: the CLI truncates the file it is given,
 * so each CLI process gets its own, `<trace id>-<pid of this process>-<n>.json` (OTLP JSON, a line per batch).
 */
export function tracedCommand(command: PulumiCommand, cliTraces: string): PulumiCommand {
  const inner = runnable(command);
  const traced = runnable(Object.create(command) as PulumiCommand);
  let count = 0;
  traced.run = async (args, cwd, additionalEnv, ...rest) => {
    const traceParent = activeTraceParent();
    const endpoint = traceParent && (await endpointFor(cliTraces, traceParent, ++count));
    if (!traceParent || !endpoint) return inner.run(args, cwd, additionalEnv, ...rest);
    return inner.run([...args, '--otel-traces', endpoint], cwd, { ...additionalEnv, TRACEPARENT: traceParent }, ...rest);
  };
  return traced;
}

/** The `--otel-traces` of one CLI process; null when its file cannot be made (the run goes on untraced). */
async function endpointFor(cliTraces: string, traceParent: string, n: number): Promise<string | null> {
  if (!cliTraces.startsWith('file:')) return cliTraces;
  try {
    const dir = fileURLToPath(cliTraces);
    await mkdir(dir, { recursive: true });
    const traceId = parseTraceParent(traceParent)?.traceId ?? 'untraced';
    return pathToFileURL(path.join(dir, `${traceId}-${process.pid}-${n}.json`)).href;
  } catch {
    return null;
  }
}
