/**
 * Child side of `runInChildProcess`: receives one request over IPC, runs it with a fresh
 * AutomationEngine, streams events back, reports the result and exits. It never outlives its job:
 * if the parent worker disappears (IPC disconnect, e.g. the worker was SIGKILLed), the run is
 * cancelled gracefully and, after ORPHAN_GRACE_MS, the child kills its whole process tree.
 */
import { builtInBlueprints } from '../programs/index.js';
import { BlueprintRegistry, loadBlueprintModules } from '../src/blueprints/registry.js';
import { AutomationEngine } from '../src/engine/automation-engine.js';
import type { EngineResult } from '../src/engine/engine.js';
import { JOB_MARK_VAR, killMarked, killProcessTree, type FromChild, type ToChild } from './child-runner.js';

/** How long an orphaned run may take to cancel before the child kills its tree. Milliseconds. */
const ORPHAN_GRACE_MS = 8_000;

const abort = new AbortController();
let started = false;

process.on('message', (msg: ToChild) => {
  if (msg.type === 'cancel') abort.abort();
  else if (msg.type === 'run' && !started) {
    started = true;
    void run(msg).then(finish, (err: unknown) => finish(crashed(err)));
  }
});

// A cancelled inline program keeps issuing RPCs to the CLI that just exited; the SDK leaves their
// rejections unhandled, which by default would crash this process before it reports the result.
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? reason.message.split('\n')[0] : String(reason);
  if (!/Resource monitor is terminating|UNAVAILABLE/.test(message ?? '')) console.error(`clusterd child: ignored unhandled rejection: ${message}`);
});

process.once('disconnect', () => {
  abort.abort();
  // Nobody is left to report to: stop, whatever state the engine is in.
  setTimeout(() => {
    const mark = process.env[JOB_MARK_VAR];
    if (mark) killMarked(mark);
    killProcessTree(process.pid, { includeOwnGroup: true });
  }, ORPHAN_GRACE_MS).unref();
  if (!started) process.exit(1);
});

async function run({ request, config }: Extract<ToChild, { type: 'run' }>): Promise<EngineResult> {
  const registry = new BlueprintRegistry();
  for (const b of builtInBlueprints) registry.register(b);
  try {
    await loadBlueprintModules(registry, config.blueprintModules, { dataDir: config.dataDir });
  } catch (err) {
    return failed('blueprint-load-failed', 'A blueprint module could not be loaded', (err as Error).message);
  }
  const engine = new AutomationEngine({
    projectName: config.projectName,
    workRoot: config.workRoot,
    env: config.env,
    secretsProvider: config.secretsProvider,
    registry,
  });
  return engine.run(request, { onEvent: (event) => post({ type: 'event', event }), signal: abort.signal });
}

function post(msg: FromChild): void {
  if (process.connected) process.send?.(msg);
}

function finish(result: EngineResult): void {
  // Anything the engine left running (a plugin of a cancelled run) dies with the job.
  killProcessTree(process.pid);
  const mark = process.env[JOB_MARK_VAR];
  if (mark) killMarked(mark);
  if (!process.connected) process.exit(0);
  process.send?.({ type: 'result', result } satisfies FromChild, undefined, {}, () => process.exit(0));
}

function crashed(err: unknown): EngineResult {
  // Not the raw error: it may carry CLI output. The stack goes to stderr for the operator.
  console.error('clusterd child: engine crashed', err);
  return failed('engine-crashed', 'The engine crashed', err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : 'unknown error');
}

function failed(code: string, title: string, detail: string): EngineResult {
  return { status: 'failed', summary: null, outputs: null, error: { code, title, detail } };
}
