/**
 * Warm, single-use job processes. Starting a job's child costs over a second of CPU (Node, then
 * `@pulumi/pulumi` and the blueprints: see child-entry.ts, which loads them as soon as it starts):
 * a worker keeps `size` children started ahead, so that an operation takes one that is ready. Each
 * still runs one operation only and exits after it: nothing passes from one operation to the next.
 * A spare whose worker dies sees its IPC channel close and exits (child-entry.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { JOB_MARK_VAR, killProcessTree } from './process-tree.js';

/** A program to fork for a job: its file, and the Node options it needs. */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

/** A started job process, and the mark every process of its job inherits (see process-tree.ts). */
export interface JobProcess {
  child: ChildProcess;
  mark: string;
}

/** Starts one job process: its own process group, IPC with structured clone, stdout to our stderr. */
export function startJobProcess(entry: ChildEntry, env: Record<string, string>): JobProcess {
  // Every process of the job inherits this mark (the CLI and its plugins get the child's environment),
  // so that what escapes the process tree can still be found and killed.
  const mark = randomUUID();
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    env: { ...env, [JOB_MARK_VAR]: mark },
    detached: true,
    // The child's stdout goes to our stderr: stdout may be a protocol (the test runner's).
    stdio: ['ignore', 2, 2, 'ipc'],
    serialization: 'advanced',
  });
  return { child, mark };
}

export interface SpareChildren {
  /** A started job process for one operation: a spare when one is ready, else a new one. Refills the spares. */
  take(): JobProcess;
  /** Kills the spares and starts no more (the worker is stopping). */
  close(): Promise<void>;
  /** Spares started and still alive, for tests and metrics. */
  readonly ready: number;
}

/** Keeps `size` job processes started ahead. A spare that dies idle is replaced, at most once a second. */
export function keepSpareChildren(opts: { entry: ChildEntry; env: Record<string, string>; size: number; log: Logger }): SpareChildren {
  const spares = new Set<JobProcess>();
  let closed = false;
  let lastDeath = 0;
  let refillTimer: NodeJS.Timeout | undefined;

  function startSpare(): void {
    const spare = startJobProcess(opts.entry, opts.env);
    spares.add(spare);
    spare.child.once('exit', (code, signal) => {
      if (!spares.delete(spare) || closed) return;
      opts.log.warn({ pid: spare.child.pid, code, signal }, 'a spare job process died while idle; starting another');
      lastDeath = Date.now();
      refill();
    });
    spare.child.once('error', () => undefined);
  }

  function refill(): void {
    if (closed || refillTimer) return;
    // A spare that dies as it starts (a broken build, say) must not become a loop of forks.
    const wait = Math.max(0, lastDeath + 1000 - Date.now());
    const fill = () => {
      refillTimer = undefined;
      while (!closed && spares.size < opts.size) startSpare();
    };
    if (wait === 0) fill();
    else refillTimer = setTimeout(fill, wait).unref();
  }

  refill();
  return {
    take() {
      const spare = [...spares].find((s) => s.child.connected && s.child.exitCode === null);
      if (spare) spares.delete(spare);
      refill();
      return spare ?? startJobProcess(opts.entry, opts.env);
    },
    async close() {
      closed = true;
      clearTimeout(refillTimer);
      const left = [...spares];
      spares.clear();
      await Promise.all(left.flatMap((s) => (s.child.pid ? [killProcessTree(s.child.pid)] : [])));
    },
    get ready() {
      return spares.size;
    },
  };
}
