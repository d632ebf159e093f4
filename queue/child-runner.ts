/**
 * Parent side of "one operation, one child process". Pulumi keeps process-wide state (the inline
 * program's runtime settings, the language server), a stuck engine can only be stopped by killing
 * it, and nothing it started may outlive the job: so every operation runs in a child process of its
 * own process group, and the whole tree can be killed.
 */
import type { ChildProcess } from 'node:child_process';
import type { Span } from '@opentelemetry/api';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, EngineRequest, EngineResult } from '../src/engine/engine.js';
import type { ChildConfig, FromChild, ToChild } from './child-protocol.js';
import { diedResult, killedResult, type KillReason } from './child-results.js';
import { killMarked, killProcessTree } from './process-tree.js';
import { startJobProcess, type ChildEntry, type JobProcess } from './spare-children.js';
import { RUNNING_FROM_SOURCES, sourceLoaderArgs } from '../src/blueprints/typescript-modules.js';
import { JOB_NODE_FLAGS } from '../src/engine/job-node-flags.js';
import { adoptSpans, currentTracingSettings, failSpan, inSpan, operationAttributes, traceParentOf } from '../src/tracing/tracing.js';

export type { ChildConfig } from './child-protocol.js';
export type { ChildEntry } from './spare-children.js';

/** Options of {@link runInChildProcess}. */
export interface ChildRunOptions {
  /** Every engine event and log line, in order. */
  onEvent(event: EngineEvent): void;
  /** Aborting asks the child to cancel gracefully; after `cancelGraceMs` its process tree is killed. */
  signal: AbortSignal;
  /** Aborting kills the child's process tree at once (the lane's lease is about to lapse). */
  kill?: AbortSignal;
  /**
   * Milliseconds until `kill` would fire. Told to the child every {@link DEADLINE_EVERY_MS}, so that a
   * child whose worker died stops its engine by then, before another worker may take the lane over.
   * @defaultValue none: an orphaned child cancels gracefully for up to 8 s
   */
  msUntilKill?: () => number;
  /** The environment of the child and so of every Pulumi process of the job (see engineEnvironment). */
  processEnv: Record<string, string>;
  /** How long a graceful cancel may take before the kill. Milliseconds. */
  cancelGraceMs: number;
  childConfig: ChildConfig;
  /** The program the child runs. @defaultValue {@link OWN_KIND_ENTRY} */
  entry?: ChildEntry;
  /** Hands out the job's process (a warm spare, see spare-children.ts). @defaultValue a new process of `entry` */
  start?: () => JobProcess;
}

/** What this process runs: the compiled entry, or its source under tsx. */
export const OWN_KIND_ENTRY: ChildEntry = {
  file: fileURLToPath(new URL(RUNNING_FROM_SOURCES ? './child-entry.ts' : './child-entry.js', import.meta.url)),
  execArgv: [...JOB_NODE_FLAGS, ...sourceLoaderArgs()],
};
/** After its result, how long a child may take to exit before it is killed. Milliseconds. */
const EXIT_AFTER_RESULT_MS = 5_000;
/** How often the child is told its deadline. A deadline only moves later, so the child's copy errs early. Milliseconds. */
const DEADLINE_EVERY_MS = 250;

/**
 * The environment of a job's child: the engine's, and the compile cache the Pulumi environment names,
 * so that the child loads its modules from it as soon as it starts (child-entry.ts), before its run.
 */
export function jobEnvironment(opts: Pick<ChildRunOptions, 'processEnv' | 'childConfig'>): Record<string, string> {
  const cache = opts.childConfig.env.NODE_COMPILE_CACHE;
  return cache ? { ...opts.processEnv, NODE_COMPILE_CACHE: cache } : opts.processEnv;
}

/**
 * Runs one operation in a child process of its own, which no other operation ever uses; never
 * rejects. Its span is the parent of the child's: the child's spans come back over IPC.
 */
export function runInChildProcess(request: EngineRequest, opts: ChildRunOptions): Promise<EngineResult> {
  const attributes = operationAttributes({
    id: request.operationId,
    kind: request.kind,
    clusterName: request.stackName,
    blueprint: request.blueprint,
  });
  return inSpan('child process', { attributes }, async (span) => {
    const result = await runInChild(request, opts, span);
    span.setAttribute('clusterd.operation.status', result.status);
    if (result.status === 'failed') failSpan(span, result.error?.code ?? 'failed');
    return result;
  });
}

function runInChild(request: EngineRequest, opts: ChildRunOptions, span: Span): Promise<EngineResult> {
  return new Promise((resolve) => {
    const { child, mark } = opts.start ? opts.start() : startJobProcess(opts.entry ?? OWN_KIND_ENTRY, jobEnvironment(opts));
    if (child.pid) span.setAttribute('process.pid', child.pid);
    let result: EngineResult | null = null;
    let killedFor: KillReason | null = null;
    const timers: NodeJS.Timeout[] = [];

    const killNow = (reason: KillReason) => {
      // A child that already reported is only slow to exit; the exit timer deals with it.
      if (result || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      killedFor ??= reason;
      void killProcessTree(child.pid);
    };
    const onAbort = () => {
      send(child, { type: 'cancel' });
      timers.push(setTimeout(() => killNow('cancel-grace'), opts.cancelGraceMs));
    };
    const onKill = () => killNow('lease');

    child.on('message', (msg: FromChild) => {
      if (msg.type === 'event') opts.onEvent(msg.event);
      else if (msg.type === 'spans') adoptSpans(msg.spans);
      else if (msg.type === 'result') {
        result = msg.result;
        // The child waits for this before it exits, so a clean exit never outruns its result.
        send(child, { type: 'ack' });
        timers.push(
          setTimeout(() => {
            if (child.pid) void killProcessTree(child.pid);
          }, EXIT_AFTER_RESULT_MS),
        );
      }
    });
    const { msUntilKill } = opts;
    const tellDeadline = () => msUntilKill && send(child, { type: 'deadline', inMs: msUntilKill(), sentAt: Date.now() });
    const deadlines = msUntilKill ? setInterval(tellDeadline, DEADLINE_EVERY_MS) : undefined;
    const settle = (outcome: EngineResult) => {
      clearInterval(deadlines);
      timers.forEach(clearTimeout);
      opts.signal.removeEventListener('abort', onAbort);
      opts.kill?.removeEventListener('abort', onKill);
      resolve(outcome);
    };
    // Without a pid the child never started, and neither 'exit' nor 'close' follows.
    child.once('error', () => (child.pid ? void killProcessTree(child.pid) : settle(diedResult(null, null))));
    // 'close', not 'exit': it comes after the IPC channel has closed, so every message the child sent has been seen.
    child.once('close', (code: number | null, sig: NodeJS.Signals | null) => {
      // Whatever the child left (a CLI in its process group, plugins orphaned when the CLI died)
      // goes with it before the run is reported over: no pulumi process outlives the job.
      void (async () => {
        if (child.pid) await killProcessTree(child.pid);
        await killMarked(mark);
        settle(killedFor ? killedResult(killedFor, opts.cancelGraceMs) : (result ?? diedResult(code, sig)));
      })();
    });

    // The deadline first: the child then knows it before it starts the engine.
    tellDeadline();
    // A run no sampler kept costs the child nothing: it loads no SDK, and the CLI is given no trace.
    const parent = span.isRecording() ? traceParentOf(span) : null;
    const settings = currentTracingSettings();
    send(child, { type: 'run', request, config: opts.childConfig, trace: parent && settings ? { parent, settings } : null });
    if (opts.kill?.aborted) onKill();
    else opts.kill?.addEventListener('abort', onKill, { once: true });
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function send(child: ChildProcess, msg: ToChild): void {
  if (child.connected) child.send(msg, (err) => void err /* the exit handler reports a dead child */);
}
