/**
 * Finding and killing every process a job started, without blocking the caller's event loop: a
 * worker renews its lanes and BullMQ's job locks from timers, so it never waits on `ps` or on reading
 * `/proc` synchronously.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long {@link killMarked} waits before the scan that confirms a quiet one. */
const CONFIRM_QUIET_MS = 25;

/** Environment variable carrying a job's mark; see {@link killMarked}. */
export const JOB_MARK_VAR = 'CLUSTERD_JOB_MARK';

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
}

/**
 * Kills a process, its process group and every descendant's process group with SIGKILL. The
 * descendants matter: the Pulumi CLI starts each provider plugin in a process group of its own, and
 * a plugin whose CLI died keeps running forever (the Node dynamic provider does not watch the engine).
 * The tree is frozen with SIGSTOP first so that nobody forks while it is being listed.
 * Linux and macOS (`ps`); processes of our own group are spared unless `includeOwnGroup`.
 */
export async function killProcessTree(rootPid: number, { includeOwnGroup = false } = {}): Promise<void> {
  const all = await table();
  const ownGroup = all.find((p) => p.pid === process.pid)?.pgid ?? null;
  let tree = descendants(all, rootPid, ownGroup);
  // Most calls come after a job that ended cleanly and left nothing: one listing (one `ps`) is all they cost.
  if (!tree.some((p) => p.pid !== process.pid) && !includeOwnGroup) return;
  for (const p of tree) if (p.pid !== process.pid) signal(p.pid, 'SIGSTOP');
  tree = descendants(await table(), rootPid, ownGroup);
  const groups = new Set(tree.map((p) => p.pgid));
  for (const pgid of groups) if (pgid !== ownGroup) signal(-pgid, 'SIGKILL');
  for (const p of tree) if (p.pid !== process.pid) signal(p.pid, 'SIGKILL');
  if (includeOwnGroup && ownGroup !== null) signal(-ownGroup, 'SIGKILL');
}

/**
 * SIGKILLs every process (but this one) whose environment carries `mark` in {@link JOB_MARK_VAR}:
 * provider plugins whose CLI died are reparented away from the job's tree and keep running forever.
 * Scans again until a scan finds nothing new: a process that forked between the listing of /proc and
 * its own kill left a child the listing did not hold (a plugin the CLI was starting), and nothing
 * else would ever find it; after a kill, a second quiet scan confirms the first. Linux only (/proc);
 * elsewhere the tree kill is all there is.
 */
export async function killMarked(mark: string, maxScans = 20): Promise<void> {
  const needle = `${JOB_MARK_VAR}=${mark}`;
  const killed = new Set<number>();
  let quiet = 0;
  for (let scan = 0; scan < maxScans; scan++) {
    let pids: number[];
    try {
      pids = (await readdir('/proc'))
        .filter((d) => /^\d+$/.test(d))
        .map(Number)
        .filter((pid) => pid !== process.pid && !killed.has(pid));
    } catch {
      return;
    }
    const found = await Promise.all(
      pids.map(async (pid) => {
        try {
          // A killed process's environment reads empty once it is a zombie: it is not found again.
          return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').includes(needle) ? pid : null;
        } catch {
          return null; // Gone, or not ours to read.
        }
      }),
    );
    const fresh = found.filter((pid): pid is number => pid !== null);
    if (!fresh.length) {
      // Once something was killed, one more look after a pause: a child forked just before its parent's
      // kill reads with no environment at all for a moment while it execs, so one quiet scan can miss it.
      if (!killed.size || quiet++) return;
      await new Promise((r) => setTimeout(r, CONFIRM_QUIET_MS));
      continue;
    }
    quiet = 0;
    for (const pid of fresh) {
      signal(pid, 'SIGKILL');
      killed.add(pid);
    }
  }
}

async function table(): Promise<Proc[]> {
  try {
    const { stdout } = await run('ps', ['-A', '-o', 'pid=,ppid=,pgid='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number))
      .filter((f) => f.length === 3 && f.every(Number.isInteger))
      .map(([pid, ppid, pgid]) => ({ pid: pid!, ppid: ppid!, pgid: pgid! }));
  } catch {
    return [];
  }
}

/** `root`, the process group it leads, all their descendants, and every process in their process groups (but `spareGroup`). */
function descendants(all: Proc[], root: number, spareGroup: number | null): Proc[] {
  const found = new Map<number, Proc>();
  // The root may be dead already: its process group (the child leads its own) still names what it left.
  for (const p of all) if (p.pid === root || p.pgid === root) found.set(p.pid, p);
  for (let grew = true; grew;) {
    grew = false;
    const groups = new Set([...found.values()].map((f) => f.pgid));
    for (const p of all) {
      if (found.has(p.pid)) continue;
      if (found.has(p.ppid) || (p.pgid !== spareGroup && groups.has(p.pgid))) {
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
