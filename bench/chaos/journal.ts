/**
 * Reading the test blueprint's call journal (see test/blueprints/local-files.ts) for runs that
 * overlapped.
 *
 * Why the journal and not the records: every write a lane holder makes to the records is fenced, so
 * a run that goes on after its worker lost the lane leaves no trace there; it only shows where it
 * acts, in the "cloud". Each line of the journal is one provider call of one run (its job mark, which
 * every process of one attempt carries and no other attempt shares), and the kernel orders appends to
 * one file, so the file order is the true order of the calls. Runs on one cluster that never overlap
 * appear as contiguous blocks: A A A B B C C. A run whose mark shows up again after another run's
 * (A B A) was still calling the provider, changing or reading the cluster, after the other had begun:
 * two engines on one cluster at once. This misses overlaps in which the older run made no call after
 * the newer one began; the process sampler (engine-watch.ts) covers those.
 */
import type { JournalLine } from '../../test/blueprints/local-files.js';

/** Two runs on one cluster at once: `mark` called the provider again after `intruder` had started. */
export interface Interleaving {
  cluster: string;
  /** The run that came back. */
  mark: string;
  /** A run that had called the provider in between. */
  intruder: string;
  /** The intruder's first call on the cluster. Milliseconds since the epoch. */
  intruderAt: number;
  /** The returning run's next call after it. Milliseconds since the epoch. */
  returnAt: number;
  /** That call, e.g. `update end pools/default.json`. */
  returnCall: string;
}

/** The cluster a resource file belongs to: `<dataDir>/local-clusters/<cluster>/...`. */
export function clusterOfFile(file: string): string | null {
  return /\/local-clusters\/([^/]+)\//.exec(file)?.[1] ?? null;
}

/** Parses the journal file's text; a torn last line (a writer killed mid-append) is skipped. */
export function parseJournal(text: string): JournalLine[] {
  const lines: JournalLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    try {
      lines.push(JSON.parse(raw) as JournalLine);
    } catch {
      // Only a killed writer's partial line can fail to parse.
    }
  }
  return lines;
}

/** Every pair of runs that interleaved on a cluster, once per pair, in journal order. */
export function findInterleavings(lines: readonly JournalLine[]): Interleaving[] {
  const found: Interleaving[] = [];
  const reported = new Set<string>();
  const perCluster = new Map<string, JournalLine[]>();
  for (const line of lines) {
    const cluster = clusterOfFile(line.file);
    if (!cluster || !line.mark) continue;
    const list = perCluster.get(cluster) ?? [];
    list.push(line);
    perCluster.set(cluster, list);
  }
  for (const [cluster, list] of perCluster) {
    const lastIndex = new Map<string, number>();
    list.forEach((line, i) => {
      const mark = line.mark!;
      const previous = lastIndex.get(mark);
      if (previous !== undefined && previous !== i - 1) {
        for (const between of list.slice(previous + 1, i)) {
          const intruder = between.mark!;
          const key = `${cluster} ${mark} ${intruder}`;
          if (intruder === mark || reported.has(key)) continue;
          reported.add(key);
          const intruderAt = list.find((l) => l.mark === intruder)!.at;
          found.push({
            cluster,
            mark,
            intruder,
            intruderAt,
            returnAt: line.at,
            returnCall: `${line.call} ${line.phase} ${line.file.split(`/${cluster}/`)[1] ?? line.file}`,
          });
        }
      }
      lastIndex.set(mark, i);
    });
  }
  return found;
}

/** One attempt of an operation, from its `status: running` event. */
export interface AttemptStart {
  cluster: string;
  operationId: string;
  attempt: number;
  /** Milliseconds since the epoch. */
  at: number;
}

/**
 * The attempt each run (job mark) belongs to: the latest attempt started on its cluster before its
 * first provider call. Lanes let one attempt run per cluster at a time and every attempt records its
 * start before its engine starts, so this is exact unless runs overlapped, and then it still names
 * the attempt each run began in.
 */
export function attributeMarks(lines: readonly JournalLine[], attempts: readonly AttemptStart[]): Map<string, AttemptStart> {
  const firstCall = new Map<string, { cluster: string; at: number }>();
  for (const line of lines) {
    const cluster = clusterOfFile(line.file);
    if (line.mark && cluster && !firstCall.has(line.mark)) firstCall.set(line.mark, { cluster, at: line.at });
  }
  const byCluster = new Map<string, AttemptStart[]>();
  for (const a of attempts) byCluster.set(a.cluster, [...(byCluster.get(a.cluster) ?? []), a]);
  for (const list of byCluster.values()) list.sort((a, b) => a.at - b.at);
  const owners = new Map<string, AttemptStart>();
  for (const [mark, { cluster, at }] of firstCall) {
    const owner = (byCluster.get(cluster) ?? []).filter((a) => a.at <= at).at(-1);
    if (owner) owners.set(mark, owner);
  }
  return owners;
}
