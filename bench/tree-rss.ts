/**
 * Resident memory of whole process trees (a worker, the child it forks per operation, the Pulumi
 * CLI and the plugins beneath them), sampled on an interval from /proc. Linux only.
 *
 * The figure is the sum of each process's RSS, so pages shared between processes (the node binary,
 * shared libraries) count once per process: an upper bound on what the trees really hold.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());

/** A memory field of /proc/<pid>/status (`VmRSS`, `VmHWM`: the peak) in MiB. */
export function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** One process as /proc/<pid>/stat tells it. */
export interface ProcessStat {
  /** The command name (15 characters at most). */
  comm: string;
  ppid: number;
  rssBytes: number;
  /** CPU used so far, user and system, in clock ticks (USER_HZ). */
  cpuTicks: number;
}

/** Every process readable now, by pid. */
export function processTable(): Map<number, ProcessStat> {
  const table = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 4 (ppid), 14-15 (utime, stime) and 24 (rss, in pages) of proc(5): indexes 1, 11-12 and 21 after the name.
      table.set(Number(entry), {
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        ppid: Number(fields[1]),
        cpuTicks: Number(fields[11]) + Number(fields[12]),
        rssBytes: Number(fields[21]) * PAGE_BYTES,
      });
    } catch {
      // Exited while we listed it.
    }
  }
  return table;
}

/** pid -> its children's pids. */
function childrenIndex(table: Map<number, ProcessStat>): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  return children;
}

/** Total RSS in bytes of `roots` and all their descendants, in `table`. */
function subtreeRss(table: Map<number, ProcessStat>, children: Map<number, number[]>, roots: number[]): number {
  let total = 0;
  const seen = new Set<number>();
  const stack = roots.filter((pid) => table.has(pid));
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += table.get(pid)!.rssBytes;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Total RSS in bytes of `roots` and all their descendants. */
export function treeRssBytes(roots: number[]): number {
  const table = processTable();
  return subtreeRss(table, childrenIndex(table), roots);
}

/** Samples the trees under `roots()` every `intervalMs` until `stop()`, which returns the peak and the first sample. */
export function sampleTreeRss(
  roots: () => number[],
  intervalMs = 200,
): { stop(): { peakBytes: number; firstBytes: number; samples: number } } {
  let peakBytes = 0;
  let firstBytes: number | null = null;
  let samples = 0;
  const sample = () => {
    const bytes = treeRssBytes(roots());
    firstBytes ??= bytes;
    peakBytes = Math.max(peakBytes, bytes);
    samples++;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peakBytes, firstBytes: firstBytes ?? 0, samples };
    },
  };
}

/** Peak RSS seen of each part of the running operations under one worker, in bytes. */
export interface OperationParts {
  /** The job's own child process (Node: the SDK, the blueprint, the program) while its operation runs. */
  child: number;
  /** The Pulumi CLI processes it starts. */
  cli: number;
  /** The plugins (providers, language host) under the CLI. */
  plugins: number;
  /** A spare job process, started and loaded, before it is given an operation. */
  spare: number;
}

/**
 * Samples the worker's job processes every `intervalMs` until `stop()`: a job process with a child
 * of its own (the CLI) is running an operation, one without is a spare waiting. Peaks per part.
 */
export function sampleOperationParts(workerPid: number, intervalMs = 100): { stop(): OperationParts } {
  const peaks: OperationParts = { child: 0, cli: 0, plugins: 0, spare: 0 };
  const sample = () => {
    const table = processTable();
    const children = childrenIndex(table);
    for (const job of children.get(workerPid) ?? []) {
      const clis = children.get(job) ?? [];
      const own = table.get(job)!.rssBytes;
      if (!clis.length) peaks.spare = Math.max(peaks.spare, own);
      else peaks.child = Math.max(peaks.child, own);
      for (const cli of clis) {
        peaks.cli = Math.max(peaks.cli, table.get(cli)!.rssBytes);
        peaks.plugins = Math.max(peaks.plugins, subtreeRss(table, children, children.get(cli) ?? []));
      }
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}
