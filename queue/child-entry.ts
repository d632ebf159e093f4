/**
 * Child side of `runInChildProcess`: receives one request over IPC, runs it with a fresh
 * AutomationEngine, streams events back, reports the result and exits. It never outlives its job:
 * if the parent worker disappears (IPC disconnect, e.g. the worker was SIGKILLed), the run is
 * cancelled gracefully and the child kills its whole process tree halfway to the deadline its parent
 * last gave (the lane's lease is about to lapse then), or after ORPHAN_GRACE_MS if it was given none.
 */
import { enableCompileCache, flushCompileCache } from 'node:module';
import type { EngineResult } from '../src/engine/engine.js';
import type { FromChild, ToChild } from './child-protocol.js';
import { deferSerializerModules } from '../src/engine/deferred-sdk-modules.js';
import { cancelledBeforeStartResult, crashedResult, failedResult } from './child-results.js';
import { JOB_MARK_VAR, killMarked, killProcessTree } from './process-tree.js';
import { contextOf, startTracing, withContext } from '../src/tracing/tracing.js';

/** How long an orphaned run may take to cancel before the child kills its tree, at most. Milliseconds. */
const ORPHAN_GRACE_MS = 8_000;
/** How long the child waits for the parent to acknowledge its result before it exits anyway. Milliseconds. */
const ACK_WAIT_MS = 10_000;

const abort = new AbortController();
const PARENT = process.ppid;
let started = false;
/**
 * This process's `performance.now()` by which the engine must be dead if the parent dies, from the
 * parent's last `deadline` message (late by that message's transit time, which the parent's own margin
 * for the kill covers); null until one comes.
 */
let killBy: number | null = null;

let acknowledged: () => void = () => undefined;

process.on('message', (msg: ToChild) => {
  if (msg.type === 'cancel') abort.abort();
  else if (msg.type === 'ack') acknowledged();
  else if (msg.type === 'deadline') killBy = performance.now() + msg.inMs - Math.max(0, Date.now() - msg.sentAt);
  else if (msg.type === 'run' && !started) {
    started = true;
    void run(msg).then(finish, (err: unknown) => finish(crashed(err)));
  }
});

// A cancelled inline program keeps issuing RPCs to the CLI that just exited; the SDK leaves their
// rejections unhandled, which by default would crash this process before it reports the result.
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? reason.message.split('\n')[0] : String(reason);
  if (!/Resource monitor is terminating|UNAVAILABLE/.test(message ?? ''))
    console.error(`clusterd child: ignored unhandled rejection: ${message}`);
});

process.once('disconnect', () => {
  abort.abort();
  // Nobody is left to report to, nor to renew the lane's lease: stop, whatever state the engine is in,
  // before another worker may take the lane over. The graceful cancel gets half of the time left and
  // the kill the other half: on a loaded machine, finding and killing every process takes seconds.
  const graceMs = killBy === null ? ORPHAN_GRACE_MS : Math.min(ORPHAN_GRACE_MS, Math.max(0, (killBy - performance.now()) / 2));
  setTimeout(() => {
    const mark = process.env[JOB_MARK_VAR];
    void (async () => {
      if (mark) await killMarked(mark);
      await killProcessTree(process.pid, { includeOwnGroup: true });
    })();
  }, graceMs).unref();
  if (!started) process.exit(1);
});

/**
 * What every run needs, loaded as soon as the process starts: a warm spare (spare-children.ts) is
 * ready before its operation comes. Imported here, not at the top: the blueprints pull in the cloud
 * SDKs, seconds of loading on a busy machine, and the handlers above must hear a dying parent meanwhile.
 */
function loadModules() {
  // Before the imports: @pulumi/pulumi and the TypeScript compiler its closure serializer loads are over
  // a second of compiling in every fresh child without the cache. The worker names it in our environment.
  if (process.env.NODE_COMPILE_CACHE) enableCompileCache(process.env.NODE_COMPILE_CACHE);
  // Before the SDK loads too: most jobs serialize no function, and need none of what that takes.
  deferSerializerModules();
  return Promise.all([
    import('../programs/index.js'),
    import('../src/blueprints/registry.js'),
    import('../src/engine/automation-engine.js'),
    import('../src/engine/pulumi-cli.js'),
  ]);
}
const modules = loadModules();
// A failure is reported by the run that awaits it; a spare never run must not crash for it.
modules.catch(() => undefined);

async function run(msg: Extract<ToChild, { type: 'run' }>): Promise<EngineResult> {
  const { trace } = msg;
  // A traced run loads the SDK now, not as the process starts: a spare does not know whether its run
  // will be traced, and with tracing off nothing of the SDK is ever loaded. Its spans go to the worker.
  // Tracing that cannot start leaves the run untraced, never failed.
  const tracing = trace
    ? await startTracing(trace.settings, { sendTo: (spans) => post({ type: 'spans', spans }) }).catch((err: unknown) => {
        console.error(`clusterd child: tracing not started: ${(err as Error).message}`);
        return null;
      })
    : null;
  try {
    return await withContext(contextOf(trace?.parent), () => runEngine(msg));
  } finally {
    // Every span is sent before the result is: the worker exports them with its own.
    await tracing?.shutdown();
  }
}

async function runEngine({ request, config, trace }: Extract<ToChild, { type: 'run' }>): Promise<EngineResult> {
  const [{ builtInBlueprints }, { BlueprintRegistry, loadBlueprintModules }, { AutomationEngine }, { commandOf }] = await modules;
  // The parent died while they loaded: nothing was started, and nothing must be. The parent id tells it
  // even before the event loop has run the disconnect handler (a dead parent's children are adopted).
  if (abort.signal.aborted || process.ppid !== PARENT) return cancelledBeforeStartResult();
  const registry = new BlueprintRegistry();
  for (const b of builtInBlueprints) registry.register(b);
  try {
    await loadBlueprintModules(registry, config.blueprintModules, { dataDir: config.dataDir });
  } catch (err) {
    return failedResult('blueprint-load-failed', 'A blueprint module could not be loaded', (err as Error).message);
  }
  const engine = new AutomationEngine({
    projectName: config.projectName,
    workRoot: config.workRoot,
    env: config.env,
    secretsProvider: config.secretsProvider,
    registry,
    policyPacks: config.policyPacks,
    cliTraces: trace?.settings.cliTraces ?? null,
    ...(config.cli ? { pulumiCommand: await commandOf(config.cli) } : {}),
  });
  return engine.run(request, { onEvent: (event) => post({ type: 'event', event }), signal: abort.signal });
}

function post(msg: FromChild): void {
  if (process.connected) process.send?.(msg);
}

async function finish(result: EngineResult): Promise<void> {
  // Anything the engine left running (a plugin of a cancelled run) dies with the job.
  await killProcessTree(process.pid);
  const mark = process.env[JOB_MARK_VAR];
  if (mark) await killMarked(mark);
  if (!process.connected) process.exit(0);
  // Exit only once the parent says it has the result (or is gone): a clean exit must never lose it.
  const received = new Promise<void>((resolve) => {
    acknowledged = resolve;
    process.once('disconnect', resolve);
    setTimeout(resolve, ACK_WAIT_MS).unref();
  });
  process.send?.({ type: 'result', result } satisfies FromChild);
  // Written while the parent takes the result in, not on its path.
  flushCompileCache();
  await received;
  process.exit(0);
}

function crashed(err: unknown): EngineResult {
  // The result carries only the error's first line; the stack goes to stderr for the operator.
  console.error('clusterd child: engine crashed', err);
  return crashedResult(err);
}
