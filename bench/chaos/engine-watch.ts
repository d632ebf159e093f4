/**
 * Samples the run's job processes from /proc (Linux): which runs (job marks) are alive at each
 * moment, on which cluster, and which worker started them. Catches what the call journal cannot:
 * two engines alive on one cluster at once even when the older one makes no provider call. Reads
 * asynchronously, so the chaos run's own clients and timers keep their pace.
 *
 * A process belongs to this run when its environment carries the run's journal variable (every job
 * process inherits it; nothing else has it). Its cluster is the stack's work directory, the working
 * directory of the Pulumi CLI and its plugins (`<dataDir>/workspaces/<cluster>`).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

const JOB_COMMAND = /child-entry|dynamic-provider|pulumi-resource|\/pulumi |\/pulumi$|pulumi-language/;

/** What was seen of one run (job mark). */
export interface MarkSighting {
  mark: string;
  /** Parents the run's child was seen with: the worker that forked it, then whoever adopted it if that worker died. */
  childParents: number[];
  cluster: string | null;
  /** Milliseconds since the epoch. */
  firstSeen: number;
  /** Milliseconds since the epoch. */
  lastSeen: number;
  /** When a process of its engine (the Pulumi CLI or a plugin, not the job child) was last seen; null if never. Milliseconds since the epoch. */
  engineLastSeen: number | null;
}

/** One sample: the marks alive at `at`. */
export interface Snapshot {
  at: number;
  marks: string[];
}

export interface EngineWatch {
  marks: Map<string, MarkSighting>;
  snapshots: Snapshot[];
}

/** A moment two runs were alive on one cluster. */
export interface TogetherSighting {
  at: number;
  cluster: string;
  marks: string[];
}

async function sample(
  needle: string,
  workspaces: string,
): Promise<Array<{ mark: string; ppid: number; child: boolean; cluster: string | null }>> {
  const found: Array<{ mark: string; ppid: number; child: boolean; cluster: string | null }> = [];
  const entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
  await Promise.all(
    entries.map(async (pid) => {
      try {
        const cmd = (await readFile(`/proc/${pid}/cmdline`, 'latin1')).split('\0').join(' ');
        if (!JOB_COMMAND.test(cmd)) return;
        const environ = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
        if (!environ.includes(needle)) return;
        const mark = environ.find((v) => v.startsWith('CLUSTERD_JOB_MARK='))?.slice('CLUSTERD_JOB_MARK='.length);
        if (!mark) return;
        const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
        const cluster = cwd.startsWith(`${workspaces}/`) ? cwd.slice(workspaces.length + 1).split('/')[0]! : null;
        found.push({ mark, ppid, child: cmd.includes('child-entry'), cluster });
      } catch {
        // Exited while we looked, or a zombie.
      }
    }),
  );
  return found;
}

/**
 * Samples every `everyMs` until `stop()`. `journalVar` is the run's `LOCAL_FILES_JOURNAL=<path>`
 * entry; `workspaces` is `<dataDir>/workspaces`.
 */
export function watchEngines(
  journalVar: string,
  workspaces: string,
  everyMs = 400,
): { stop(): Promise<EngineWatch>; alive(): Promise<string[]> } {
  const watch: EngineWatch = { marks: new Map(), snapshots: [] };
  let running = true;
  const once = async () => {
    const at = Date.now();
    const seen = await sample(journalVar, workspaces);
    for (const p of seen) {
      const m = watch.marks.get(p.mark) ?? {
        mark: p.mark,
        childParents: [],
        cluster: null,
        firstSeen: at,
        lastSeen: at,
        engineLastSeen: null,
      };
      m.lastSeen = at;
      if (!p.child) m.engineLastSeen = at;
      m.cluster ??= p.cluster;
      if (p.child && !m.childParents.includes(p.ppid)) m.childParents.push(p.ppid);
      watch.marks.set(p.mark, m);
    }
    watch.snapshots.push({ at, marks: [...new Set(seen.map((p) => p.mark))] });
    return seen;
  };
  const loop = (async () => {
    while (running) {
      await once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return watch;
    },
    /** Job marks alive right now. */
    async alive() {
      return [...new Set((await once()).map((p) => p.mark))];
    },
  };
}

/**
 * Moments at which two runs were alive on one cluster. `clusterOf` names a mark's cluster (from the
 * sampler or the journal).
 */
export function runsAliveTogether(snapshots: readonly Snapshot[], clusterOf: (mark: string) => string | null): TogetherSighting[] {
  const found: TogetherSighting[] = [];
  for (const s of snapshots) {
    const byCluster = new Map<string, string[]>();
    for (const mark of s.marks) {
      const cluster = clusterOf(mark);
      if (cluster) byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), mark]);
    }
    for (const [cluster, marks] of byCluster) if (marks.length > 1) found.push({ at: s.at, cluster, marks });
  }
  return found;
}
