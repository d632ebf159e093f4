import { spawn, type ChildProcess } from 'node:child_process';
import type { Stats } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Why a kernel lock (flock(2), held by a small `flock` helper process) and not a staleness-based
 * lock file such as proper-lockfile's: a staleness lock is only as alive as its holder's event
 * loop. A holder that is stopped (SIGSTOP, a debugger, a frozen VM) or whose loop is blocked past
 * the stale threshold loses the lock to a second process while it still has the database open,
 * and once resumed it may write before it notices: the very loss this lock exists to prevent.
 * The kernel releases flock(2) only when the last descriptor closes, that is when the owner really
 * is gone, and never because it was slow. Node has no flock binding, so a helper holds the lock:
 * `flock` (util-linux, or BusyBox) runs `cat`, whose stdin is a pipe from this process. When this
 * process dies in any way, the kernel closes the pipe, `cat` sees end of file and exits, and the
 * lock is free at once: a restart after SIGKILL starts without waiting out a staleness period.
 */

/** The file, inside the locked directory, that the lock is taken on (PGlite ignores it). */
export const LOCK_FILE = 'clusterd.lock';

/** What the owner writes into the lock file, so that a refused process can say who holds it. */
interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Another process holds the directory: a configuration problem, reported at start. */
export class RecordStoreInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | null,
  ) {
    const who = owner ? `process ${owner.pid} on ${owner.host} (since ${owner.since})` : 'another process';
    super(
      `the embedded record store ${dir} is already open in ${who}. PGlite serves one process: ` +
        'to share records between processes (an api and a worker), set DATABASE_URL to a PostgreSQL database; ' +
        'to run a separate instance, give it another CLUSTERD_DATA_DIR',
    );
    this.name = new.target.name;
  }
}

/** The lock was taken away while held: the helper died, or the lock file was removed or replaced. */
export class LockLostError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(
      `lost the lock on the embedded record store ${dir}: ${reason}; another process may open it, so this one must not write to it again`,
    );
    this.name = new.target.name;
  }
}

/** Options of {@link lockDirectory}. */
export interface DirectoryLockOptions {
  /** How long to keep trying while another process holds the lock (a crashed owner's helper exits within milliseconds). @defaultValue 3000 */
  waitMs?: number;
  /** How often the lock file is checked for removal or replacement. @defaultValue 1000 */
  checkIntervalMs?: number;
  /** Called once if the lock is lost while held; the caller must stop writing at once. */
  onLost(err: LockLostError): void;
}

/** An exclusive lock on a directory, held until {@link DirectoryLock.release}. */
export interface DirectoryLock {
  /** Releases the lock; resolves once the helper holding it has exited. */
  release(): Promise<void>;
}

/** Takes an exclusive lock on `dir` (which must exist), waiting up to `waitMs` for a holder to go away. */
export async function lockDirectory(dir: string, options: DirectoryLockOptions): Promise<DirectoryLock> {
  const file = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + (options.waitMs ?? 3000);
  for (;;) {
    const helper = await tryLock(file);
    if (helper) return hold(dir, file, helper, options);
    if (Date.now() >= deadline) throw new RecordStoreInUseError(dir, await readOwner(file));
    await sleep(100);
  }
}

/** Starts a helper that takes the lock without waiting; null when another process holds it. */
async function tryLock(file: string): Promise<ChildProcess | null> {
  // Detached: its own process group and session, so that a Ctrl-C or a hang-up meant for this
  // process does not kill the helper (which would look like a lost lock) before a graceful stop.
  const helper = spawn('flock', ['-x', '-n', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  // Ending stdin of a helper that already died must not become an unhandled EPIPE.
  helper.stdin.on('error', () => undefined);
  let stderr = '';
  helper.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const outcome = await new Promise<'locked' | { code: number | null; error?: Error }>((resolve) => {
    helper.stdout.setEncoding('utf8').once('data', () => resolve('locked'));
    helper.once('error', (error) => resolve({ code: null, error }));
    // `close`, not `exit`: by then all of its stderr has been read.
    helper.once('close', (code) => resolve({ code }));
  });
  if (outcome === 'locked') return helper;
  if (outcome.error) {
    const missing = (outcome.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'the embedded record store needs the flock command (util-linux or BusyBox) to lock its directory: install it, or set DATABASE_URL to use PostgreSQL'
        : `could not start flock to lock ${file}: ${outcome.error.message}`,
      { cause: outcome.error },
    );
  }
  // `flock -n` exits 1 without a word when the lock is taken; anything else is a real failure.
  if (outcome.code === 1 && stderr.trim() === '') return null;
  throw new Error(`could not lock ${file}: ${stderr.trim() || `flock exited with code ${outcome.code}`}`);
}

async function hold(dir: string, file: string, helper: ChildProcess, options: DirectoryLockOptions): Promise<DirectoryLock> {
  let state: 'starting' | 'held' | 'releasing' | 'lost' = 'starting';
  // Declared before the handlers that clear it, which may run before it is set.
  // eslint-disable-next-line prefer-const
  let watch: NodeJS.Timeout | undefined;
  let exit: string | null = null;
  const exited = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
  const loseLock = (reason: string) => {
    if (state !== 'held') return;
    state = 'lost';
    clearInterval(watch);
    options.onLost(new LockLostError(dir, reason));
  };
  helper.once('exit', (code, signal) => {
    exit = signal ?? `code ${code}`;
    loseLock(`the flock helper (pid ${helper.pid}) exited (${exit})`);
  });
  let locked: Stats;
  try {
    // Writing through a new descriptor keeps the inode, and so the lock, of the file.
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    await writeFile(file, `${JSON.stringify(owner)}\n`);
    locked = await stat(file);
    if (exit !== null) throw new Error(`the flock helper exited (${exit}) right after taking the lock`);
  } catch (err) {
    await stop(helper, exited);
    throw new Error(`could not lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  state = 'held';
  // A lock file deleted (or the directory replaced) leaves the lock on an inode nobody else will open.
  watch = setInterval(() => {
    stat(file).then(
      (now) => (now.ino !== locked.ino || now.dev !== locked.dev) && loseLock(`${file} was replaced`),
      (err: NodeJS.ErrnoException) => loseLock(`${file} is gone (${err.code ?? err.message})`),
    );
  }, options.checkIntervalMs ?? 1000);
  // Neither the helper nor the check keeps the process alive; its death releases the lock anyway.
  watch.unref();
  helper.unref();
  for (const stream of [helper.stdin, helper.stdout, helper.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    async release() {
      if (state === 'releasing') return exited;
      state = 'releasing';
      clearInterval(watch);
      await stop(helper, exited);
    },
  };
}

/** Closes the helper's stdin (it exits at end of file), then kills its group if it lingers. */
async function stop(helper: ChildProcess, exited: Promise<void>): Promise<void> {
  // Held unref'd; awaited here, it must keep the event loop alive until it has exited.
  helper.ref();
  helper.stdin?.end();
  const timeout = sleep(5000, 'timeout' as const, { ref: false });
  if ((await Promise.race([exited.then(() => 'exited' as const), timeout])) === 'exited' || !helper.pid) return;
  // The whole group: flock and the cat holding the descriptor.
  try {
    process.kill(-helper.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await exited;
}

async function readOwner(file: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.since === 'string'
      ? { pid: owner.pid, host: owner.host, since: owner.since }
      : null;
  } catch {
    return null;
  }
}
