/** Finds processes by what they run and where, from /proc: proof of how many CLI processes a service started. */
import { readdir, readFile, readlink } from 'node:fs/promises';

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
