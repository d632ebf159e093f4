import { readdirSync, readFileSync } from 'node:fs';
/** Finds processes by what they run and where, from /proc. */
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Processes of a job run by a service under `dataDir` (its child process, the Pulumi CLI and the
 * provider plugins): their environment names the data directory and their command line is the
 * job's child entry or a Pulumi binary. The service's own processes are not among them.
 */
export function jobProcessesOf(dataDir: string): Array<{ pid: number; cmd: string; environ: string[] }> {
  const candidates: Array<{ pid: number; cmd: string; environ: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ');
      if (!/child-entry|dynamic-provider|pulumi-resource|\/pulumi |\/pulumi$|pulumi-language/.test(cmd)) continue;
      candidates.push({
        pid: Number(entry),
        cmd: cmd.slice(0, 400),
        environ: readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0'),
      });
    } catch {
      // Gone meanwhile.
    }
  }
  // Pulumi's processes name the data directory (PULUMI_HOME); the job's child shares their job mark.
  const marks = new Set(
    candidates
      .filter((p) => p.environ.some((v) => v.includes(dataDir)))
      .flatMap((p) => p.environ.filter((v) => v.startsWith('CLUSTERD_JOB_MARK='))),
  );
  return candidates.filter((p) => p.environ.some((v) => v.includes(dataDir) || marks.has(v)));
}

/** An operation's `status` events, read from its finished event stream. */
export function statusEvents(sse: string): Array<Record<string, unknown>> {
  return sse
    .split('\n\n')
    .filter((block) => /^event: status$/m.test(block))
    .map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]!).data as Record<string, unknown>);
}

/** Pids of the live children of `parent` whose command name is `name` (Linux /proc). */
export async function childrenNamed(parent: number, name: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    // `pid (comm) state ppid ...`; comm may itself hold spaces or parentheses.
    const m = stat && /^(\d+) \((.*)\) \S+ (\d+) /.exec(stat);
    if (m && m[2] === name && Number(m[3]) === parent) found.push(Number(m[1]));
  }
  return found;
}

export interface ProcessInfo {
  pid: number;
  cmdline: string;
}

/** Processes whose working directory is `cwd` and whose command line includes `text`. */
export async function processesIn(cwd: string, text: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/cwd`)) !== cwd) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Samples {@link processesIn} until stopped: the most seen at once, and every pid seen. */
export function watchProcesses(cwd: string, text: string, everyMs = 20) {
  let peak = 0;
  const pids = new Set<number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = await processesIn(cwd, text);
      peak = Math.max(peak, now.length);
      for (const p of now) pids.add(p.pid);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, started: pids.size };
    },
  };
}
