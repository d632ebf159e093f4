/**
 * Parent side of "one operation, one child process". Pulumi keeps process-wide state (the inline
 * program's runtime settings, the language server), a stuck engine can only be stopped by killing
 * it, and nothing it started may outlive the job: so every operation runs in a child process of its
 * own process group, and the whole tree can be killed.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EngineEvent, EngineRequest, EngineResult } from '../src/engine/engine.js';
import type { PulumiEnv } from '../src/engine/pulumi-env.js';

/** What the child needs to build its engine. Crosses the IPC channel, never argv or the environment. */
export interface ChildConfig {
  /** Pulumi project of every stack. */
  projectName: string;
  /** Parent directory of the per-stack work directories. */
  workRoot: string;
  /** Environment of every Pulumi CLI call (holds the passphrase). */
  env: PulumiEnv;
  /** Secrets provider for new stacks. */
  secretsProvider: string;
  /** Absolute paths of the blueprint modules to load. */
  blueprintModules: string[];
  /** The service's data directory, handed to blueprint modules. */
  dataDir: string;
}

/** Options of {@link runInChildProcess}. */
export interface ChildRunOptions {
  /** Every engine event and log line, in order. */
  onEvent(event: EngineEvent): void;
  /** Aborting asks the child to cancel gracefully; after `cancelGraceMs` its process tree is killed. */
  signal: AbortSignal;
  /** How long a graceful cancel may take before the kill. Milliseconds. */
  cancelGraceMs: number;
  childConfig: ChildConfig;
}

/** Parent -> child messages. */
export type ToChild = { type: 'run'; request: EngineRequest; config: ChildConfig } | { type: 'cancel' };
/** Child -> parent messages. */
export type FromChild = { type: 'event'; event: EngineEvent } | { type: 'result'; result: EngineResult };

/** Environment variable carrying a job's mark; see {@link killMarked}. */
export const JOB_MARK_VAR = 'CLUSTERD_JOB_MARK';

const ENTRY = fileURLToPath(new URL('./child-entry.ts', import.meta.url));
// Absolute, so the child loads tsx whatever the worker's working directory.
const TSX = import.meta.resolve('tsx');
/** After its result, how long a child may take to exit before it is killed. Milliseconds. */
const EXIT_AFTER_RESULT_MS = 5_000;

/** Runs one operation in a fresh child process; never rejects. */
export function runInChildProcess(request: EngineRequest, opts: ChildRunOptions): Promise<EngineResult> {
  return new Promise((resolve) => {
    // Every process of the job inherits this mark (the CLI and its plugins get the child's environment),
    // so that what escapes the process tree can still be found and killed.
    const mark = randomUUID();
    const child = fork(ENTRY, [], {
      execArgv: ['--import', TSX],
      env: { ...process.env, [JOB_MARK_VAR]: mark },
      detached: true,
      // The child's stdout goes to our stderr: stdout may be a protocol (the test runner's).
      stdio: ['ignore', 2, 2, 'ipc'],
      serialization: 'advanced',
    });
    let result: EngineResult | null = null;
    let killed = false;
    const timers: NodeJS.Timeout[] = [];

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) killProcessTree(child.pid);
    };
    const onAbort = () => {
      send(child, { type: 'cancel' });
      timers.push(
        setTimeout(() => {
          // A child that already reported is only slow to exit; the exit timer deals with it.
          if (result) return;
          killed = true;
          kill();
        }, opts.cancelGraceMs),
      );
    };

    child.on('message', (msg: FromChild) => {
      if (msg.type === 'event') opts.onEvent(msg.event);
      else if (msg.type === 'result') {
        result = msg.result;
        timers.push(setTimeout(kill, EXIT_AFTER_RESULT_MS));
      }
    });
    const settle = (outcome: EngineResult) => {
      timers.forEach(clearTimeout);
      opts.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    // Without a pid the child never started, and no 'exit' follows.
    child.once('error', () => (child.pid ? kill() : settle(diedResult(null, null))));
    child.once('exit', (code, sig) => {
      // Whatever the child left (a CLI in its process group, plugins orphaned when the CLI died)
      // goes with it: no pulumi process outlives the job.
      if (child.pid) killProcessTree(child.pid);
      killMarked(mark);
      settle(killed ? killedResult(opts.cancelGraceMs) : result ?? diedResult(code, sig));
    });

    send(child, { type: 'run', request, config: opts.childConfig });
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function send(child: ChildProcess, msg: ToChild): void {
  if (child.connected) child.send(msg, (err) => void err /* the exit handler reports a dead child */);
}

function killedResult(graceMs: number): EngineResult {
  return {
    status: 'cancelled',
    summary: null,
    outputs: null,
    error: {
      code: 'engine-killed',
      title: 'The engine was killed',
      detail: `It did not stop within ${graceMs} ms of the cancel request, so its processes were killed. Resources being changed at that moment may be in an unknown state; the next run on this cluster recovers the stack first.`,
    },
  };
}

function diedResult(code: number | null, sig: NodeJS.Signals | null): EngineResult {
  return {
    status: 'failed',
    summary: null,
    outputs: null,
    error: {
      code: 'worker-child-died',
      title: 'The engine process died',
      detail:
        code === null && sig === null
          ? 'The child process for the operation could not be started.'
          : `The child process running the operation exited ${sig ? `on ${sig}` : `with code ${code}`} before reporting a result.`,
    },
  };
}

/**
 * Kills a process, its process group and every descendant's process group with SIGKILL. The
 * descendants matter: the Pulumi CLI starts each provider plugin in a process group of its own, and
 * a plugin whose CLI died keeps running forever (the Node dynamic provider does not watch the engine).
 * The tree is frozen with SIGSTOP first so that nobody forks while it is being listed.
 * Linux and macOS (`ps`); processes of our own group are spared unless `includeOwnGroup`.
 */
export function killProcessTree(rootPid: number, { includeOwnGroup = false } = {}): void {
  const ownGroup = table().find((p) => p.pid === process.pid)?.pgid ?? null;
  let tree = descendants(rootPid, ownGroup);
  for (const p of tree) if (p.pid !== process.pid) signal(p.pid, 'SIGSTOP');
  tree = descendants(rootPid, ownGroup);
  const groups = new Set(tree.map((p) => p.pgid));
  for (const pgid of groups) if (pgid !== ownGroup) signal(-pgid, 'SIGKILL');
  for (const p of tree) if (p.pid !== process.pid) signal(p.pid, 'SIGKILL');
  if (includeOwnGroup && ownGroup !== null) signal(-ownGroup, 'SIGKILL');
}

/**
 * SIGKILLs every process (but this one) whose environment carries `mark` in {@link JOB_MARK_VAR}:
 * provider plugins whose CLI died are reparented away from the job's tree and keep running forever.
 * Linux only (/proc); elsewhere the tree kill is all there is.
 */
export function killMarked(mark: string): void {
  const needle = `${JOB_MARK_VAR}=${mark}`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(needle)) signal(Number(pid), 'SIGKILL');
    } catch {
      // Gone, or not ours to read.
    }
  }
}

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
}

function table(): Proc[] {
  try {
    return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number))
      .filter((f) => f.length === 3 && f.every(Number.isInteger))
      .map(([pid, ppid, pgid]) => ({ pid: pid!, ppid: ppid!, pgid: pgid! }));
  } catch {
    return [];
  }
}

/** `root`, the process group it leads, all their descendants, and every process in their process groups (but `spareGroup`). */
function descendants(root: number, spareGroup: number | null): Proc[] {
  const all = table();
  const found = new Map<number, Proc>();
  // The root may be dead already: its process group (the child leads its own) still names what it left.
  for (const p of all) if (p.pid === root || p.pgid === root) found.set(p.pid, p);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (found.has(p.pid)) continue;
      if (found.has(p.ppid) || (p.pgid !== spareGroup && [...found.values()].some((f) => f.pgid === p.pgid))) {
        found.set(p.pid, p);
        grew = true;
      }
    }
  }
  return [...found.values()];
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // Already gone.
  }
}
